"""A buffer exporter whose exports ffikit controls, on every Python from 3.11.

``memoryview(m)`` calls the buffer slot of ``type(m)``; a class written in
Python gets one only by inheriting it (``__buffer__`` arrives in 3.12).  The
slots of :class:`pickle.PickleBuffer` do exactly what ffikit needs: an
instance holds one export of a *target* object, and every export asked of
it is forwarded to that target — so ``memoryview(m)`` is the target's own
export, bounded by it, read-only when it is, and counted by it.
``PickleBuffer`` cannot be subclassed, so :data:`Exporter` is a new type
built at import from the same C functions (``PyType_GetSlot`` and
``PyType_FromSpec``, both public API), and ffikit's memory classes inherit it,
with the array protocols of :mod:`ffikit.memory.arrayexport`.

The target is always one of:

* a ``bytearray`` (heap memory): exports are counted by the bytearray, which
  refuses to be resized — and so freed with ``clear()`` — while any is alive;
* a ``memoryview`` of exactly a region (page memory), writable or read-only:
  ``release()`` is refused while any export of it is alive;
* a sentinel (memory protected ``"none"``): not a buffer, so CPython refuses
  every export, naming the sentinel's type;
* nothing, after ``release(m)`` (freed memory): CPython raises ``ValueError``.

Only exports *asked of* a target count: a memoryview sliced from a memoryview
target shares its buffer uncounted, so ffikit takes every view of its memory
through ``memoryview(m)``, never from the target itself.

Two facts are checked when this module is imported, never assumed: where the
held ``Py_buffer`` sits in an instance, and that deleting an instance gives
its export back.  (Deallocation releases it through the type's finalizer,
``PickleBuffer``'s ``tp_clear``, whose ``int`` result the caller ignores; the
deallocator itself is the one every heap type gets, so reference counts of
the type stay exact.)
"""

from __future__ import annotations

import ctypes
import pickle
import sys

from ffikit import forksafe
from ffikit.memory.arrayexport import ArrayExports

TYPE_CHECKING = False

__all__ = ["Exporter", "release", "hold", "hold_refusal", "held", "LOCK"]

_PickleBuffer = pickle.PickleBuffer


def _api(name: str, restype, *argtypes):
    """A private prototype of a C-API function: ``ctypes.pythonapi.<name>`` is one object
    shared by every module, whose ``argtypes`` any of them may set."""
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


# Include/typeslots.h: stable numbers, part of the limited API.
_BF_GETBUFFER, _BF_RELEASEBUFFER = 1, 2
_TP_CLEAR, _TP_DEALLOC, _TP_METHODS, _TP_NEW, _TP_TRAVERSE, _TP_FINALIZE = 51, 52, 64, 65, 71, 80
_BASETYPE, _HAVE_GC, _DEFAULT = 1 << 10, 1 << 14, 1 << 18


class _Slot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("pfunc", ctypes.c_void_p)]


class _Spec(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("basicsize", ctypes.c_int), ("itemsize", ctypes.c_int),
                ("flags", ctypes.c_uint), ("slots", ctypes.POINTER(_Slot))]


def _make_type() -> type:
    get_slot = _api("PyType_GetSlot", ctypes.c_void_p, ctypes.py_object, ctypes.c_int)
    from_spec = _api("PyType_FromSpec", ctypes.py_object, ctypes.POINTER(_Spec))
    wanted = [_BF_GETBUFFER, _BF_RELEASEBUFFER, _TP_NEW, _TP_TRAVERSE, _TP_CLEAR, _TP_METHODS]
    entries = [_Slot(slot, get_slot(_PickleBuffer, slot)) for slot in wanted]
    if sys.platform in ("emscripten", "wasi"):  # calls through a mismatched type trap there
        entries.append(_Slot(_TP_DEALLOC, get_slot(_PickleBuffer, _TP_DEALLOC)))
    else:
        entries.append(_Slot(_TP_FINALIZE, get_slot(_PickleBuffer, _TP_CLEAR)))
    slots = (_Slot * (len(entries) + 1))(*entries, _Slot(0, None))
    spec = _Spec(b"ffikit._Exporter", _PickleBuffer.__basicsize__, 0,
                 _DEFAULT | _BASETYPE | _HAVE_GC, slots)
    cls = from_spec(ctypes.byref(spec))
    cls._ffikit_spec = (spec, slots)  # the type keeps pointers into the spec's strings
    return cls


