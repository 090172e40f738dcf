"""The case study's C kernel beyond one process: Dask and a process pool, via pickled bindings.

Nothing here ships a library *name* or re-declares C by hand in the workers:
the bound C function (``lib.apply_convolution``) and the ``Image`` struct
class travel to the worker processes by pickle, as ffikit recipes
(library path + declarations' source + options; declarations + type name),
and are loaded again there on first use.

- :func:`dask_blur` — ``dask.array.map_overlap``: the image is cut into
  blocks, each block gets a halo of ``ksize // 2`` pixels from its
  neighbours, the C kernel blurs it in a worker, the halo is trimmed.
  ``boundary="none"`` leaves the true image edges alone, where the kernel
  renormalises as it does on the whole image, so the result equals the
  single-process kernel exactly.
- :func:`pool_blur` — ``concurrent.futures.ProcessPoolExecutor``: input and
  output live in ``ffikit.shared`` blocks, which pickle *by name* (the
  workers attach; no pixel is copied), and each worker runs
  ``apply_convolution_rows`` over its band of rows.

Run ``python examples/imaging/dask_blur.py`` for a 2-worker local cluster on
loopback (``pip install ffikit[dask]``).
"""

from __future__ import annotations

import math
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import imaging  # noqa: E402

import ffikit  # noqa: E402


def blur_block(block: np.ndarray, *, kernel: np.ndarray, convolve: Any, image_type: type
               ) -> np.ndarray:
    """Blur one block (halo included) with the C kernel, in whichever process runs it.

    ``convolve`` is the bound C function and ``image_type`` the ``Image``
    struct class, both unpickled from ffikit recipes in a worker.
    """
    if not (block.flags.c_contiguous and block.flags.writeable):
        block = np.array(block, order="C")  # a received block may be read-only: C takes uint8_t *
    out = np.empty_like(block)
    h, w, c = block.shape
    src = image_type(width=w, height=h, channels=c)
    dst = image_type(width=w, height=h, channels=c)
    src.data, dst.data = block, out  # zero-copy: the struct points at the arrays
    convolve(src, dst, kernel, kernel.shape[0])
    return out


def dask_blur(image: Any, ksize: int = 5, sigma: float = 1.0,
              chunks: tuple[int, int] = (1024, 1024)) -> Any:
    """A lazy ``dask.array`` of ``image`` blurred block-wise by the C kernel.

    ``image`` is a NumPy array or a ``dask.array`` (HxWxC uint8).  Compute it
    with ``.compute()`` under a ``distributed.Client`` to run on its workers.
    """
    import dask.array as da

    lib = imaging.library()
    kernel = imaging.gaussian_kernel(ksize, sigma)
    r = ksize // 2
    arr = image if isinstance(image, da.Array) else da.from_array(
        image, chunks=(chunks[0], chunks[1], -1))
    return arr.map_overlap(blur_block, depth={0: r, 1: r, 2: 0}, boundary="none",
                           dtype=np.uint8, kernel=kernel, convolve=lib.apply_convolution,
                           image_type=lib.defs.Image)


