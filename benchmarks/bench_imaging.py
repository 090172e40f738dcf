"""The image pipeline: ffikit zero-copy blur vs the C call alone, the tutorial's memmove
version, NumPy, and 2 worker processes over shared memory (1024x1024x3, 5x5 Gaussian).

Run: ``python benchmarks/bench_imaging.py`` (``--quick`` for 256x256).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "imaging"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import imaging  # noqa: E402
from harness import Row, finish, median_ns, table  # noqa: E402


def rows(quick: bool = False) -> list[Row]:
    side = 256 if quick else 1024
    image = imaging.make_test_image(side, side, 3)
    kernel = imaging.gaussian_kernel(5, 1.0)
    out = imaging.np.empty_like(image)
    src_struct, dst_struct = imaging.image_struct(image), imaging.image_struct(out)
    repeats = 5 if quick else 15
    group = f"blur {side}x{side}x3"
    for _ in range(10):  # warm caches, page tables and the CPU clock before the anchor row
        imaging.gaussian_blur(image, out=out)
    result = [
        Row(group, "C call only", median_ns(
            lambda: imaging.blur_kernel_only(src_struct, dst_struct, kernel), repeats=repeats),
            "C call only", note="prebuilt structs"),
        Row(group, "ffikit zero-copy", median_ns(
            lambda: imaging.gaussian_blur(image, out=out), repeats=repeats), "C call only"),
        Row(group, "ffikit zero-copy, new output", median_ns(
            lambda: imaging.gaussian_blur(image), repeats=repeats), "C call only"),
        Row(group, "ctypes + memmove", median_ns(
            lambda: imaging.blur_memmove(image), repeats=repeats), "C call only"),
        Row(group, "NumPy vectorised", median_ns(
            lambda: imaging.blur_numpy(image), repeats=max(3, repeats // 3)), "C call only"),
    ]
    with imaging.SharedImage(image.shape) as src, imaging.SharedImage(image.shape) as dst:
        src.array[...] = image
        one = median_ns(lambda: imaging.gaussian_blur(src, out=dst), repeats=repeats)
        imaging.gaussian_blur(src, out=dst, workers=2)
        two = median_ns(lambda: imaging.gaussian_blur(src, out=dst, workers=2), repeats=repeats)
    imaging.shutdown_workers()
    result += [Row(f"{group}, shared memory", "1 process", one, "1 process"),
               Row(f"{group}, shared memory", "2 processes", two, "1 process")]
    return result


if __name__ == "__main__":
    print(table(finish(rows(quick="--quick" in sys.argv))))
