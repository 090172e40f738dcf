"""ffikit.shared: typed shared memory across real processes, with clean cleanup."""

import multiprocessing as mp
import os

import numpy as np
import pytest

import ffikit


def _child_writes(name: str) -> None:
    block = ffikit.shared(name, "double", 1000, create=False)
    arr = ffikit.asarray(block.view)
    arr[:] = np.arange(1000) * 2.0
    del arr
    block.close()


def _psm() -> set:
    return {f for f in os.listdir("/dev/shm") if f.startswith("psm_")}


class TestShared:
    def test_child_writes_parent_sees(self):
        before = _psm()
        with ffikit.shared(None, "double", 1000) as block:
            proc = mp.get_context("spawn").Process(target=_child_writes, args=(block.name,))
            proc.start()
            proc.join(60)
            assert proc.exitcode == 0
            assert block.view[999] == 1998.0 and block.view[1] == 2.0
        assert _psm() == before  # the creator unlinked it; the child left nothing

    def test_errors(self):
        with pytest.raises(FileNotFoundError, match="no shared memory block named 'ffikit-nope'"):
            ffikit.shared("ffikit-nope", "int", create=False)
        with ffikit.shared(None, "int", 4) as block:
            with pytest.raises(ffikit.BufferTooSmall, match="needs 32"):
                ffikit.shared(block.name, "int", 8, create=False)
            with pytest.raises(FileExistsError, match="already exists"):
                ffikit.shared(block.name, "int", 4)

    def test_close_refused_under_a_live_view(self):
        block = ffikit.shared(None, "int", 4)
        arr = ffikit.asarray(block.view)
        with pytest.raises(BufferError, match="while views of it are alive"):
            block.close()
        del arr
        block.close()
        block.unlink()


class TestPickling:
    def test_by_name_the_fresh_interpreter_sees_the_same_bytes(self, tmp_path):
        from pickle_helpers import in_fresh_interpreter

        with ffikit.shared(None, "int32_t", 4) as block:
            block.view[:] = [5, 6, 7, 8]
            out = in_fresh_interpreter(block, """
                print(obj.name, list(obj.view), obj.owner)
                obj.view[0] = 50          # the same memory: the creator sees it
                obj.close()
            """, tmp_path)
            assert out == f"{block.name} [5, 6, 7, 8] False"
            assert block.view[0] == 50

    def test_in_the_same_process_it_is_the_open_block(self):
        import pickle

        with ffikit.shared(None, "double", 2) as block:
            assert pickle.loads(pickle.dumps(block)) is block
        with pytest.raises(ffikit.NotPicklable, match="closed"):
            pickle.dumps(block)