class SharedArray:
    """An array in an ``ffikit.shared`` block that pickles *by the block's name*.

    ``da.from_array(SharedArray(block, shape), chunks)`` puts a name in the
    task graph instead of the pixels: each worker attaches to the block (once
    per process, kept for reuse) and reads its own chunk in place, so the
    image never crosses a socket.
    """

    def __init__(self, block: Any, shape: tuple[int, ...], dtype: Any = np.uint8):
        self.block, self.shape, self.dtype = block, tuple(shape), np.dtype(dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.frombuffer(self.block.buf, self.dtype).reshape(self.shape)[index]

    def __reduce__(self):
        return (_shared_array, (self.block, self.shape, self.dtype.str))


_kept: dict[str, Any] = {}  # in a worker: attached blocks, mapped for the process's life


def _shared_array(block: Any, shape: tuple[int, ...], dtype: str) -> SharedArray:
    _kept.setdefault(block.name, block)  # chunks are views of it: keep the mapping
    return SharedArray(_kept[block.name], shape, dtype)


def local_cluster(workers: int = 2) -> Any:
    """A ``distributed.Client`` on a new LocalCluster of worker *processes*, loopback only."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           # no dashboard; its HTTP server on loopback, any free port
                           scheduler_kwargs={"dashboard": False,
                                             "dashboard_address": "127.0.0.1:0"})
    return Client(cluster)


def _loopback_bytes() -> int:
    """Bytes sent over the loopback interface so far, machine-wide (Linux; 0 elsewhere)."""
    try:
        with open("/proc/net/dev") as fh:
            for line in fh:
                name, _, fields = line.partition(":")
                if name.strip() == "lo":
                    return int(fields.split()[8])  # transmit bytes
    except (OSError, IndexError, ValueError):
        pass
    return 0


def measure_bytes_moved(run: Any) -> tuple[Any, int]:
    """Run ``run()`` and count the bytes it moved between processes.

    Everything Dask sends on a local cluster (the image's chunks, halos
    exchanged between workers, results gathered back, the task graph) crosses
    a loopback socket, so it is counted by the loopback interface's transmit
    counter (machine-wide: run it on a quiet machine), plus the final assembly
    of the result array in this process (one copy of it).
    """
    before = _loopback_bytes()
    result = run()
    moved = _loopback_bytes() - before
    return result, moved + getattr(result, "nbytes", 0)


# ---------------------------------------------------------------------------
# the same with a process pool, over shared memory


def blur_band(convolve_rows: Any, image_type: type, src: Any, dst: Any, shape: tuple[int, ...],
              kernel: np.ndarray, row_begin: int, row_end: int) -> int:
    """Worker: ``src``/``dst`` are shared blocks (attached by name on unpickling)."""
    h, w, c = shape
    structs = []
    for block in (src, dst):
        img = image_type(width=w, height=h, channels=c)
        img.data = block.buf
        structs.append(img)
    convolve_rows(structs[0], structs[1], kernel, kernel.shape[0], row_begin, row_end)
    del structs, img  # they hold the blocks' buffers: let go before unmapping
    for block in (src, dst):
        if not block.owner:  # attached on arrival here (a fork or a thread shares the owner's)
            block.close()
    return row_end - row_begin


def pool_blur(image: np.ndarray, ksize: int = 5, sigma: float = 1.0, *,
              pool: ProcessPoolExecutor, workers: int = 2, out: Any = None) -> np.ndarray:
    """Blur ``image`` in ``workers`` bands of rows on ``pool``'s processes.

    ``image`` is copied once into shared memory and the result once out,
    unless ``image`` is already an ``ffikit.shared`` block's array... pass a
    ``(src_block, dst_block)`` pair as ``out`` to skip both copies.
    """
    lib = imaging.library()
    kernel = imaging.gaussian_kernel(ksize, sigma)
    shape = image.shape
    if out is None:
        src = ffikit.shared(None, "uint8_t", math.prod(shape))
        dst = ffikit.shared(None, "uint8_t", math.prod(shape))
        np.frombuffer(src.buf, np.uint8)[:] = image.reshape(-1)
        imaging.CopyMeter.add(image.nbytes)
    else:
        src, dst = out
    try:
        h = shape[0]
        bounds = [h * i // workers for i in range(workers + 1)]
        jobs = [pool.submit(blur_band, lib.apply_convolution_rows, lib.defs.Image, src, dst,
                            shape, kernel, a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
        for job in jobs:
            job.result()
        if out is not None:
            return np.frombuffer(dst.buf, np.uint8).reshape(shape)
        result = np.frombuffer(dst.buf, np.uint8).reshape(shape).copy()
        imaging.CopyMeter.add(result.nbytes)
        return result
    finally:
        if out is None:
            for block in (src, dst):
                block.__exit__(None, None, None)


def process_pool(workers: int = 2) -> ProcessPoolExecutor:
    """A pool of fresh interpreters (``spawn``): everything they get arrives by pickle."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


if __name__ == "__main__":
    picture = imaging.make_test_image(1024, 1024, 3)
    expected = imaging.gaussian_blur(picture)
    with local_cluster(2) as client:
        blurred = dask_blur(picture, chunks=(256, 512)).compute()
        print(f"Dask, {len(client.scheduler_info()['workers'])} worker processes: "
              f"equal to the single-process kernel: {np.array_equal(blurred, expected)}")
    with process_pool(2) as executor:
        pooled = pool_blur(picture, pool=executor)
        print(f"ProcessPoolExecutor, 2 processes over shared memory: "
              f"equal: {np.array_equal(pooled, expected)}")
