"""Zero-copy typed views over any buffer, addresses, and foreign memory as memoryviews.

Raw ctypes offers three ways to see a buffer as C data and each has a trap:
``from_buffer`` refuses read-only buffers, ``from_address`` keeps nothing
alive (and dangles when an ``array.array`` grows), ``from_buffer_copy`` copies.
:func:`view` does the right thing in one call: zero-copy for every buffer,
read-only when the source is, and the source kept alive — and locked against
resizing — for as long as the view lives.

NumPy interop (:func:`dtype`, :func:`ctype`, :func:`asarray`) lives in
``_numpy_bridge.py`` and cross-process memory (:func:`shared`) in ``sharedmem.py``;
both are re-exported here.
"""

from __future__ import annotations

import ctypes
import functools
from _ctypes import CFuncPtr
from typing import Any

from ffikit.backends.ctypes import pybuffer as _pybuffer
from ffikit.backends.ctypes.buffer_errors import ADDRESS_END, range_refusal, unusable
from ffikit.backends.ctypes.classes import CData, array_parts
from ffikit.cdecl.declarations import Declarations
from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    DeclarationError,
    FFIError,
    InvalidAddress,
    InvalidValue,
    MisalignedBuffer,
    NotContiguous,
    ProtectedMemory,
    ReadOnlyBuffer,
)
from ffikit.memory.mappings import check_range
from ffikit.memory.openviews import NBYTES, OPEN_SPECS, OPEN_TYPES, nbytes_reader, open_type
from ffikit.memory.rawpointers import checked_type
from ffikit.memory.typed_exports import exporting_type

__all__ = ["view", "address", "buffer", "is_readonly"]

_memoryview_address = _pybuffer.memoryview_address
_BUF_OFFSET = _pybuffer._BUF_OFFSET
_read_pointer = ctypes.c_void_p.from_address
_addressof = ctypes.addressof
_read_size = ctypes.c_size_t.from_address
_PLAIN_BUFFERS = _pybuffer.PLAIN_TYPES
_export = _pybuffer.export
_SOURCE = "_ffikit_source"  # instance-dict key holding the source memoryview (the export)


def _word_reader() -> memoryview | None:
    """Process memory as a read-only memoryview of machine words, to read ``view.buf``.

    Indexing it reads one word without building a ctypes object per call (about
    twice as fast as ``c_size_t.from_address(a).value``).  Only ever indexed at
    ``id(memoryview) + _BUF_OFFSET``, a live, word-aligned object field.
    """
    if not _BUF_OFFSET or _BUF_OFFSET % 8 or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    whole = (ctypes.c_uint64 * ((1 << 59) - 1)).from_address(0)
    return memoryview(whole).cast("B").cast("Q").toreadonly()


_WORDS = _word_reader()
_WORDS_OFFSET = _BUF_OFFSET or 0  # where view.buf is, when _WORDS reads it (never 0 then)


# --- resolving what to view ---------------------------------------------------------------

class _Spec:
    """A normalised view request: item type, fixed count or None for 'as many as fit'."""

    __slots__ = ("text", "item", "count", "size", "align", "item_size", "checked_item")

    def __init__(self, text: str, item: type, count: int | None):
        self.text = text
        self.item = item
        self.checked_item = checked_type(item)  # pointers read from memory check first
        self.count = count
        self.item_size = ctypes.sizeof(item)
        layout = getattr(item, "_ffikit_layout_", None)
        self.align = layout.alignment if layout is not None else ctypes.alignment(item)
        self.size = None if count is None else self.item_size * count
        if self.align == 0 or (count is None and self.item_size == 0):
            raise DeclarationError(
                f"'{text}' has no size (an opaque struct, or items of size 0), so no memory "
                "can be viewed as it", hint="declare its members, or view a pointer to it")


_spec_cache: dict = {}
_fast_cache: dict = {}  # ctype spec -> (ctypes type, size, alignment) for fixed-size specs
_open_cache = OPEN_SPECS  # ctype spec -> (item ctypes type, item size, alignment) for 'T[]' specs


