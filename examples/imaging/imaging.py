"""The image-convolution case study: a C kernel called on NumPy images without copies.

The ctypes tutorial (SCENARIOS S3.7) wraps ``convolve.c`` by copying the NumPy
image into a C-allocated ``Image`` with ``memmove`` and copying the result back
out.  Here ``Image.data`` points straight at the NumPy buffers: C reads the
input array and writes the output array in place, and nothing is copied.

Methods (all agree to within 1 grey level):

- :func:`gaussian_blur` — ffikit, zero-copy; ``workers=N`` splits the rows
  across N processes that attach to the same named shared memory.
- :func:`blur_memmove` — the tutorial's raw-ctypes copy-in/copy-out version.
- :func:`blur_numpy` — vectorised NumPy: a sum of shifted slices.
- :func:`blur_python` — pure Python loops (use a small crop).
- :func:`blur_kernel_only` — just the C call, on prebuilt structs (the floor).

Lifetime: :func:`image_struct` returns an ``Image`` whose ``data`` points into
the array; ffikit's struct pointer members keep what they point at alive (and
unresizable) for as long as the struct refers to it, so the pointer cannot dangle.
"""

from __future__ import annotations

import ctypes
import functools
import math
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

import ffikit

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "convolve.c"

DECLARATIONS = """
typedef struct { int width; int height; int channels; uint8_t *data; } Image;
Image *create_image(int width, int height, int channels);
void free_image(Image *img);
int apply_convolution(Image *src, Image *dst, const float *kernel, int ksize);
int apply_convolution_rows(Image *src, Image *dst, const float *kernel, int ksize,
                           int row_begin, int row_end);
"""

ERROR_CODES = {-1: "out of memory", -2: "bad argument"}


class CopyMeter:
    """Counts bytes copied between Python and C memory by the methods here."""

    bytes = 0

    @classmethod
    def add(cls, n: int) -> None:
        cls.bytes += n

    @classmethod
    def take(cls) -> int:
        n, cls.bytes = cls.bytes, 0
        return n


@functools.cache
def library() -> Any:
    """Build ``convolve.c`` (cached by content) and load it with its declarations."""
    path = ffikit.build([SOURCE], name="convolve", flags=("-O3",))
    lib = ffikit.load(path, DECLARATIONS)
    lib.apply_convolution.errors = ffikit.check.nonzero(ERROR_CODES)
    lib.apply_convolution_rows.errors = ffikit.check.nonzero(ERROR_CODES)
    return lib


def _check_image(image: np.ndarray, who: str) -> tuple[int, int, int]:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError(f"{who}: image must be a uint8 NumPy array (got {type(image).__name__}"
                        f"{' of ' + str(image.dtype) if isinstance(image, np.ndarray) else ''})")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"{who}: image must be HxW or HxWxC (got shape {image.shape})")
    if not image.flags.c_contiguous:
        raise ValueError(f"{who}: image must be C-contiguous; use np.ascontiguousarray(image)")
    h, w, c = image.shape
    return h, w, c


def image_struct(array: np.ndarray) -> Any:
    """An ``Image`` whose ``data`` points at ``array``'s buffer (zero-copy).

    The struct keeps ``array`` alive while it refers to it, so the data
    pointer never dangles.  Writes by C land in ``array``.
    """
    h, w, c = _check_image(array, "image_struct")
    lib = library()
    img = lib.defs.Image(width=w, height=h, channels=c)
    img.data = array  # zero-copy: the address of array's buffer, kept alive by img
    return img


