"""Arrays that are not buffers: ``__dlpack__`` and ``__array_interface__`` objects as memoryviews.

A PyTorch tensor, a JAX array on the CPU or any object that exposes only
the DLPack protocol or NumPy's array interface (version 3) reaches a
``T *`` parameter the way a buffer does: :func:`protocol_view` gives a
memoryview of the object's own memory — the same address, no copy — with
the element format, shape and writability the object declares, so the
converters apply the very rules they apply to buffers (format, contiguity,
writability, size relations).  The memoryview keeps the object (and, for
DLPack, the capsule that owns the tensor) alive while it lives.

Refused with an ffikit error, never guessed: memory on another device
(named: ``cuda:0``), non-contiguous strides, byte-swapped or vector
(``lanes`` > 1) element types, and types with no buffer format (bfloat16).
DLPack's own read-only flag (versioned capsules, DLPack >= 1.0) is honoured;
an unversioned capsule cannot say it is read-only, so it is taken as writable
— the producer exported it as such.
"""

from __future__ import annotations

import ctypes
import math
import sys

from ffikit.errors import ArgumentError, NotContiguous

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["protocol_view", "DEVICES", "format_of", "dlpack_type", "typestr_of", "DLTensor", "DLManagedTensor",
           "DLManagedTensorVersioned"]

# dlpack.h DLDeviceType
DEVICES = {1: "cpu", 2: "cuda", 3: "cuda_host", 4: "opencl", 7: "vulkan", 8: "metal", 9: "vpi",
           10: "rocm", 11: "rocm_host", 12: "ext_dev", 13: "cuda_managed", 14: "oneapi",
           15: "webgpu", 16: "hexagon", 17: "maia"}
_CPU_DEVICES = (1, 3, 11)  # host memory: the CPU, and pinned host memory of CUDA / ROCm
_READ_ONLY = 1  # DLPACK_FLAG_BITMASK_READ_ONLY

# (DLPack type code or typestr kind, bits) -> the struct format NumPy's own buffers use
_FORMATS = {("i", 8): "b", ("i", 16): "h", ("i", 32): "i", ("i", 64): "l" if ctypes.sizeof(ctypes.c_long) == 8 else "q",
            ("u", 8): "B", ("u", 16): "H", ("u", 32): "I", ("u", 64): "L" if ctypes.sizeof(ctypes.c_long) == 8 else "Q",
            ("f", 16): "e", ("f", 32): "f", ("f", 64): "d", ("b", 8): "?",
            ("c", 64): "Zf", ("c", 128): "Zd"}
_DL_KINDS = {0: "i", 1: "u", 2: "f", 5: "c", 6: "b"}  # kDLInt, kDLUInt, kDLFloat, kDLComplex, kDLBool