def _spec(ctype: Any, defs: Declarations | None = None) -> _Spec:
    key = (ctype, id(defs)) if defs is not None else ctype
    try:
        found = _spec_cache.get(key)
    except TypeError:  # unhashable
        found = None
    if found is not None:
        return found
    if isinstance(ctype, type) and issubclass(ctype, CData):
        spec = _Spec(_c_spelling(ctype), ctype, 1)
    else:
        from ffikit.backends.ctypes.types import to_ctypes
        from ffikit.cdecl.declarations import _default_declarations, _owner
        from ffikit.cdecl.model import Array, CType

        if not isinstance(ctype, (str, CType)):
            raise ArgumentError(
                f"a C type is given as text ('double[]'), a ctypes type or a model type, "
                f"not {type(ctype).__name__}")
        owner = _owner(ctype, defs)
        model = owner.typeof(ctype)
        platform = owner.platform
        if defs is None and owner is not _default_declarations():
            key = None  # found among earlier cdefs: a later one may mean another type
        text = ctype if isinstance(ctype, str) else model.c_name()
        if isinstance(model, Array) and model.length is None:
            spec = _Spec(text, to_ctypes(model.item, platform), None)
        else:
            spec = _Spec(text, to_ctypes(model, platform), 1)
    if key is not None:
        try:
            _spec_cache[key] = spec
        except TypeError:
            pass
    return spec


def _c_spelling(ctype: type) -> str:
    model = getattr(ctype, "_ffikit_type_", None)
    if model is not None:
        return model.c_name()
    if issubclass(ctype, ctypes.Array):
        item, length = array_parts(ctype)
        return f"{_c_spelling(item)}[{length}]"
    return ctype.__name__


# --- read-only views ----------------------------------------------------------------------

_readonly_cache: dict = {}


def _refuse(self, *args) -> None:
    raise ReadOnlyBuffer(
        f"this view of '{_c_spelling(type(self).__mro__[1])}' is read-only: its memory "
        "belongs to a read-only buffer (bytes, a read-only memoryview or array); view a "
        "bytearray or a writable array to modify it, or copy with bytearray(...)")


def _refuse_protected(self, *args) -> None:
    raise ProtectedMemory(
        f"this view of '{_c_spelling(type(self).__mro__[1])}' is read-only: its memory is "
        "protected read-only; call protect('rw') on the ffikit.Memory, then take a new view")


def _readonly_type(ctype: type, protected: bool = False) -> type:
    """A subclass of ``ctype`` whose Python-level write paths all raise ReadOnlyBuffer
    (ProtectedMemory for ``protected`` memory)."""
    key = (ctype, protected)
    found = _readonly_cache.get(key)
    if found is not None:
        return found
    refuse = _refuse_protected if protected else _refuse
    namespace: dict = {"__setattr__": refuse, "__slots__": (),
                       "_ffikit_readonly_": "protected" if protected else True,
                       "__ffikit_region__": lambda self: memoryview(self).toreadonly()}
    if issubclass(ctype, ctypes.Array):
        item = array_parts(ctype)[0]
        nested = issubclass(item, (ctypes.Structure, ctypes.Union, ctypes.Array))
        item_size = ctypes.sizeof(item)

        def getitem(self, index, _base=ctype, _item=item):
            if not nested:
                return _base.__getitem__(self, index)
            if isinstance(index, slice):
                return [getitem(self, i) for i in range(*index.indices(len(self)))]
            if index < 0:
                index += len(self)
            if not 0 <= index < len(self):
                raise IndexError("invalid index")
            return _sub_view(self, _item, index * item_size)

        namespace["__getitem__"] = getitem
        namespace["__setitem__"] = refuse
    elif issubclass(ctype, (ctypes.Structure, ctypes.Union)):
        for name, ftype, *_ in getattr(ctype, "_fields_", ()):
            if issubclass(ftype, (ctypes.Structure, ctypes.Union, ctypes.Array)):
                offset = getattr(ctype, name).offset
                namespace[name] = property(functools.partial(_sub_view, ctype=ftype, offset=offset))
    elif issubclass(ctype, ctypes._Pointer):  # a pointer subclass needs its own _type_
        namespace["_type_"] = ctype._type_
    elif issubclass(ctype, CFuncPtr):  # and a function pointer its signature (typeshed lacks it)
        namespace.update(_flags_=ctype._flags_, _restype_=ctype._restype_,  # type: ignore[attr-defined]
                         _argtypes_=ctype._argtypes_)  # type: ignore[attr-defined]
    del namespace["__slots__"]
    cls = type(f"readonly_{ctype.__name__}", (ctype,), namespace)
    _readonly_cache[key] = cls
    return cls