def gaussian_kernel(ksize: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A normalised ``ksize x ksize`` float32 Gaussian kernel (``ksize`` odd)."""
    if ksize <= 0 or ksize % 2 == 0:
        raise ValueError(f"gaussian_kernel: ksize must be odd and positive (got {ksize})")
    if sigma <= 0:
        raise ValueError(f"gaussian_kernel: sigma must be positive (got {sigma})")
    r = ksize // 2
    ax = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2.0 * sigma * sigma))
    return (g / g.sum()).astype(np.float32)


# ---------------------------------------------------------------------------
# ffikit, zero-copy


def gaussian_blur(image: np.ndarray | SharedImage, ksize: int = 5, sigma: float = 1.0,
                  workers: int = 1, out: np.ndarray | SharedImage | None = None):
    """Blur ``image`` with a Gaussian kernel in C, without copying it.

    Parameters
    ----------
    image
        ``uint8`` array, HxW or HxWxC, C-contiguous; or a :class:`SharedImage`.
    ksize, sigma
        Kernel size (odd) and standard deviation.
    workers
        ``1`` runs in this process.  ``N > 1`` splits the rows across N
        processes which attach to the input and output by shared-memory name;
        pass a :class:`SharedImage` (and optionally ``out``) for no copies at
        all, otherwise the array is copied into shared memory once and the
        result once out (counted by :class:`CopyMeter`).
    out
        Where to write the result (same shape); default a new array (or a new
        :class:`SharedImage` when ``image`` is one).

    Returns
    -------
    numpy.ndarray or SharedImage
        ``out``, filled.  The caller owns a returned SharedImage (close it).
    """
    kernel = gaussian_kernel(ksize, sigma)
    if workers > 1:
        return _blur_parallel(image, kernel, workers, out)
    src = image.array if isinstance(image, SharedImage) else image
    if out is None:
        out = SharedImage(src.shape) if isinstance(image, SharedImage) else np.empty_like(src)
    dst = out.array if isinstance(out, SharedImage) else out
    if dst.shape != src.shape or dst.dtype != np.uint8:
        raise ValueError(f"gaussian_blur: out must be uint8 with shape {src.shape} "
                         f"(got {dst.dtype} {dst.shape})")
    library().apply_convolution(image_struct(src), image_struct(dst), kernel, ksize)
    return out


def blur_kernel_only(src_struct: Any, dst_struct: Any, kernel: np.ndarray) -> None:
    """The C call alone, on prebuilt structs: the floor for :func:`gaussian_blur`."""
    library().apply_convolution(src_struct, dst_struct, kernel, kernel.shape[0])


# ---------------------------------------------------------------------------
# workers over named shared memory


class SharedImage:
    """A uint8 image in named shared memory (``ffikit.shared``), seen as ``.array``.

    The creator owns the block: :meth:`close` unlinks it.  Other processes
    attach with ``SharedImage(shape, name=..., create=False)``.
    """

    def __init__(self, shape: tuple[int, ...], name: str | None = None, create: bool = True):
        self.shape = tuple(shape)
        nbytes = math.prod(self.shape)
        self.block = ffikit.shared(name, "uint8_t", nbytes, create=create)
        self.name = self.block.name
        self.array: np.ndarray = np.frombuffer(self.block.buf, dtype=np.uint8).reshape(self.shape)

    def close(self) -> None:
        """Drop this process's mapping (and the name, if this process created it)."""
        if self.block.view is None:
            return
        del self.array
        self.block.__exit__(None, None, None)

    def __enter__(self) -> SharedImage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SharedImage {self.name!r} {self.shape}>"


_executors: dict[int, Executor] = {}


def _executor(processes: int) -> Executor:
    """A process pool kept for reuse (starting processes per call would cost more than the blur)."""
    pool = _executors.get(processes)
    if pool is None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context(method),
                                   initializer=library)
        _executors[processes] = pool
    return pool


def shutdown_workers() -> None:
    """Stop the worker processes started by ``gaussian_blur(workers=N)``."""
    while _executors:
        _executors.popitem()[1].shutdown()
    while _attached:
        _attached.popitem()[1].close()


_attached: dict[str, SharedImage] = {}  # in a worker: recently used images, by name
_ATTACH_CACHE = 4


