"""The ctypes backend: model types -> real ctypes types, built lazily and cached.

Struct classes reproduce the layout ``layout.py`` computed, byte for byte:
explicit padding members where the platform pads, and bitfields stored as raw
bytes behind properties that read and write exactly the right bits (ctypes'
own bitfield placement differs from gcc's in several CPython versions).  Each
struct class carries ``_ffikit_type_`` (the model type) and
``_ffikit_layout_`` (its :class:`~ffikit.cdecl.layout.Layout`).
"""

from __future__ import annotations

import ctypes
import functools
import itertools

from ffikit import forksafe
from ffikit.backends.ctypes import pickling as _pickling
from ffikit.backends.ctypes import shared as _shared
from ffikit.backends.ctypes.alignment import ALIGN_NOTE, HAS_ALIGN, aligner, expressible_alignment
from ffikit.backends.ctypes.bitfields import bit_property as _bit_property
from ffikit.backends.ctypes.bitfields import bit_storage as _bit_storage
from ffikit.backends.ctypes.bitfields import forward_property as _forward_property
from ffikit.backends.ctypes.byvalue import by_value_class
from ffikit.backends.ctypes.classes import array_class
from ffikit.backends.ctypes.field_checks import install_checks, setattr_slots
from ffikit.backends.ctypes.pointer_fields import BufferPointerField
from ffikit.cdecl.gcc_layout import FieldLayout
from ffikit.cdecl.layout import Layout, Platform, get_platform, int_info, layout, sizeof
from ffikit.cdecl.model import (
    Array,
    Complex,
    CType,
    Enum,
    FunctionType,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
    Void,
    resolve,
)
from ffikit.errors import DeclarationError

__all__ = ["to_ctypes", "model_of", "ctype_of", "ctype_int_range"]

_INTS = {
    (1, True): ctypes.c_int8, (1, False): ctypes.c_uint8,
    (2, True): ctypes.c_int16, (2, False): ctypes.c_uint16,
    (4, True): ctypes.c_int32, (4, False): ctypes.c_uint32,
    (8, True): ctypes.c_int64, (8, False): ctypes.c_uint64,
}
# Where the platform's C type is the host's, prefer ctypes' own name for it.
_NAMED = {
    "int": ctypes.c_int, "unsigned int": ctypes.c_uint,
    "long": ctypes.c_long, "unsigned long": ctypes.c_ulong,
    "long long": ctypes.c_longlong, "unsigned long long": ctypes.c_ulonglong,
    "short": ctypes.c_short, "unsigned short": ctypes.c_ushort,
    "signed char": ctypes.c_byte, "unsigned char": ctypes.c_ubyte,
    "size_t": ctypes.c_size_t, "ssize_t": ctypes.c_ssize_t,
}

_cache: dict = {}
_pickling.register()  # ffikit's classes pickle by (declarations, name): see pickling.py
_hidden_names = itertools.count()


def _hidden(kind: str) -> str:
    """A member name no C field and no other generated class uses.

    ``_anonymous_`` copies every member of an anonymous struct onto the outer
    class, so padding/storage names must be unique across classes, not just
    within one.
    """
    return f"_ffikit_{kind}_{next(_hidden_names)}"
_lock = forksafe.RLock()
_depth = 0  # nesting of to_ctypes calls (under _lock)
_pending: list = []  # (struct, platform) whose classes exist only for pointers so far
_building: set = set()  # classes whose members are being filled


def to_ctypes(ctype: CType, platform: Platform | str | None = None) -> type:
    """The ctypes type for a model type on ``platform`` (default: the host).

    Typedefs resolve to their target's ctypes type; ``void *`` is ``c_void_p``;
    function pointers are ``CFUNCTYPE`` classes; enums are their integer type.
    """
    global _depth
    plat = get_platform(platform)
    key = (ctype, plat.name)
    found = _cache.get(key)
    if found is not None and not (isinstance(ctype, StructOrUnion)
                                  and found._ffikit_layout_ is None and ctype.fields is not None):
        return found
    with _lock:
        _depth += 1
        try:
            found = _cache.get(key)
            if found is None:
                found = _build(ctype, plat)
                _cache[key] = found
            elif isinstance(ctype, StructOrUnion) and _layout_of(found) is None \
                    and found not in _building:
                _complete_class(found, ctype, plat)  # opaque when first mapped, or a shell
            if _depth == 1:
                while _pending:  # struct classes made for pointers, filled now
                    to_ctypes(*_pending.pop())
        finally:
            _depth -= 1
    return found