def _sub_view(parent, ctype: type, offset: int):
    """A read-only view of a member of a read-only view; keeps the parent alive."""
    protected = type(parent)._ffikit_readonly_ == "protected"
    child = _readonly_type(ctype, protected).from_address(ctypes.addressof(parent) + offset)  # type: ignore[attr-defined]  # a ctypes class
    child.__dict__[_SOURCE] = parent
    return child


def is_readonly(cobj: object) -> bool:
    """True for ctypes views that ffikit made read-only."""
    return bool(getattr(type(cobj), "_ffikit_readonly_", False))


# --- view -----------------------------------------------------------------------------------

def _memoryview_of(obj: object, who: str) -> memoryview:
    try:
        mv = _export(obj)
    except TypeError:
        raise ArgumentError(
            f"{who}: expected a buffer (bytes, bytearray, memoryview, array.array, "
            f"NumPy array, mmap, ctypes object, ffikit memory), got "
            f"{type(obj).__name__}") from None
    if not mv.c_contiguous:
        raise NotContiguous(
            f"{who}: the buffer is not C-contiguous (strides {mv.strides} for shape "
            f"{mv.shape}), so C cannot see it as one block; copy it first with "
            "numpy.ascontiguousarray(a) or bytes(memoryview)")
    return mv


def view(obj: object, ctype: Any, *, offset: int = 0, count: int | None = None,
         unaligned: bool = False, defs: Declarations | None = None, unsafe: bool = False):
    """A ctypes object over the memory of any buffer, without copying.

    Parameters
    ----------
    obj
        Any buffer: bytes, bytearray, memoryview (slices too), array.array,
        NumPy array, mmap, a ctypes object, ffikit memory.
    ctype
        What to see there: C text (``"int32_t[2]"``, ``"Student"``, ``"uint8_t[]"``
        for as many as fit), a ctypes type, or a model type.  Names declared
        with ``cdef`` resolve when ``defs`` is given (or pass ``defs.Student``).
    offset
        Byte offset into the buffer.
    count
        View ``count`` items of ``ctype`` as an array (``ctype * count``).
    unaligned
        Allow an address that is not aligned for the type (x86-64 tolerates it;
        other CPUs may fault).
    unsafe
        For pointer types only: give plain ctypes pointers.  By default a
        pointer read from the buffer is checked before each read through it
        (an unmapped or unreadable target raises ``InvalidAddress``), writing
        through it is refused, and a function pointer read from the buffer
        refuses to be called.

    Returns
    -------
    A ctypes object of the requested type whose memory *is* the buffer's.
    It keeps ``obj`` alive and holds a buffer export on it, so a bytearray or
    array.array cannot be resized (and moved) while the view lives — CPython
    raises ``BufferError`` instead.  A read-only source gives a read-only view:
    reading works, every write through the view raises ``ReadOnlyBuffer``.

    Raises
    ------
    BufferTooSmall, MisalignedBuffer, NotContiguous, TypeError, ValueError

    Notes
    -----
    Read-only views close every write path that goes through Python attribute
    and item assignment (elements, slices, struct fields, nested structs,
    elements of arrays of structs).  ctypes has no read-only objects, so paths
    that go around Python stay open and must not be used on a read-only view:
    ``memoryview(ro)`` (ctypes' own buffer export is writable; use
    ``ffikit.buffer(ro)``, which is read-only), ``ctypes.memmove``/``memset``
    onto ``addressof(ro)``, ``ctypes.pointer(ro)[0] = ...``, and passing it to
    a C function through raw ctypes.

    Examples
    --------
    >>> buf = bytearray(8)
    >>> arr = ffikit.view(buf, "int32_t[2]")
    >>> arr[1] = 5; buf[4]
    5
    """
    try:
        if type(obj) in _PLAIN_BUFFERS and not (offset or count or defs or unaligned or unsafe):
            # The common case: CPython's from_buffer checks size, writability and
            # contiguity, holds the export and keeps obj alive, all in C.  Anything
            # unusual falls through to the general path, which explains itself.
            fast = _fast_cache.get(ctype)
            if fast is not None:
                from_buffer, align = fast[0].from_buffer, fast[2]
            else:
                measure = NBYTES.get(type(obj))  # 'T[]': as many whole items as the buffer holds
                nbytes = (measure or nbytes_reader(type(obj)))(obj)
                sizes = OPEN_TYPES.get(ctype)
                fast = sizes.get(nbytes) if sizes is not None else None
                if fast is None:
                    fast = open_type(ctype, nbytes)
                    if fast is None:
                        return _view(obj, ctype, offset, count, unaligned, defs)
                from_buffer, align = fast
            try:
                result = from_buffer(obj)
            except (TypeError, ValueError):
                result = None
            if result is not None and _addressof(result) % align == 0:
                return result
        return _view(obj, ctype, offset, count, unaligned, defs, unsafe)
    except FFIError:
        raise
    except (ValueError, OverflowError, MemoryError) as exc:  # released, closed, absurd sizes
        raise unusable(exc, obj, "ffikit.view") from None


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"ffikit.view: {name} must be an int, got {type(value).__name__}")
    return int(value)