def _attach(name: str, shape: tuple[int, ...]) -> SharedImage:
    """Attach to a named image, reusing a recent mapping (mapping anew costs page faults)."""
    image = _attached.pop(name, None)
    if image is None or image.shape != shape:
        if image is not None:
            image.close()
        image = SharedImage(shape, name, create=False)
        while len(_attached) >= _ATTACH_CACHE:
            _attached.pop(next(iter(_attached))).close()
    _attached[name] = image
    return image


def _blur_rows(src_name: str, dst_name: str, shape: tuple[int, ...], kernel: bytes, ksize: int,
               row_begin: int, row_end: int) -> int:
    """Worker: attach to both images by name and convolve rows [row_begin, row_end)."""
    weights = np.frombuffer(kernel, dtype=np.float32)
    src, dst = _attach(src_name, shape), _attach(dst_name, shape)
    library().apply_convolution_rows(image_struct(src.array), image_struct(dst.array), weights,
                                     ksize, row_begin, row_end)
    return os.getpid()


def _blur_parallel(image, kernel: np.ndarray, workers: int, out):
    """Rows split in ``workers`` bands: all but the last go to worker processes,
    the last is done here, while they run."""
    given_shared = isinstance(image, SharedImage)
    if not given_shared:
        _check_image(image, "gaussian_blur")
        src = SharedImage(image.shape)
        src.array[...] = image
        CopyMeter.add(image.nbytes)
    else:
        src = image
    dst = out if isinstance(out, SharedImage) else SharedImage(src.shape)
    ksize = kernel.shape[0]
    try:
        h = src.shape[0]
        bounds = [h * i // workers for i in range(workers + 1)]
        bands = [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
        pool = _executor(workers - 1)
        jobs = [pool.submit(_blur_rows, src.name, dst.name, src.shape, kernel.tobytes(), ksize,
                            a, b) for a, b in bands[:-1]]
        a, b = bands[-1]
        library().apply_convolution_rows(image_struct(src.array), image_struct(dst.array), kernel,
                                         ksize, a, b)
        for job in jobs:
            job.result()
        if given_shared and (out is None or isinstance(out, SharedImage)):
            return dst
        result = out if out is not None else np.empty(src.shape, np.uint8)
        result[...] = dst.array
        CopyMeter.add(result.nbytes)
        return result
    finally:
        if not given_shared:
            src.close()
        if dst is not out and not given_shared:
            dst.close()


# ---------------------------------------------------------------------------
# the tutorial's raw ctypes version: copy in, call, copy out


class RawImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int),
                ("channels", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_uint8))]


@functools.cache
def _raw_library() -> ctypes.CDLL:
    lib = ctypes.CDLL(ffikit.build([SOURCE], name="convolve", flags=("-O3",)))
    lib.create_image.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.create_image.restype = ctypes.POINTER(RawImage)
    lib.free_image.argtypes = [ctypes.POINTER(RawImage)]
    lib.free_image.restype = None
    lib.apply_convolution.argtypes = [ctypes.POINTER(RawImage), ctypes.POINTER(RawImage),
                                      ctypes.POINTER(ctypes.c_float), ctypes.c_int]
    lib.apply_convolution.restype = ctypes.c_int
    return lib


def blur_memmove(image: np.ndarray, ksize: int = 5, sigma: float = 1.0) -> np.ndarray:
    """The tutorial's way: ``memmove`` the image into C memory and the result out."""
    h, w, c = _check_image(image, "blur_memmove")
    lib = _raw_library()
    kernel = gaussian_kernel(ksize, sigma)
    src = lib.create_image(w, h, c)
    dst = lib.create_image(w, h, c)
    try:
        ctypes.memmove(src.contents.data, image.ctypes.data, image.nbytes)
        CopyMeter.add(image.nbytes)
        rc = lib.apply_convolution(src, dst, kernel.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                   ksize)
        if rc != 0:
            raise RuntimeError(f"apply_convolution failed: {rc}")
        result = np.empty_like(image)
        ctypes.memmove(result.ctypes.data, dst.contents.data, image.nbytes)
        CopyMeter.add(image.nbytes)
        return result
    finally:
        lib.free_image(src)
        lib.free_image(dst)


