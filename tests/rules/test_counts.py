"""Counts and sizes given to ffikit's own functions."""

from __future__ import annotations

import numpy as np
import pytest

from ffikit import ArgumentError, InvalidValue, MemoryReleased
from ffikit.rules.counts import released, whole


def test_whole_numbers_pass():
    assert whole(3, "f", "count") == 3
    assert whole(np.int64(4), "f", "count") == 4
    assert whole(0, "f", "count") == 0


def test_refusals_name_function_and_argument():
    with pytest.raises(ArgumentError, match=r"^alloc: count must be an int, got float 2.5$"):
        whole(2.5, "alloc", "count")
    with pytest.raises(ArgumentError, match="count must be an int, got str"):
        whole("3", "alloc", "count")
    with pytest.raises(InvalidValue, match=r"^alloc: count must be >= 1, got 0$"):
        whole(0, "alloc", "count", minimum=1)


def test_released_is_memory_released():
    error = released("this block")
    assert isinstance(error, MemoryReleased) and "use after free" in str(error)
