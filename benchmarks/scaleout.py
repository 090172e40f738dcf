"""The imaging kernel beyond one process: one process vs a process pool vs Dask.

Blurs a 4096x4096x3 image (48 MiB) with the case study's C kernel
(examples/imaging/convolve.c, via ffikit) three ways and prints wall time and
bytes copied per run:

- one process: ``imaging.gaussian_blur`` (zero-copy, the reference result);
- ``ProcessPoolExecutor``, 2 spawned processes, image and result in
  ``ffikit.shared`` blocks: the bound function, the struct class and the
  blocks travel by pickle (recipes and names: a few hundred bytes per task);
  shown with the image already in shared memory, and with one copy in and
  one out;
- Dask ``map_overlap`` on a ``distributed.LocalCluster`` of 2 worker
  processes (loopback): chunks, halos and results travel over sockets; shown
  with the NumPy image in the graph, and with the image in an ``ffikit.shared``
  block that the graph names (workers read their chunks in place).

Not part of ``make bench``/the test suite (it starts processes and a
cluster): run ``python benchmarks/scaleout.py [--size N] [--rounds R]``.
Needs ``pip install ffikit[dask]``.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import sys
import time
from pathlib import Path

import dask.array as da
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "imaging"))
import dask_blur  # noqa: E402
import imaging  # noqa: E402

import ffikit  # noqa: E402


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=4096, help="image side (default 4096)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds, best kept")
    args = ap.parse_args(argv)
    image = imaging.make_test_image(args.size, args.size, 3)
    nbytes = image.nbytes
    lib = imaging.library()
    expected = imaging.gaussian_blur(image)
    chunks = (max(256, args.size // 4), args.size)  # 4 row bands: 2 per worker

    src = ffikit.shared(None, "uint8_t", math.prod(image.shape))
    dst = ffikit.shared(None, "uint8_t", math.prod(image.shape))
    np.frombuffer(src.buf, np.uint8)[:] = image.reshape(-1)  # set-up: the app's data lives here
    task = (lib.apply_convolution_rows, lib.defs.Image, src, dst, image.shape,
            imaging.gaussian_kernel(), 0, args.size // 2)
    per_task = len(pickle.dumps(task, protocol=5))
    shared_image = dask_blur.SharedArray(src, image.shape)  # pickles as the block's name

    best: dict[str, float] = {}
    copied: dict[str, int] = {}
    with dask_blur.process_pool(2) as pool, dask_blur.local_cluster(2) as client:
        dask_blur.pool_blur(image, pool=pool, out=(src, dst))  # warm-up: spawn, load, bind
        dask_blur.dask_blur(image, chunks=chunks).compute()
        runs = {
            "one process (zero-copy)": lambda: imaging.gaussian_blur(image),
            "ProcessPool x2, data in shared memory": lambda: dask_blur.pool_blur(
                image, pool=pool, out=(src, dst)),
            "ProcessPool x2, copy in + out": lambda: dask_blur.pool_blur(image, pool=pool),
            "Dask LocalCluster x2, NumPy image": lambda: dask_blur.dask_blur(
                image, chunks=chunks).compute(),
            "Dask LocalCluster x2, image in shared": lambda: dask_blur.dask_blur(
                da.from_array(shared_image, chunks=(*chunks, -1)), chunks=chunks).compute(),
        }
        for r in range(args.rounds):
            for label, run in runs.items():
                imaging.CopyMeter.take()
                if label.startswith("Dask"):
                    (seconds, result) = _timed(lambda run=run: dask_blur.measure_bytes_moved(run))
                    result, moved = result
                else:
                    seconds, result = _timed(run)
                    moved = imaging.CopyMeter.take()
                    if label.startswith("ProcessPool"):
                        moved += 2 * per_task  # two tasks' pickles (recipes and names)
                assert np.array_equal(np.asarray(result).reshape(image.shape), expected), label
                best[label] = min(best.get(label, math.inf), seconds)
                copied.setdefault(label, moved)
                print(f"round {r + 1}: {label}: {seconds * 1e3:.0f} ms", file=sys.stderr)
        client.cluster.close()
    src.__exit__(None, None, None)
    dst.__exit__(None, None, None)

    base = best["one process (zero-copy)"]
    print(f"C Gaussian blur 5x5 of a {args.size}x{args.size}x3 image ({nbytes:,} bytes), "
          f"best of {args.rounds} interleaved rounds, {os.cpu_count()} CPUs:\n")
    print(f"| {'method':<40} | {'wall time':>10} | {'vs 1 process':>12} | "
          f"{'bytes copied/run':>17} | {'x image':>7} |")
    print(f"| {'-' * 40} | {'-' * 9}: | {'-' * 11}: | {'-' * 16}: | {'-' * 6}: |")
    for label in runs:
        print(f"| {label:<40} | {best[label] * 1e3:>7.0f} ms | {best[label] / base:>11.2f}x | "
              f"{copied[label]:>17,} | {copied[label] / nbytes:>7.2f} |")
    print(f"\nper process-pool task: {per_task} pickled bytes (bound function + struct class "
          "+ two shared blocks by name + kernel)")
    print("Dask bytes: loopback-interface bytes sent during the run (machine-wide counter) "
          "+ one copy to assemble the result")
    return 0


if __name__ == "__main__":
    sys.exit(main())