def model_of(cls: type) -> CType | None:
    """The model type a ctypes struct class was built from, if ffikit built it."""
    return getattr(cls, "_ffikit_type_", None)


def _layout_of(cls: type) -> Layout | None:
    """The layout of a struct class ffikit built (None while it is opaque or being built)."""
    return getattr(cls, "_ffikit_layout_", None)


def _primitive(t: Primitive, plat: Platform, host: bool) -> type:
    size, align = plat.primitives[t.name]
    if t.name == "char":
        return ctypes.c_char
    if t.name == "_Bool":
        return ctypes.c_bool
    if t.name == "float":
        return ctypes.c_float
    if t.name == "double":
        return ctypes.c_double
    if t.name == "long double":
        if size == ctypes.sizeof(ctypes.c_longdouble):
            return ctypes.c_longdouble
        return ctypes.c_double if size == 8 else ctypes.c_uint8 * size
    if t.name == "wchar_t" and size == ctypes.sizeof(ctypes.c_wchar):
        return ctypes.c_wchar
    if size == 16:
        return ctypes.c_uint64 * 2  # __int128: no ctypes equivalent; raw storage
    signed = int_info(t, plat)[1]
    named = _NAMED.get(t.name)
    if host and named is not None and ctypes.sizeof(named) == size:
        return named
    return _INTS[(size, signed)]


def _build(ctype: CType, plat: Platform) -> type:
    host = plat == get_platform(None)
    t = ctype
    if isinstance(t, Typedef):
        return to_ctypes(t.type, plat)
    if isinstance(t, Primitive):
        return _primitive(t, plat, host)
    if isinstance(t, Complex):
        return array_class(to_ctypes(t.base, plat), 2)
    if isinstance(t, Enum):
        size, signed = int_info(t, plat)
        return _INTS[(size, signed)]
    if isinstance(t, Pointer):
        target = resolve(t.target)
        if isinstance(target, Void):
            return ctypes.c_void_p
        if isinstance(target, FunctionType):
            return _function_pointer(target, plat)
        if isinstance(target, Array) and target.length is None:
            return ctypes.POINTER(to_ctypes(target.item, plat))
        if isinstance(target, StructOrUnion) and target.fields is not None \
                and (target, plat.name) not in _cache:
            # Only a class is needed here, not its members: filling them now could
            # need, by value, a struct whose own members are half built (A -> B * ->
            # B holds an A): fill it once the outermost type is done.
            _pending.append((target, plat))
            return ctypes.POINTER(_struct_class(target, plat, fill=False))
        return ctypes.POINTER(to_ctypes(t.target, plat))
    if isinstance(t, Array):
        if t.length is None:
            raise DeclarationError(
                f"'{t.c_name()}' has no length, so it has no ctypes type",
                hint="give a length, or view a buffer with 'T[]' to fit its size",
            )
        sizeof(t, plat)  # refuses arrays beyond the address space (ctypes says only "too large")
        return array_class(to_ctypes(t.item, plat), t.length)
    if isinstance(t, StructOrUnion):
        return _struct_class(t, plat)
    if isinstance(t, FunctionType):
        return _function_pointer(t, plat)
    if isinstance(t, Void):
        raise DeclarationError("'void' has no ctypes type; use 'void *' for a pointer")
    raise TypeError(f"cannot map {ctype!r} to ctypes")


def _function_pointer(fn: FunctionType, plat: Platform) -> type:
    result = resolve(fn.result)
    restype = None if isinstance(result, Void) else _value_type(fn.result, plat)
    argtypes = [_value_type(p, plat) for p in fn.params]
    # structs by value in the classes libffi reads from the right registers
    # (to_ctypes's classes are ctypes classes; it is typed ``type``)
    return ctypes.CFUNCTYPE(*[t if t is None else by_value_class(t) or t  # type: ignore[arg-type]
                              for t in (restype, *argtypes)])


def _value_type(t: CType, plat: Platform) -> type:
    """The ctypes type of a value passed to or returned from C."""
    r = resolve(t)
    if isinstance(r, Array):  # parameters decay; be defensive for hand-built models
        return ctypes.POINTER(to_ctypes(r.item, plat))
    return to_ctypes(t, plat)