class DLTensor(ctypes.Structure):  # dlpack.h, both directions
    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32),
                ("ndim", ctypes.c_int32), ("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                ("lanes", ctypes.c_uint16), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi))


def format_of(kind: str, bits: int, what: str) -> str:
    """The buffer format of an element kind (``"f"``) and size in bits, or ArgumentError."""
    fmt = _FORMATS.get((kind, bits))
    if fmt is None:
        raise ArgumentError(f"{what} has elements ffikit cannot view ({kind}{bits}: no C buffer "
                            "format); convert it first, e.g. to float32")
    return fmt


def _view(address: int, shape: tuple[int, ...], itemsize: int, fmt: str, readonly: bool,
          keep: object) -> memoryview:
    """A memoryview of C-contiguous memory at ``address`` that keeps ``keep`` alive."""
    count = math.prod(shape)
    holder: Any = (ctypes.c_char * (count * itemsize)).from_address(address) if count else \
        (ctypes.c_char * 0)()
    holder._ffikit_keep = keep  # the memoryview holds ``holder``, which holds the source
    view: Any = memoryview(holder).cast("B")  # cast to a format known only at run time
    if not fmt.startswith("Z"):
        view = view.cast(fmt, shape) if count else view.cast(fmt)
    result: memoryview = view.toreadonly() if readonly else view
    return result


def _check_contiguous(shape: tuple[int, ...], strides: tuple[int, ...] | None, what: str,
                      unit: str) -> None:
    """Strides (counted in items) must be C order; axes of length 1 may have any stride,
    and so may every axis of an empty array."""
    if strides is None or 0 in shape:
        return
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != expected:
            raise NotContiguous(f"{what} is not C-contiguous (shape {shape}, strides {strides} "
                                f"in {unit}); pass a contiguous copy (x.contiguous(), "
                                "numpy.ascontiguousarray(x))")
        expected *= n


def _from_dlpack(obj: Any, what: str) -> memoryview:
    device_type, device_id = obj.__dlpack_device__()
    if int(device_type) not in _CPU_DEVICES:
        name = DEVICES.get(int(device_type), f"device type {int(device_type)}")
        raise ArgumentError(f"{what} lives on {name}:{int(device_id)}, not in host memory C can "
                            "read; copy it to the CPU first (e.g. tensor.cpu())")
    try:
        capsule = obj.__dlpack__(max_version=(1, 0))
    except TypeError:  # a producer older than DLPack 1.0 takes no max_version
        capsule = obj.__dlpack__()
    flags = 0
    if ctypes.pythonapi.PyCapsule_IsValid(ctypes.py_object(capsule), b"dltensor_versioned"):
        managed: Any = DLManagedTensorVersioned.from_address(_capsule_pointer(capsule, b"dltensor_versioned"))
        flags = managed.flags
    else:
        managed = DLManagedTensor.from_address(_capsule_pointer(capsule, b"dltensor"))
    tensor = managed.dl_tensor
    kind = _DL_KINDS.get(tensor.code)
    if kind is None or tensor.lanes != 1:
        raise ArgumentError(f"{what} has DLPack elements ffikit cannot view (type code "
                            f"{tensor.code}, {tensor.bits} bits, {tensor.lanes} lanes)")
    fmt = format_of(kind, tensor.bits, what)
    shape = tuple(tensor.shape[i] for i in range(tensor.ndim))
    strides = tuple(tensor.strides[i] for i in range(tensor.ndim)) if tensor.strides else None
    itemsize = tensor.bits // 8
    _check_contiguous(shape, strides, what, "items")
    address = (tensor.data or 0) + tensor.byte_offset
    # the capsule stays unconsumed and alive with the view: its destructor calls the
    # producer's deleter when the last view of the memory is gone
    return _view(address, shape, itemsize, fmt, bool(flags & _READ_ONLY), (obj, capsule))


def _from_interface(obj: Any, what: str) -> memoryview:
    spec = obj.__array_interface__
    typestr = spec["typestr"]
    order, kind, size = typestr[0], typestr[1], int(typestr[2:])
    if order == ("<" if sys.byteorder == "big" else ">") and size > 1:
        raise ArgumentError(f"{what} is byte-swapped ({typestr!r}); C reads native byte order")
    fmt = format_of(kind, size * 8, what)
    shape = tuple(int(n) for n in spec["shape"])
    strides = spec.get("strides")
    if strides is not None:  # in bytes here: C order is the item size times the items
        strides = tuple(int(s) for s in strides)
        _check_contiguous(shape, tuple(s // size if s % size == 0 else -1 for s in strides),
                          what, f"{size}-byte items; {strides} in bytes")
    data = spec["data"]
    offset = int(spec.get("offset", 0))
    if isinstance(data, tuple):
        address, readonly = int(data[0]), bool(data[1])
        return _view(address + offset, shape, size, fmt, readonly, obj)
    base: Any = memoryview(data).cast("B")[offset:]  # a buffer object holds the memory
    count = math.prod(shape)
    base = base[: count * size]
    holder: memoryview = base if fmt.startswith("Z") else base.cast(fmt, shape) if count else base.cast(fmt)
    return holder


def protocol_view(obj: object) -> memoryview | None:
    """A memoryview of what ``obj`` exposes through ``__dlpack__`` or ``__array_interface__``
    (None if it has neither).  Raises ArgumentError / NotContiguous for what C cannot use."""
    what = type(obj).__name__
    if hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__"):
        return _from_dlpack(obj, what)
    if hasattr(obj, "__array_interface__"):
        return _from_interface(obj, what)
    return None


# ctypes simple type code -> (kind, bits), for the other direction: ffikit memory as an array
_SIMPLE = {"b": ("i", 8), "B": ("u", 8), "h": ("i", 16), "H": ("u", 16), "i": ("i", 32),
           "I": ("u", 32), "l": ("i", 8 * ctypes.sizeof(ctypes.c_long)),
           "L": ("u", 8 * ctypes.sizeof(ctypes.c_long)), "q": ("i", 64), "Q": ("u", 64),
           "f": ("f", 32), "d": ("f", 64), "?": ("b", 8), "c": ("u", 8)}
_DL_CODES = {kind: code for code, kind in _DL_KINDS.items()}


def _kind_bits(item: type) -> tuple[str, int]:
    code = getattr(item, "_type_", None)  # a ctypes simple type's letter
    kind_bits = _SIMPLE.get(code) if isinstance(code, str) else None
    if kind_bits is None:
        raise BufferError(f"items of {item.__name__} have no array element type (only integers, "
                          "floats and bool do); view the memory as bytes, or use ffikit.asarray(m) "
                          "for a structured NumPy array")
    return kind_bits


def dlpack_type(item: type) -> tuple[int, int]:
    """DLPack's ``(type code, bits)`` for a ctypes item type, or BufferError."""
    kind, bits = _kind_bits(item)
    return _DL_CODES[kind], bits


def typestr_of(item: type) -> str:
    """NumPy's typestr (``'<f8'``) for a ctypes item type, or BufferError."""
    kind, bits = _kind_bits(item)
    order = "|" if bits == 8 else "<" if sys.byteorder == "little" else ">"
    return f"{order}{kind}{bits // 8}"