# ---------------------------------------------------------------------------
# NumPy and pure Python references


def blur_numpy(image: np.ndarray, ksize: int = 5, sigma: float = 1.0) -> np.ndarray:
    """Vectorised NumPy: sum of shifted slices, renormalised by in-bounds weights."""
    h, w, c = _check_image(image, "blur_numpy")
    img = image.reshape(h, w, c)
    kernel = gaussian_kernel(ksize, sigma)
    r = ksize // 2
    acc = np.zeros((h, w, c), np.float32)
    wsum = np.zeros((h, w), np.float64)
    for ky in range(ksize):
        dy = ky - r
        ys, yd = slice(max(0, dy), min(h, h + dy)), slice(max(0, -dy), min(h, h - dy))
        for kx in range(ksize):
            dx = kx - r
            xs, xd = slice(max(0, dx), min(w, w + dx)), slice(max(0, -dx), min(w, w - dx))
            acc[yd, xd] += kernel[ky, kx] * img[ys, xs]
            wsum[yd, xd] += kernel[ky, kx]
    scale = (1.0 / wsum.astype(np.float32))[:, :, None]
    out = np.clip(np.floor(acc * scale + np.float32(0.5)), 0, 255).astype(np.uint8)
    return out.reshape(image.shape)


def blur_python(image: np.ndarray, ksize: int = 5, sigma: float = 1.0) -> np.ndarray:
    """Pure Python loops over pixels: the speed the C kernel replaces (use a crop)."""
    h, w, c = _check_image(image, "blur_python")
    kernel = gaussian_kernel(ksize, sigma).tolist()
    pixels = image.reshape(h, w, c).tolist()
    r = ksize // 2
    out = [[[0] * c for _ in range(w)] for _ in range(h)]
    for y in range(h):
        for x in range(w):
            sums = [0.0] * c
            wsum = 0.0
            for ky in range(ksize):
                yy = y + ky - r
                if not 0 <= yy < h:
                    continue
                row = pixels[yy]
                for kx in range(ksize):
                    xx = x + kx - r
                    if not 0 <= xx < w:
                        continue
                    weight = kernel[ky][kx]
                    wsum += weight
                    px = row[xx]
                    for ch in range(c):
                        sums[ch] += weight * px[ch]
            for ch in range(c):
                out[y][x][ch] = min(255, max(0, math.floor(sums[ch] / wsum + 0.5)))
    return np.array(out, dtype=np.uint8).reshape(image.shape)


def make_test_image(height: int = 1024, width: int = 1024, channels: int = 3, seed: int = 7) -> np.ndarray:
    """A deterministic test image: gradients, rings and a checkerboard, plus fixed noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = height / 2, width / 2
    rings = 127.5 + 127.5 * np.sin(np.hypot(y - cy, x - cx) / max(4.0, min(height, width) / 40))
    checker = (((y // max(1, height // 16)) + (x // max(1, width // 16))) % 2) * 255.0
    gradient = 255.0 * x / max(1, width - 1)
    planes = [gradient, rings, checker]
    noise = np.random.default_rng(seed).integers(-20, 21, size=(height, width, channels))
    image = np.stack([planes[i % 3] for i in range(channels)], axis=-1) + noise
    return np.clip(image, 0, 255).astype(np.uint8)


if __name__ == "__main__":  # a quick look: python examples/imaging/imaging.py
    picture = make_test_image(512, 512, 3)
    blurred = gaussian_blur(picture)
    worst = int(np.abs(blurred.astype(int) - blur_numpy(picture)).max())
    print(f"blurred {picture.shape} in C without copies; max difference from NumPy: {worst}")
