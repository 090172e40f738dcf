"""The image pipeline: ffikit zero-copy blur vs the C call alone, the tutorial's memmove
version, NumPy, and 2 worker processes over shared memory (1024x1024x3, 5x5 Gaussian).

One call takes tens of milliseconds and the machine is shared, so the variants are timed
**interleaved**: each round times every variant once (in rotating order) and each row is
the median over rounds.  Load that drifts during the run then hits every row alike.

Run: ``python benchmarks/bench_imaging.py`` (``--quick`` for 256x256).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "imaging"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import imaging  # noqa: E402
from harness import Row, finish, table  # noqa: E402


def interleaved_ns(variants: dict, rounds: int) -> dict:
    """Median ns per variant, timing one call of each per round in rotating order."""
    samples: dict = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter_ns()
            variants[name]()
            samples[name].append(time.perf_counter_ns() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def rows(quick: bool = False) -> list[Row]:
    side = 256 if quick else 1024
    image = imaging.make_test_image(side, side, 3)
    kernel = imaging.gaussian_kernel(5, 1.0)
    out = imaging.np.empty_like(image)
    src_struct, dst_struct = imaging.image_struct(image), imaging.image_struct(out)
    rounds = 7 if quick else 41
    group = f"blur {side}x{side}x3"
    with imaging.SharedImage(image.shape) as src, imaging.SharedImage(image.shape) as dst:
        src.array[...] = image
        imaging.gaussian_blur(src, out=dst, workers=2)  # start the worker once
        variants = {
            "C call only": lambda: imaging.blur_kernel_only(src_struct, dst_struct, kernel),
            "ffikit zero-copy": lambda: imaging.gaussian_blur(image, out=out),
            "ffikit zero-copy, new output": lambda: imaging.gaussian_blur(image),
            "ctypes + memmove": lambda: imaging.blur_memmove(image),
            "shared, 1 process": lambda: imaging.gaussian_blur(src, out=dst),
            "shared, 2 processes": lambda: imaging.gaussian_blur(src, out=dst, workers=2),
        }
        for fn in variants.values():  # warm caches, page tables and the worker
            fn()
        ns = interleaved_ns(variants, rounds)
        numpy_ns = interleaved_ns({"numpy": lambda: imaging.blur_numpy(image)},
                                  max(3, rounds // 8))["numpy"]
    imaging.shutdown_workers()
    anchor = "C call only"
    return [
        Row(group, anchor, ns[anchor], anchor, note="prebuilt structs"),
        Row(group, "ffikit zero-copy", ns["ffikit zero-copy"], anchor),
        Row(group, "ffikit zero-copy, new output", ns["ffikit zero-copy, new output"], anchor),
        Row(group, "ctypes + memmove", ns["ctypes + memmove"], anchor),
        Row(group, "NumPy vectorised", numpy_ns, anchor),
        Row(f"{group}, shared memory", "1 process", ns["shared, 1 process"], "1 process"),
        Row(f"{group}, shared memory", "2 processes", ns["shared, 2 processes"], "1 process"),
        Row(f"{group}, ffikit vs tutorial", "ctypes + memmove", ns["ctypes + memmove"],
            "ctypes + memmove"),
        Row(f"{group}, ffikit vs tutorial", "ffikit zero-copy, new output",
            ns["ffikit zero-copy, new output"], "ctypes + memmove"),
    ]


if __name__ == "__main__":
    print(table(finish(rows(quick="--quick" in sys.argv))))
