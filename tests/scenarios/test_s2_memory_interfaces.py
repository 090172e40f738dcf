"""S2: memoryview, array.array and C side by side — without from_address dangling."""

import array
import gc

import pytest

import ffikit

C = """
#include <stddef.h>
#include <ctype.h>
void upper(char *s, size_t n) { for (size_t i = 0; i < n; i++) s[i] = (char)toupper(s[i]); }
double total(const double *a, size_t n) { double t = 0; for (size_t i = 0; i < n; i++) t += a[i]; return t; }
"""


pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(C, name="s2"), "void upper(char *s, size_t n);"
                                            "double total(const double *a, size_t n);")


def test_memoryview_slice_written_in_place_by_c(lib):
    data = bytearray(b"hello, world of C")
    window = memoryview(data).cast("c")[7:12]
    lib.upper(window, len(window))
    assert data == bytearray(b"hello, WORLD of C")


def test_array_view_is_zero_copy_and_keeps_the_array_alive(lib):
    values = array.array("d", [1.5, 2.5, 3.0])
    v = ffikit.view(values, "double[]")
    assert ffikit.address(v) == values.buffer_info()[0]
    values[0] = 10.0
    assert v[0] == 10.0
    assert lib.total(v, len(v)) == 15.5
    del values
    gc.collect()
    assert list(v) == [10.0, 2.5, 3.0]


def test_growing_the_array_while_viewed_raises_and_the_view_stays_valid():
    values = array.array("d", [1.0, 2.0])
    v = ffikit.view(values, "double[]")
    with pytest.raises(BufferError):
        values.append(3.0)  # raw from_address would now dangle after a realloc
    assert list(v) == [1.0, 2.0] and ffikit.address(v) == values.buffer_info()[0]
    del v
    gc.collect()
    values.append(3.0)  # allowed again once the view is gone
    assert len(values) == 3
