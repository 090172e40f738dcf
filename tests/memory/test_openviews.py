"""openviews: 'T[]' view types cached per buffer size, sizes read the cheap way."""

from __future__ import annotations

import numpy as np

import ffikit
from ffikit.memory.openviews import NBYTES, OPEN_TYPES, nbytes_reader, open_type


class TestOpenViews:
    def test_sizes_read_per_type(self):
        assert nbytes_reader(np.ndarray)(np.zeros(3)) == 24
        assert NBYTES[bytearray](bytearray(5)) == 5

    def test_a_seen_spec_maps_each_size_to_its_view(self):
        ffikit.view(np.zeros(4), "int64_t[]")  # the slow path records the spec
        from_buffer, align = open_type("int64_t[]", 48)
        assert len(from_buffer(bytearray(48))) == 6 and align == 8
        assert 48 in OPEN_TYPES["int64_t[]"]
        assert open_type("int64_t[]", 47) is None and open_type("never-seen[]", 8) is None
