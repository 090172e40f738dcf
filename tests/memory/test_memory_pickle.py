"""Owned memory pickles by value (ffikit.memory.memory_pickle)."""

from __future__ import annotations

import pytest

import ffikit


class TestPickling:
    """Owned memory pickles by value; foreign or protected memory is refused."""

    def test_by_value_into_a_fresh_interpreter(self, tmp_path):
        from pickle_helpers import in_fresh_interpreter

        m = ffikit.alloc("int32_t", 4)
        m.view[:] = [1, 2, 3, -4]
        out = in_fresh_interpreter(m, "print(type(obj).__name__, list(obj.view))", tmp_path)
        assert out == "Memory [1, 2, 3, -4]"

    def test_protocol_5_sends_the_bytes_out_of_band_without_a_copy(self):
        import pickle

        m = ffikit.alloc("double", 1000)
        m.view[999] = 2.5
        buffers: list = []
        data = pickle.dumps(m, protocol=5, buffer_callback=buffers.append)
        assert len(data) < 200 and len(buffers) == 1  # the 8000 bytes are not in the stream
        raw = buffers[0].raw()
        assert ffikit.address(raw) == m.address  # the region itself, not a copy
        raw.release()
        back = pickle.loads(data, buffers=buffers)
        assert back.view[999] == 2.5 and back.address != m.address

    def test_old_protocols_still_work(self):
        import pickle

        m = ffikit.alloc("uint8_t", 3)
        m.view[:] = [7, 8, 9]
        assert list(pickle.loads(pickle.dumps(m, protocol=2)).view) == [7, 8, 9]

    def test_refusals(self):
        import pickle

        m = ffikit.alloc("char", 4096, pages=True)
        m.protect("none")
        with pytest.raises(ffikit.NotPicklable, match="protected 'none'.*protect\\('rw'\\)"):
            pickle.dumps(m)
        m.protect("rw")
        m.free()
        with pytest.raises(ffikit.NotPicklable, match="freed"):
            pickle.dumps(m)
        foreign = ffikit.adopt(ffikit.address(ffikit.alloc("char", 8)), 8, free=lambda a: None)
        with pytest.raises(ffikit.NotPicklable, match="belongs to the C library"):
            pickle.dumps(foreign)