_type_modified = ctypes.pythonapi.PyType_Modified
_type_modified.argtypes = [ctypes.py_object]
_type_modified.restype = None
def _predicted_align(t: CType, plat: Platform) -> int:
    """``ctypes.alignment(to_ctypes(t))`` without building a struct class."""
    r = resolve(t)
    while isinstance(r, Array):
        r = resolve(r.item)
    if isinstance(r, StructOrUnion):
        built = _cache.get((r, plat.name))
        if built is not None and _layout_of(built) is not None:
            return ctypes.alignment(built)
        return expressible_alignment(layout(r, plat).alignment) if r.fields is not None else 1
    if isinstance(r, (Pointer, FunctionType)):
        return ctypes.alignment(ctypes.c_void_p)
    return ctypes.alignment(to_ctypes(r, plat))


def _plan(t: StructOrUnion, lay: Layout, plat: Platform) -> tuple[bool, int]:
    """``(natural, align)``: whether ctypes' own placement reproduces ``lay`` with no
    ``_pack_``, and the alignment the class must carry."""
    want = expressible_alignment(lay.alignment)
    aligns = []
    for kind, m, off, nbytes in _members(t, lay):
        if kind == "bits":
            aligns.append((off, ctypes.alignment(_bit_storage(nbytes, off, lay.alignment))))
        else:
            item = _flexible_item(m.type) or m.type
            aligns.append((off, _predicted_align(item, plat)))
    most = max((a for _, a in aligns), default=1)
    natural = most <= want and all(off % a == 0 for off, a in aligns)
    return natural, want


