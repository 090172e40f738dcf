"""ffikit memory as an array to other libraries: ``__array_interface__`` and DLPack.

Every ffikit memory object (``alloc``, ``adopt``, pools, shared memory) is a
buffer; these protocols say what its bytes *are*: the item type and count it
was allocated with.  ``np.from_dlpack(m)`` and ``torch.from_dlpack(m)`` see
``alloc("double", 3)`` as three float64 without a copy, and
``m.__array_interface__`` gives the same to anything that reads NumPy's
interface.  (``np.asarray(m)`` takes the buffer first, which is typed the same
way for items of one simple C type: see ``ffikit.memory.owned``.)

The memory stays valid while a consumer holds it: each export takes a buffer
export of the memory, so ``free()`` and ``protect()`` are refused until the
consumer's array is gone, exactly as for a memoryview.  Read-only memory
(``protect("r")``) is exported read-only (DLPack >= 1.0's flag; an old
consumer that cannot be told is refused).  Items with no DLPack or NumPy
scalar type (structs, pointers, long double) are refused with a hint.
"""

from __future__ import annotations

import ctypes
import threading

from ffikit.backends.ctypes.arrays import DEVICES, dlpack_type, typestr_of
from ffikit.backends.ctypes.arrays import DLManagedTensor as _Managed
from ffikit.backends.ctypes.arrays import DLManagedTensorVersioned as _ManagedVersioned
from ffikit.backends.ctypes.pybuffer import memoryview_address

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ArrayExports", "DEVICES", "capsule", "check_request"]

_CPU = 1


# managed tensor address -> what it keeps alive (the struct, its shape, an export of the memory)
_LIVE: dict[int, tuple[Any, Any, memoryview]] = {}
_LIVE_LOCK = threading.Lock()
_NAMES = {False: ctypes.create_string_buffer(b"dltensor"), True: ctypes.create_string_buffer(b"dltensor_versioned")}


def _delete(address: int | None) -> None:
    """The DLPack deleter: the consumer is done (or the capsule died unconsumed)."""
    if address:
        with _LIVE_LOCK:
            _LIVE.pop(address, None)


_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(_delete)
_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(("PyCapsule_IsValid", ctypes.pythonapi))
_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi))


def _capsule_gone(capsule: int | None) -> None:
    """A capsule no consumer renamed ("used_dltensor") still owns its tensor: delete it."""
    for name in _NAMES.values():
        if _is_valid(capsule, name.value):
            _delete(_get_pointer(capsule, name.value))


_CAPSULE_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(_capsule_gone)
_new_capsule = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(
    ("PyCapsule_New", ctypes.pythonapi))


def _items(memory: Any) -> tuple[type, int]:
    spec = memory._spec
    item = spec.item
    count = memory.size // spec.item_size if spec.item_size else 0
    return item, count


def array_interface(memory: Any) -> dict[str, Any]:
    """NumPy's array interface (version 3) of ``memory``: its items, by address."""
    item, count = _items(memory)
    view = memoryview(memory)  # raises for freed or 'none' memory, as every export does
    try:
        address = memoryview_address(view) if view.nbytes else 0
        readonly = view.readonly
    finally:
        view.release()
    return {"version": 3, "shape": (count,), "typestr": typestr_of(item), "data": (address, readonly),
            "strides": None}


def dlpack(memory: Any, max_version: tuple[int, int] | None = None) -> object:
    """A DLPack capsule of ``memory``'s items (versioned if the consumer takes 1.0)."""
    item, count = _items(memory)
    view = memoryview(memory)  # the export that keeps the memory alive (and unfreeable)
    return capsule(view, item, (count,), view.readonly, max_version)


def capsule(view: memoryview, item: type, shape: tuple[int, ...], readonly: bool,
            max_version: tuple[int, int] | None = None) -> object:
    """A DLPack capsule of C-contiguous ``item``s of ``shape`` at ``view``'s address; the
    capsule's tensor holds ``view`` (an export) until the consumer deletes it."""
    try:
        code, bits = dlpack_type(item)
    except BufferError:
        view.release()
        raise
    versioned = max_version is not None and tuple(max_version)[:1] >= (1,)
    if readonly and not versioned:
        view.release()
        raise BufferError("this memory is read-only, and the consumer's DLPack (< 1.0) cannot be "
                          "told so; use a consumer that passes max_version=(1, 0)")
    dims = (ctypes.c_int64 * len(shape))(*shape)
    managed: Any = _ManagedVersioned() if versioned else _Managed()
    tensor = managed.dl_tensor
    tensor.data = memoryview_address(view) if view.nbytes else None
    tensor.device_type, tensor.device_id, tensor.ndim = _CPU, 0, len(shape)
    tensor.code, tensor.bits, tensor.lanes = code, bits, 1
    tensor.shape = dims
    managed.deleter = ctypes.cast(_DELETER, ctypes.c_void_p).value
    if versioned:
        managed.major, managed.minor, managed.flags = 1, 0, 1 if readonly else 0
    address = ctypes.addressof(managed)
    with _LIVE_LOCK:
        _LIVE[address] = (managed, dims, view)
    name = _NAMES[versioned]
    return _new_capsule(address, ctypes.addressof(name), ctypes.cast(_CAPSULE_DESTRUCTOR, ctypes.c_void_p))


def check_request(dl_device: tuple[int, int] | None, copy: bool | None) -> None:
    """Refuse what a ``__dlpack__`` caller asks that host memory without a copy cannot give."""
    if dl_device is not None and tuple(dl_device) != (_CPU, 0):
        raise BufferError(f"ffikit memory is in host memory (cpu:0), not on {tuple(dl_device)}")
    if copy:
        raise BufferError("ffikit memory exports without copying (copy=True asked)")


class ArrayExports:
    """The array protocols, for classes with ``_spec`` (item type) and ``size`` that are buffers."""

    __slots__ = ()

    @property
    def __array_interface__(self) -> dict[str, Any]:
        return array_interface(self)

    def __dlpack__(self, *, stream: object = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> object:
        check_request(dl_device, copy)
        return dlpack(self, max_version)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_CPU, 0)
