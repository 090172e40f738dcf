"""The address of any buffer-protocol object, without copying it.

ctypes only reaches writable buffers (``from_buffer``); read-only ones
(``bytes``, read-only NumPy arrays, ``memoryview(bytes)[2:]``) force a copy
through ``from_buffer_copy``.  This module reads the address the exporter
published in its ``Py_buffer``, for any exporter, read-only or not.

Two ways, same answer:

* ``memoryview_address(mv)`` reads ``mv``'s own ``Py_buffer.buf`` field.  The
  field's offset inside CPython's ``PyMemoryViewObject`` is found at import by
  probing memoryviews of known addresses, never assumed; where the probe
  fails (another interpreter, a layout change) it falls back to
* ``PyObject_GetBuffer`` through ``ctypes.pythonapi``: slower, always right.

The memoryview must stay alive for as long as the address is used: it holds
the exporter's buffer export, which is what stops a ``bytearray`` from being
resized (and its memory moved) underneath C.
"""

from __future__ import annotations

import array
import ctypes
import mmap
import sys

__all__ = ["memoryview_address", "export", "learn_numpy", "PLAIN_TYPES", "FAST_ADDRESS"]


class _Py_buffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
        ("strides", ctypes.POINTER(ctypes.c_ssize_t)),
        ("suboffsets", ctypes.POINTER(ctypes.c_ssize_t)),
        ("internal", ctypes.c_void_p),
    ]


_PyBUF_STRIDES_FORMAT = 0x0018 | 0x0004  # PyBUF_STRIDES | PyBUF_FORMAT
_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_Py_buffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_Py_buffer)]
_release_buffer.restype = None


def _address_via_getbuffer(mv: memoryview) -> int:
    view = _Py_buffer()
    # A memoryview re-exports its own view, sliced start included.
    _get_buffer(mv, ctypes.byref(view), _PyBUF_STRIDES_FORMAT)
    try:
        return view.buf or 0
    finally:
        _release_buffer(ctypes.byref(view))


def _find_buf_offset() -> int | None:
    """Offset of ``view.buf`` inside a memoryview object, or None if unknown."""
    if sys.implementation.name != "cpython":
        return None
    probes = [ctypes.create_string_buffer(64) for _ in range(3)]
    views = [memoryview(p)[i * 3 :] for i, p in enumerate(probes)]
    expected = [ctypes.addressof(p) + i * 3 for i, p in enumerate(probes)]
    for offset in range(16, 160, ctypes.sizeof(ctypes.c_void_p)):
        if all(
            ctypes.c_void_p.from_address(id(v) + offset).value == want
            for v, want in zip(views, expected)
        ):
            # Cross-check the slow, always-right path on a read-only export too.
            ro = memoryview(b"ffikit-probe-bytes")[5:]
            if ctypes.c_void_p.from_address(id(ro) + offset).value == _address_via_getbuffer(ro):
                return offset
    return None


_BUF_OFFSET = _find_buf_offset()
FAST_ADDRESS = _BUF_OFFSET is not None

if _BUF_OFFSET is not None:
    _read_pointer = ctypes.c_void_p.from_address

    def memoryview_address(mv: memoryview, _off: int = _BUF_OFFSET) -> int:
        """Address of the first byte ``mv`` shows (its slice start included)."""
        return _read_pointer(id(mv) + _off).value or 0

else:  # pragma: no cover - non-CPython or an unknown memoryview layout

    def memoryview_address(mv: memoryview, _off: int = 0) -> int:
        """Address of the first byte ``mv`` shows (through the buffer protocol)."""
        return _address_via_getbuffer(mv)


# Exact types that are buffers and never ctypes objects or ffikit memory: fast paths
# test ``type(obj) in PLAIN_TYPES`` and skip every other check.  Mutable on purpose:
# numpy.ndarray joins once NumPy is imported (ffikit never imports it itself).
PLAIN_TYPES: set[type] = {bytes, bytearray, memoryview, array.array, mmap.mmap}


def learn_numpy() -> None:
    """Add numpy.ndarray to PLAIN_TYPES once someone has imported NumPy."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        PLAIN_TYPES.add(numpy.ndarray)


def export(obj: object) -> memoryview:
    """The exact bytes ``obj`` stands for, as a memoryview that holds its export.

    Objects that know better than their raw buffer say so with
    ``__ffikit_region__()``: ffikit memory gives its region (not the padding or
    guard page around it) and read-only ctypes views give a read-only export.
    Objects that are arrays without being buffers (``__dlpack__``,
    ``__array_interface__``: a PyTorch tensor) give a view of their memory.
    Raises ``TypeError`` for objects that are none of these.
    """
    region = getattr(type(obj), "__ffikit_region__", None)
    if region is not None:
        return region(obj)
    learn_numpy()
    try:
        return memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        from ffikit.backends.ctypes.arrays import protocol_view  # tensors, __array_interface__

        view = protocol_view(obj)
        if view is None:
            raise
        return view