def _view(obj, ctype, offset, count, unaligned, defs, unsafe=False):
    spec = _spec_cache.get(ctype) if defs is None else None
    if spec is None:
        spec = _spec(ctype, defs)
    item = spec.checked_item if not unsafe else spec.item
    if type(obj) in _PLAIN_BUFFERS:
        mv = memoryview(obj)
        if not mv.c_contiguous:
            mv = _memoryview_of(obj, "ffikit.view")
    else:
        mv = _memoryview_of(obj, "ffikit.view")
    nbytes = mv.nbytes
    if type(offset) is not int or (count is not None and type(count) is not int):
        offset, count = _whole(offset, "offset"), None if count is None else _whole(count, "count")
    if offset < 0:
        raise InvalidValue(f"ffikit.view: offset must be >= 0, got {offset}")
    item_size = spec.item_size
    if count is not None:
        if count < 1:
            raise InvalidValue(f"ffikit.view: count must be >= 1, got {count}")
        vtype = exporting_type(item * count)
        size = item_size * count
    elif spec.count is None:
        room = nbytes - offset
        if room <= 0 or room < item_size:
            raise BufferTooSmall(
                f"ffikit.view: no room for even one '{spec.text[:-2]}' ({item_size} bytes) at "
                f"offset {offset} of a {nbytes}-byte buffer")
        if room % item_size:
            raise InvalidValue(
                f"ffikit.view: {room} bytes at offset {offset} are not a whole number of "
                f"'{spec.text[:-2]}' ({item_size} bytes each); pass count= to view a prefix")
        vtype = exporting_type(item * (room // item_size))
        size = room
        if defs is None and not unsafe and _spec_cache.get(ctype) is spec:
            _open_cache[ctype] = (item, item_size, spec.align)  # the checked item type
    else:
        vtype = exporting_type(item)
        size = spec.size
        if defs is None and not unsafe and _spec_cache.get(ctype) is spec:  # only what _spec could cache
            _fast_cache[ctype] = (vtype, size, spec.align)
    if offset + size > nbytes:
        n = count if count is not None else (None if spec.count else size // item_size)
        label = spec.text if n is None else f"{spec.text.removesuffix('[]')}[{n}]"
        raise BufferTooSmall(
            f"ffikit.view: '{label}' needs {size} bytes at offset {offset}, "
            f"the buffer has {nbytes} bytes")
    addr = (_read_pointer(id(mv) + _BUF_OFFSET).value if _BUF_OFFSET else _memoryview_address(mv)
            ) + offset
    if addr % spec.align and not unaligned:
        raise MisalignedBuffer(
            f"ffikit.view: address {addr:#x} is not {spec.align}-byte aligned for "
            f"'{spec.text.removesuffix('[]')}'; pass unaligned=True to allow it, or copy into "
            "aligned memory (ffikit.alloc)")
    if mv.readonly:
        protected = getattr(obj, "protection", "rw") in ("r", "rx")  # ffikit.Memory
        result = _readonly_type(vtype, protected).from_address(addr)
    else:
        result = vtype.from_address(addr)
    result.__dict__[_SOURCE] = mv  # keeps obj alive and its export held
    return result


# --- addresses and memoryviews over foreign memory --------------------------------------------

def address(obj: object) -> int:
    """The integer address of a buffer's first byte, a ctypes object, or a pointer's target.

    Buffers (bytes, bytearray, memoryview slices, array.array, NumPy, mmap):
    the first byte the object shows.  ctypes objects: ``addressof``.  ctypes
    pointers, ``c_void_p``, function pointers: the address they hold (0 for
    NULL).  ffikit memory: its ``.address``.  The address is valid only while
    ``obj`` is alive and not resized.
    """
    t = type(obj)
    if t in _PLAIN_BUFFERS and _WORDS is not None:
        mv = obj if t is memoryview else memoryview(obj)  # type: ignore[arg-type]  # a buffer type; alive while read
        return _WORDS[(id(mv) + _WORDS_OFFSET) >> 3]
    return _address_slow(obj, t)


def _address_slow(obj: object, t: type) -> int:
    if t in _PLAIN_BUFFERS:
        return _memoryview_address(obj if t is memoryview else memoryview(obj))  # type: ignore[arg-type]
    if isinstance(obj, CData):
        if isinstance(obj, (ctypes._Pointer, CFuncPtr)):
            return ctypes.cast(obj, ctypes.c_void_p).value or 0
        if isinstance(obj, (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)):
            return ctypes.cast(obj, ctypes.c_void_p).value or 0
        return ctypes.addressof(obj)
    memory_address = getattr(t, "address", None)
    if isinstance(memory_address, property):  # ffikit Memory and friends
        return obj.address  # type: ignore[attr-defined]
    if t is int:
        return obj  # type: ignore[return-value]
    if obj is None:
        return 0
    try:  # any other buffer; TypeError says it is none
        return _memoryview_address(memoryview(obj))  # type: ignore[arg-type]
    except TypeError:
        raise ArgumentError(f"ffikit.address: {t.__name__} is neither a buffer, a ctypes object "
                        "nor a pointer") from None


def buffer(address_or_cobj: Any, size: int | None = None, *, readonly: bool = False,
           owner: object = None, unsafe: bool = False) -> memoryview:
    """A memoryview (format ``'B'``) over foreign memory, keeping ``owner`` alive.

    Parameters
    ----------
    address_or_cobj
        An integer address, a ctypes object (its own memory; ``size`` defaults to
        ``sizeof``), or a ctypes pointer (its target; ``size`` is required).
    size
        Number of bytes.
    readonly
        Give a read-only memoryview.
    owner
        An object that must stay alive while the memory is used (the memoryview,
        and every slice of it, keeps it alive).
    unsafe
        Skip the address check.  By default an integer address or a pointer's
        target must be readable memory of this process (and writable unless
        ``readonly``), else ``InvalidAddress`` is raised instead of a crash.

    Notes
    -----
    ffikit cannot know how long memory at a raw address stays valid: keeping
    ``owner`` alive is how you tell it.  NumPy reads the result directly:
    ``np.frombuffer(ffikit.buffer(p, n), dtype)``.
    """
    obj = address_or_cobj
    if isinstance(obj, CData) and not isinstance(
            obj, (ctypes._Pointer, CFuncPtr, ctypes.c_void_p, ctypes.c_char_p)):
        if size is None:
            size = ctypes.sizeof(obj)
        elif size > ctypes.sizeof(obj):
            raise BufferTooSmall(f"ffikit.buffer: asked for {size} bytes of a "
                                 f"{ctypes.sizeof(obj)}-byte '{_c_spelling(type(obj))}'")
        readonly = readonly or is_readonly(obj)
        owner = (obj, owner) if owner is not None else obj
        addr = ctypes.addressof(obj)
        checked = False  # a ctypes object's own memory
    else:
        checked = True
        addr = address(obj)
        if size is None:
            raise ArgumentError("ffikit.buffer: size= is required for a raw address or pointer")
        if owner is None and isinstance(obj, CData):
            owner = obj
    if not isinstance(size, int) or isinstance(size, bool):
        raise ArgumentError(f"ffikit.buffer: size must be an int, got {type(size).__name__}")
    if size < 0:
        raise InvalidValue(f"ffikit.buffer: size must be >= 0, got {size}")
    if not addr and size:
        raise InvalidAddress("ffikit.buffer: NULL address")
    try:
        if addr + size > ADDRESS_END:
            raise OverflowError("past the end of the address space")
        if checked and not unsafe:
            check_range(addr, size, write=not readonly, what="ffikit.buffer")
        holder = (ctypes.c_ubyte * size).from_address(addr) if size else (ctypes.c_ubyte * 0)()
    except (MemoryError, OverflowError) as exc:  # sizes no memory of this process has
        raise range_refusal("ffikit.buffer", addr, size, exc) from None
    holder.__dict__[_SOURCE] = owner
    mv = memoryview(holder).cast("B")
    return mv.toreadonly() if readonly else mv