if TYPE_CHECKING:
    class Exporter(ArrayExports):
        """What type checkers see of the type :func:`_make_type` builds at run time."""

        __slots__ = ()

        def __init__(self, target: object, /) -> None: ...

        def __buffer__(self, flags: int, /) -> memoryview: ...  # its target's export
else:
    Exporter = _make_type()
Exporter.__doc__ = "Forwards every buffer export to the object it holds (see ffikit.memory.exporter)."
for _name in ("__array_interface__", "__dlpack__", "__dlpack_device__"):  # typed, by item
    setattr(Exporter, _name, ArrayExports.__dict__[_name])

# ``release(x)`` gives up x's export of its target (a C method: cheap); the names
# are taken off the type so that no subclass offers ``m.release()``/``m.raw()``.
release = Exporter.__dict__["release"]
for _name in ("release", "raw"):
    delattr(Exporter, _name)

_VIEW = object.__basicsize__  # the held Py_buffer follows the object header ...
_OBJ = _VIEW + ctypes.sizeof(ctypes.c_void_p)  # ... and its ``obj`` is the second field
_PyBUF_FULL_RO = 0x0100 | 0x0018 | 0x0004  # INDIRECT | STRIDES | FORMAT
_get_buffer = _api("PyObject_GetBuffer", ctypes.c_int, ctypes.py_object, ctypes.c_void_p,
                   ctypes.c_int)
_incref = _api("Py_IncRef", None, ctypes.py_object)
_word = ctypes.c_void_p.from_address

# Every change of what an exporter holds, other than the cheap ``release`` on a
# free that succeeds, happens under this lock, so two threads never hold twice.
LOCK = forksafe.RLock()


def held(exporter: object) -> object | None:
    """What ``exporter`` forwards to now (None once released)."""
    address = _word(id(exporter) + _OBJ).value
    return ctypes.cast(address, ctypes.py_object).value if address else None


def hold(exporter: object, target: object) -> None:
    """Make ``exporter`` forward every export to the buffer ``target`` (taking one export
    of it).  Call with :data:`LOCK` held; a no-op while ``exporter`` holds something."""
    if not _word(id(exporter) + _OBJ).value:
        _get_buffer(target, id(exporter) + _VIEW, _PyBUF_FULL_RO)


def hold_refusal(exporter: object, sentinel: object) -> None:
    """Make every export of ``exporter`` fail, naming ``type(sentinel)`` (not a buffer).

    The held ``Py_buffer`` then owns a plain reference to the sentinel, which
    ``release`` (``PyBuffer_Release``) drops like any other.  Call with :data:`LOCK`
    held; a no-op while ``exporter`` holds something.
    """
    if not _word(id(exporter) + _OBJ).value:
        _incref(sentinel)
        _word(id(exporter) + _OBJ).value = id(sentinel)


def _self_test() -> None:
    probe = bytearray(8)
    exporter = Exporter(probe)
    if memoryview(exporter).obj is not probe or held(exporter) is not probe:
        raise ImportError("ffikit.memory.exporter: this Python's PickleBuffer layout is unknown")
    release(exporter)
    probe.append(0)  # no export left: the bytearray may resize again
    sentinel = _Probe()
    before = sys.getrefcount(sentinel)
    hold_refusal(exporter, sentinel)
    try:
        memoryview(exporter)
    except TypeError:
        pass
    else:
        raise ImportError("ffikit.memory.exporter: a sentinel did not refuse exports")
    release(exporter)
    hold(exporter, probe)
    del exporter
    try:
        probe.append(0)
    except BufferError:
        raise ImportError("ffikit.memory.exporter: deleting an exporter kept its export") from None
    if sys.getrefcount(sentinel) != before:
        raise ImportError("ffikit.memory.exporter: releasing a sentinel miscounted references")


class _Probe:
    pass


_self_test()