def _members(t: StructOrUnion, lay: Layout):
    """``(kind, member, offset, nbytes)`` for each ctypes field a class will have:
    ``"bits"`` for a run of bitfields (one storage field), ``"field"`` otherwise."""
    run: list = []
    out: list = []

    def store_run() -> None:
        sized = [m for m in run if m.bit_width]
        if sized:
            first = 0 if t.is_union else min(m.bit_offset for m in sized) // 8
            last = max((m.bit_offset + m.bit_width + 7) // 8 for m in sized)
            out.append(("bits", tuple(sized), first, last - first))
        run.clear()

    for m in lay.members:
        if m.is_bitfield:
            run.append(m)
            if t.is_union:
                store_run()
            continue
        store_run()
        out.append(("field", m, m.offset, m.size))
    store_run()
    return out


def _struct_class(t: StructOrUnion, plat: Platform, fill: bool = True) -> type:
    cls = _shared.find(t, plat, fill and _complete_class)  # the same C type, reached before
    if cls is not None:
        _cache[(t, plat.name)] = cls
        if fill and t.fields is not None and _layout_of(cls) is None and cls not in _building:
            _complete_class(cls, t, plat)
        return cls
    base: type = ctypes.Union if t.is_union else ctypes.Structure
    name = t.name or t.typedef_name or "anonymous_" + t.kind
    namespace = {"__module__": "ffikit.types", "__qualname__": name,
                 "__reduce__": _pickling.reduce_struct,  # by value, by recipe
                 "_ffikit_type_": t, "_ffikit_layout_": None}
    namespace.update(setattr_slots(t.is_union))  # checked members (field_checks)
    lay = layout(t, plat) if t.fields is not None else None
    natural, align = (True, 1) if lay is None else _plan(t, lay, plat)
    if lay is not None and not HAS_ALIGN and align > 1 and (
            not natural or _natural_align(t, lay, plat) < align):
        base = aligner(base, align)
    if lay is not None and lay.alignment != align:
        namespace["__doc__"] = f"C {t.c_name()}." + ALIGN_NOTE.format(
            want=lay.alignment, most=align)
    if lay is None:
        namespace["__init__"] = _opaque_init  # opaque: no instances until its members arrive
    cls = type(name, (base,), namespace)
    _pickling.remember(cls)
    _cache[(t, plat.name)] = cls  # before members: self-reference through pointers
    _shared.remember(cls, t, plat)
    if lay is None or not fill:
        return cls
    _building.add(cls)
    try:
        _fill_struct(cls, t, lay, plat)
        _set_layout(cls, lay)
    except BaseException:
        _cache.pop((t, plat.name), None)  # no half-built class for the next caller
        _shared.forget(cls)
        raise
    finally:
        _building.discard(cls)
    return cls


def _set_layout(cls: type, lay: Layout) -> None:
    # On 3.11 ctypes' Union metaclass sets attributes without invalidating the type
    # attribute cache, so a read of the earlier None would stick: invalidate it.
    cls._ffikit_layout_ = lay  # type: ignore[attr-defined]  # ffikit's own class attribute
    _type_modified(cls)


def _natural_align(t: StructOrUnion, lay: Layout, plat: Platform) -> int:
    most = 1
    for kind, m, off, nbytes in _members(t, lay):
        if kind == "bits":
            most = max(most, ctypes.alignment(_bit_storage(nbytes, off, lay.alignment)))
        else:
            item = _flexible_item(m.type) or m.type
            most = max(most, _predicted_align(item, plat))
    return most


def _complete_class(cls: type, t: StructOrUnion, plat: Platform) -> None:
    """Give a class made while ``t`` was opaque its members, now that it has them."""
    with _lock:
        if _layout_of(cls) is not None:
            return
        lay = layout(t, plat)
        if "__init__" in cls.__dict__:  # the opaque class's refusal goes
            delattr(cls, "__init__")
        _building.add(cls)
        try:
            _fill_struct(cls, t, lay, plat, check_align=HAS_ALIGN or "_ffikit_align" in dir(cls)
                         or _plan(t, lay, plat) == (True, _natural_align(t, lay, plat)))
        finally:
            _building.discard(cls)
        _set_layout(cls, lay)


def _opaque_init(self, *args, **kwargs) -> None:
    """Opaque structs exist only behind pointers that C hands out."""
    t = type(self)._ffikit_type_
    raise DeclarationError(
        f"cannot create a '{t.c_name()}': it is opaque (declared without its members), "
        "so its size is unknown",
        hint=f"receive a '{t.c_name()} *' from C, or declare the members",
    )


def _fill_struct(cls: type, t: StructOrUnion, lay: Layout, plat: Platform,
                 check_align: bool = True) -> None:
    if not issubclass(cls, (ctypes.Structure, ctypes.Union)):
        raise TypeError(f"ffikit bug: {cls!r} is not a ctypes struct or union class")
    fields: list = []  # (name, ctype, offset)
    anonymous: list[str] = []
    bitfields: list[tuple[str, FieldLayout, str, int]] = []  # (name, member, storage, first byte)
    natural, align = _plan(t, lay, plat)
    for kind, m, off, nbytes in _members(t, lay):
        if kind == "bits":
            store = _hidden("bits")
            fields.append((store, _bit_storage(nbytes, off, lay.alignment), off))
            bitfields.extend((b.name, b, store, off) for b in m if b.name is not None)
            continue
        flexible = _flexible_item(m.type)
        if flexible is not None:
            ctype = array_class(to_ctypes(flexible, plat), 0)
        else:
            ctype = to_ctypes(m.type, plat)
        if m.name is None:
            fname = _hidden("anon")
            anonymous.append(fname)
        else:
            fname = m.name
        fields.append((fname, ctype, off))

    ordered: list = []
    cursor = 0
    for fname, ctype, off in fields if t.is_union else sorted(fields, key=lambda f: f[2]):
        if not t.is_union and off > cursor:
            ordered.append((_hidden("pad"), ctypes.c_uint8 * (off - cursor)))
        ordered.append((fname, ctype))
        cursor = max(cursor, off + ctypes.sizeof(ctype))
    if t.is_union:
        ordered.append((_hidden("size"), ctypes.c_uint8 * lay.size))
    elif lay.size > cursor:
        ordered.append((_hidden("pad"), ctypes.c_uint8 * (lay.size - cursor)))

    if anonymous:
        cls._anonymous_ = anonymous
    if not natural:
        # Members off their ctypes alignment, or a lower alignment than ctypes' own:
        # pack to 1 (explicit padding places every member) and let the base class
        # (or _align_) give the alignment.
        cls._pack_ = 1
        # with _pack_, newer CPythons want the layout named explicitly (typeshed: 3.14+)
        cls._layout_ = "ms"  # type: ignore[union-attr]
    if HAS_ALIGN and align > 1:
        cls._align_ = align  # type: ignore[union-attr]  # read by 3.13+ (typeshed: 3.13+)
    cls._fields_ = ordered
    storage = dict(ordered)
    for bname, m, store, first in bitfields:
        setattr(cls, bname, _bit_property(m, store, first, plat, storage[store]))
    types_by_name = dict(ordered)
    # Pointer members take buffers zero-copy and keep them alive.  Not on anonymous
    # types: ctypes' _anonymous_ needs their raw CFields to build the outer struct.
    for m in lay.members if (t.name or t.typedef_name) else ():
        target = resolve(m.type)
        if m.name and not m.is_bitfield and isinstance(target, Pointer) \
                and not isinstance(resolve(target.target), FunctionType):
            setattr(cls, m.name, BufferPointerField(cls.__dict__[m.name], types_by_name[m.name],
                                                    target, t.c_name(), m.name))
    for fname in anonymous:
        for attr, value in vars(types_by_name[fname]).items():
            if getattr(value, "_ffikit_bitfield_", False):
                setattr(cls, attr, _forward_property(fname, attr))
    install_checks(cls, t, plat)
    if any(name.startswith("_ffikit_") for name, _ in ordered):
        # Hidden padding/storage fields come first in _fields_: positional arguments
        # must still fill the C members in declaration order, as ctypes does without them.
        # ffikit's own class attribute, and an __init__ in place of ctypes' own
        cls._ffikit_members_ = tuple(f.name for f in t.fields or () if f.name)  # type: ignore[union-attr]
        cls.__init__ = _members_init  # type: ignore[method-assign]
    if ctypes.sizeof(cls) != lay.size or (  # pragma: no cover - a bug if it happens
            ctypes.alignment(cls) != align and check_align):
        raise AssertionError(
            f"ffikit bug: ctypes size/alignment {ctypes.sizeof(cls)}/{ctypes.alignment(cls)} "
            f"!= computed {lay.size}/{align} for {t.c_name()}"
        )


def _members_init(self, *args, **kwargs) -> None:
    """``Struct(1, 2.0, name=b"x")``: the C members in declaration order, then by name."""
    members = type(self)._ffikit_members_
    if len(args) > len(members):
        raise TypeError(f"{type(self).__name__} takes at most {len(members)} positional "
                        f"initializers ({', '.join(members)}), got {len(args)}")
    for name in kwargs:
        if name in members[:len(args)]:
            raise TypeError(f"{type(self).__name__}: member {name!r} given twice")
    (ctypes.Union if isinstance(self, ctypes.Union) else ctypes.Structure).__init__(self)
    for name, value in zip(members, args):
        setattr(self, name, value)
    for name, value in kwargs.items():
        setattr(self, name, value)


def _flexible_item(t: CType) -> CType | None:
    """The item type of a flexible array member ``T[]`` (None for any other type)."""
    r = resolve(t)
    return r.item if isinstance(r, Array) and r.length is None else None


def ctype_of(t: CType) -> type | None:
    """The ctypes type carrying ``t`` on the host (None for ``void``)."""
    if isinstance(resolve(t), Void):
        return None
    return to_ctypes(t)


@functools.cache
def ctype_int_range(ctype: type) -> tuple[int, int]:
    """``(lowest, highest)`` value of a ctypes integer type (the model's rule, via its model)."""
    from ffikit.rules.kinds import int_range

    model = model_of(ctype)
    if model is None:
        code = getattr(ctype, "_type_", None)
        model = _SIMPLE_MODELS.get(code) if isinstance(code, str) else None
    if model is None:
        raise TypeError(f"{ctype.__name__} is not a ctypes integer type")
    return int_range(model)


# ctypes simple-type codes -> model primitives, for ctypes types ffikit did not build
_SIMPLE_MODELS = {
    "?": Primitive("_Bool"), "c": Primitive("char"), "b": Primitive("signed char"),
    "B": Primitive("unsigned char"), "h": Primitive("short"), "H": Primitive("unsigned short"),
    "i": Primitive("int"), "I": Primitive("unsigned int"), "l": Primitive("long"),
    "L": Primitive("unsigned long"), "q": Primitive("long long"),
    "Q": Primitive("unsigned long long"), "u": Primitive("wchar_t"),
}
