/* convolve.c: the image-convolution kernel of the ctypes tutorial (SCENARIOS S3.7).
 *
 * An Image is interleaved 8-bit pixels: data[(y * width + x) * channels + c].
 * apply_convolution() convolves every channel with a square ksize x ksize
 * float kernel.  At the borders only in-bounds pixels contribute and the sum is
 * renormalised by the in-bounds kernel weights, so a normalised kernel never
 * darkens the edges.  Results are rounded to nearest and clamped to 0..255.
 *
 * The loop order keeps the work streaming: for each output row, each kernel
 * tap adds weight * (a shifted source row) into a float accumulator row, a
 * loop the compiler vectorises.  apply_convolution_rows() does a row range
 * only, so several processes can share one image and split the rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int width;
    int height;
    int channels;
    uint8_t *data;
} Image;

Image *create_image(int width, int height, int channels)
{
    if (width <= 0 || height <= 0 || channels <= 0)
        return NULL;
    Image *img = malloc(sizeof *img);
    if (!img)
        return NULL;
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->data = calloc((size_t)width * height * channels, 1);
    if (!img->data) {
        free(img);
        return NULL;
    }
    return img;
}

void free_image(Image *img)
{
    if (img) {
        free(img->data);
        free(img);
    }
}

/* Sum of kernel weights over rows ky0..ky1 and columns kx0..kx1 (inclusive),
 * from the (ksize+1)^2 prefix-sum table. */
static float rect_sum(const double *prefix, int ksize, int ky0, int ky1, int kx0, int kx1)
{
    int n = ksize + 1;
    return (float)(prefix[(ky1 + 1) * n + kx1 + 1] - prefix[ky0 * n + kx1 + 1]
                   - prefix[(ky1 + 1) * n + kx0] + prefix[ky0 * n + kx0]);
}

static int max_int(int a, int b) { return a > b ? a : b; }
static int min_int(int a, int b) { return a < b ? a : b; }

/* Returns 0 on success, -1 when out of memory, -2 for bad arguments. */
int apply_convolution_rows(Image *src, Image *dst, const float *kernel, int ksize,
                           int row_begin, int row_end)
{
    if (!src || !dst || !kernel || !src->data || !dst->data || ksize <= 0 || ksize % 2 == 0)
        return -2;
    if (src->width != dst->width || src->height != dst->height || src->channels != dst->channels)
        return -2;
    const int w = src->width, h = src->height, ch = src->channels, r = ksize / 2;
    const size_t stride = (size_t)w * ch;
    row_begin = max_int(row_begin, 0);
    row_end = min_int(row_end, h);
    if (row_begin >= row_end)
        return 0;

    float *acc = malloc(stride * sizeof *acc);
    double *prefix = calloc((size_t)(ksize + 1) * (ksize + 1), sizeof *prefix);
    if (!acc || !prefix) {
        free(acc);
        free(prefix);
        return -1;
    }
    for (int i = 0; i < ksize; i++)
        for (int j = 0; j < ksize; j++)
            prefix[(i + 1) * (ksize + 1) + j + 1] = kernel[i * ksize + j]
                + prefix[i * (ksize + 1) + j + 1] + prefix[(i + 1) * (ksize + 1) + j]
                - prefix[i * (ksize + 1) + j];

    for (int y = row_begin; y < row_end; y++) {
        memset(acc, 0, stride * sizeof *acc);
        const int ky0 = max_int(0, r - y), ky1 = min_int(ksize - 1, h - 1 - y + r);
        for (int ky = ky0; ky <= ky1; ky++) {
            const uint8_t *srow = src->data + (size_t)(y + ky - r) * stride;
            for (int kx = 0; kx < ksize; kx++) {
                const float weight = kernel[ky * ksize + kx];
                const int dx = kx - r;
                const int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;
                if (x1 <= x0)
                    continue;
                float *restrict a = acc + (size_t)x0 * ch;
                const uint8_t *restrict s = srow + (size_t)(x0 + dx) * ch;
                const size_t n = (size_t)(x1 - x0) * ch;
                for (size_t i = 0; i < n; i++)
                    a[i] += weight * (float)s[i];
            }
        }
        uint8_t *drow = dst->data + (size_t)y * stride;
        const float interior = rect_sum(prefix, ksize, ky0, ky1, 0, ksize - 1);
        for (int x = 0; x < w; x++) {
            const int kx0 = max_int(0, r - x), kx1 = min_int(ksize - 1, w - 1 - x + r);
            const float wsum = (kx0 == 0 && kx1 == ksize - 1)
                ? interior : rect_sum(prefix, ksize, ky0, ky1, kx0, kx1);
            const float scale = wsum != 0.0f ? 1.0f / wsum : 1.0f;
            for (int c = 0; c < ch; c++) {
                float v = acc[(size_t)x * ch + c] * scale + 0.5f;
                drow[(size_t)x * ch + c] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
            }
        }
    }
    free(acc);
    free(prefix);
    return 0;
}

int apply_convolution(Image *src, Image *dst, const float *kernel, int ksize)
{
    if (!src)
        return -2;
    return apply_convolution_rows(src, dst, kernel, ksize, 0, src->height);
}
