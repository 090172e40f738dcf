"""The C kernel on 2 worker processes, via pickled ffikit bindings: Dask and a process pool.

Both results must equal the single-process kernel exactly.  The Dask test
starts and stops its own LocalCluster (processes, loopback, no dashboard).
"""

from __future__ import annotations

import gc
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

import ffikit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "imaging"))
import dask_blur  # noqa: E402
import imaging  # noqa: E402


@pytest.fixture(scope="module")
def picture(build_cache):
    image = imaging.make_test_image(120, 100, 3)  # 36,000 bytes
    return image, imaging.gaussian_blur(image)


def test_blocks_and_halos_reproduce_the_whole_image_kernel_in_process(picture):
    """map_overlap's halo and trimming are right (dask's synchronous scheduler, no workers)."""
    da = pytest.importorskip("dask.array", reason="dask is not installed: pip install ffikit[dask]")
    image, expected = picture
    lazy = dask_blur.dask_blur(da.from_array(image, chunks=(32, 40, -1)))
    assert np.array_equal(lazy.compute(scheduler="synchronous"), expected)


def test_dask_local_cluster_of_two_processes(picture):
    pytest.importorskip("distributed", reason="dask[distributed] is not installed: "
                                              "pip install ffikit[dask]")
    import dask.array as da
    image, expected = picture
    with dask_blur.local_cluster(2) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
        lazy = dask_blur.dask_blur(image, chunks=(48, 40))
        assert len(lazy.chunks[0]) > 1 and len(lazy.chunks[1]) > 1  # real halos between blocks
        result = lazy.compute()
        pids = set(client.run(lambda: __import__("os").getpid()).values())
        with ffikit.shared(None, "uint8_t", image.size) as block:  # the graph names the block
            np.frombuffer(block.buf, np.uint8)[:] = image.reshape(-1)
            source = da.from_array(dask_blur.SharedArray(block, image.shape), chunks=(48, 40, -1))
            assert len(pickle.dumps(source.__dask_graph__())) < 20_000 < image.nbytes
            from_shared = dask_blur.dask_blur(source).compute()
            del source  # its meta is a view of the block: let go before the block closes
            gc.collect()
        client.cluster.close()
    assert np.array_equal(result, expected)
    assert np.array_equal(from_shared, expected)
    assert len(pids) == 2


def test_process_pool_over_shared_memory(picture):
    image, expected = picture
    with dask_blur.process_pool(2) as pool:
        imaging.CopyMeter.take()
        result = dask_blur.pool_blur(image, pool=pool, workers=2)
        assert imaging.CopyMeter.take() == 2 * image.nbytes  # in once, out once; none in transit
    assert np.array_equal(result, expected)
