"""What the C standard library's functions promise, as data: gcc's builtins, for ffikit.

glibc's headers put ``format`` attributes only on the ``snprintf`` family and
``access`` attributes only under ``_FORTIFY_SOURCE``; gcc still knows that
``printf``'s first argument is a format, that ``memcpy`` reads and writes
``n`` bytes and that ``strlen`` takes no NULL, because it knows the standard
functions themselves.  :data:`STANDARD` is that knowledge as a table: per
function, its standard prototype (parameter kinds), the ``nonnull``
parameters, the format (archetype, format parameter, first variadic) and
its size relations.  Functions that take a ``va_list`` (``vprintf`` ...) are
refused: a ``va_list`` cannot be built from Python, and any pointer passed
for one lets C read arbitrary memory.

:func:`with_standard_facts` adds the facts to a declaration only when its
parameters match the standard prototype (name, parameter kinds, variadic),
so a user's own ``int printf(int)`` is left alone; facts the header itself
states are kept, and every added fact names its source in messages
("the C standard: memcpy's n").  Indices are 0-based.
"""

from __future__ import annotations

from ffikit.cdecl import model as m
from ffikit.cdecl.attributes import Access, FunctionFacts
from ffikit.cdecl.layout import sizeof
from ffikit.records import data_record
from ffikit.rules.kinds import int_range

__all__ = ["StandardFunction", "STANDARD", "matches", "standard_facts", "with_standard_facts"]


@data_record(frozen=True)
class StandardFunction:
    """One standard function: ``params`` are kinds (see :func:`_kind_matches`);
    ``sizes`` are ``(buffer, mode, size parameter, factor parameter or None)``."""

    params: tuple[str, ...]
    variadic: bool = False
    nonnull: tuple[int, ...] = ()
    format: tuple[str, int, int] | None = None
    sizes: tuple[tuple[int, str, int, int | None], ...] = ()
    va_list: bool = False


_F = StandardFunction
_W, _R = "write_only", "read_only"


def _printf(params: tuple[str, ...], fmt: int, nonnull: tuple[int, ...], kind: str = "printf",
            sizes: tuple = ()) -> tuple[StandardFunction, StandardFunction]:
    """The variadic function and its ``v*`` twin (the same parameters, then a va_list)."""
    return (_F(params, True, nonnull, (kind, fmt, len(params)), sizes),
            _F((*params, "va_list"), False, nonnull, None, sizes, va_list=True))


STANDARD: dict[str, StandardFunction] = {}
for _name, _pair in {
    "printf": _printf(("cstr",), 0, (0,)),
    "fprintf": _printf(("FILE*", "cstr"), 1, (0, 1)),
    "dprintf": _printf(("int", "cstr"), 1, (1,)),
    "sprintf": _printf(("char*", "cstr"), 1, (0, 1)),
    "snprintf": _printf(("char*", "size", "cstr"), 2, (2,), "printf", ((0, _W, 1, None),)),
    "asprintf": _printf(("char**", "cstr"), 1, (0, 1)),
    "scanf": _printf(("cstr",), 0, (0,), "scanf"),
    "fscanf": _printf(("FILE*", "cstr"), 1, (0, 1), "scanf"),
    "sscanf": _printf(("cstr", "cstr"), 1, (0, 1), "scanf"),
}.items():
    STANDARD[_name], STANDARD["v" + _name] = _pair

STANDARD.update({
    # <string.h>: nonnull as glibc's __nonnull, sizes as gcc's builtins know them
    "memcpy": _F(("void*", "void*", "size"), nonnull=(0, 1), sizes=((0, _W, 2, None), (1, _R, 2, None))),
    "memmove": _F(("void*", "void*", "size"), nonnull=(0, 1), sizes=((0, _W, 2, None), (1, _R, 2, None))),
    "memset": _F(("void*", "int", "size"), nonnull=(0,), sizes=((0, _W, 2, None),)),
    "memcmp": _F(("void*", "void*", "size"), nonnull=(0, 1), sizes=((0, _R, 2, None), (1, _R, 2, None))),
    "memchr": _F(("void*", "int", "size"), nonnull=(0,), sizes=((0, _R, 2, None),)),
    "memccpy": _F(("void*", "void*", "int", "size"), nonnull=(0, 1), sizes=((0, _W, 3, None),)),
    "bzero": _F(("void*", "size"), nonnull=(0,), sizes=((0, _W, 1, None),)),
    "explicit_bzero": _F(("void*", "size"), nonnull=(0,), sizes=((0, _W, 1, None),)),
    "strncpy": _F(("char*", "cstr", "size"), nonnull=(0, 1), sizes=((0, _W, 2, None),)),
    "strxfrm": _F(("char*", "cstr", "size"), nonnull=(1,), sizes=((0, _W, 2, None),)),
    "strlen": _F(("cstr",), nonnull=(0,)),
    "strnlen": _F(("cstr", "size"), nonnull=(0,)),
    "strcpy": _F(("char*", "cstr"), nonnull=(0, 1)),
    "strcat": _F(("char*", "cstr"), nonnull=(0, 1)),
    "strncat": _F(("char*", "cstr", "size"), nonnull=(0, 1)),
    "strcmp": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strncmp": _F(("cstr", "cstr", "size"), nonnull=(0, 1)),
    "strcasecmp": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strncasecmp": _F(("cstr", "cstr", "size"), nonnull=(0, 1)),
    "strcoll": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strchr": _F(("cstr", "int"), nonnull=(0,)),
    "strrchr": _F(("cstr", "int"), nonnull=(0,)),
    "strstr": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strspn": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strcspn": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strpbrk": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "strdup": _F(("cstr",), nonnull=(0,)),
    "strndup": _F(("cstr", "size"), nonnull=(0,)),
    "strtok": _F(("char*", "cstr"), nonnull=(1,)),
    # <stdlib.h>, <stdio.h>, <unistd.h>, <sys/socket.h>
    "atoi": _F(("cstr",), nonnull=(0,)),
    "atol": _F(("cstr",), nonnull=(0,)),
    "atof": _F(("cstr",), nonnull=(0,)),
    "fgets": _F(("char*", "int", "FILE*"), nonnull=(0, 2), sizes=((0, _W, 1, None),)),
    "fputs": _F(("cstr", "FILE*"), nonnull=(0, 1)),
    "puts": _F(("cstr",), nonnull=(0,)),
    "fopen": _F(("cstr", "cstr"), nonnull=(0, 1)),
    "fclose": _F(("FILE*",), nonnull=(0,)),
    "fread": _F(("void*", "size", "size", "FILE*"), nonnull=(0, 3), sizes=((0, _W, 1, 2),)),
    "fwrite": _F(("void*", "size", "size", "FILE*"), nonnull=(0, 3), sizes=((0, _R, 1, 2),)),
    "setvbuf": _F(("FILE*", "char*", "int", "size"), nonnull=(0,), sizes=((1, _W, 3, None),)),
    "read": _F(("int", "void*", "size"), sizes=((1, _W, 2, None),)),
    "write": _F(("int", "void*", "size"), sizes=((1, _R, 2, None),)),
    "pread": _F(("int", "void*", "size", "off"), sizes=((1, _W, 2, None),)),
    "pwrite": _F(("int", "void*", "size", "off"), sizes=((1, _R, 2, None),)),
    "recv": _F(("int", "void*", "size", "int"), sizes=((1, _W, 2, None),)),
    "send": _F(("int", "void*", "size", "int"), sizes=((1, _R, 2, None),)),
    "getcwd": _F(("char*", "size"), sizes=((0, _W, 1, None),)),
    "gethostname": _F(("char*", "size"), nonnull=(0,), sizes=((0, _W, 1, None),)),
    "readlink": _F(("cstr", "char*", "size"), nonnull=(0, 1), sizes=((1, _W, 2, None),)),
})


def _char_pointer(t: m.CType, depth: int = 1) -> bool:
    for _ in range(depth):
        if not isinstance(t, m.Pointer):
            return False
        t = m.resolve(t.target)
    return isinstance(t, m.Primitive) and t.name == "char"


def _integer(t: m.CType, signed: bool, size: int) -> bool:
    if not (isinstance(t, m.Primitive) and t.is_integer):
        return False
    try:
        lo, hi = int_range(t)
    except Exception:  # noqa: BLE001 - a type without a host size matches nothing
        return False
    bits = 8 * size
    return (lo, hi) == ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1))


_POINTER = sizeof(m.Pointer(m.Void()))


def _kind_matches(kind: str, ptype: m.CType) -> bool:
    """Whether a declared parameter has the standard prototype's kind (const aside)."""
    t = m.resolve(ptype)
    if kind in ("cstr", "char*"):
        return _char_pointer(t)
    if kind == "char**":
        return _char_pointer(t, 2)
    if kind == "void*":
        return isinstance(t, m.Pointer) and isinstance(m.resolve(t.target), m.Void)
    if kind == "FILE*":  # FILE is opaque: a pointer to a struct (or void in a user's cdef)
        return isinstance(t, m.Pointer) and isinstance(m.resolve(t.target), (m.StructOrUnion, m.Void))
    if kind == "va_list":  # every supported ABI's va_list decays to a pointer
        return isinstance(t, m.Pointer)
    if kind == "size":
        return _integer(t, False, _POINTER)
    if kind == "off":
        return _integer(t, True, 8) or _integer(t, True, _POINTER)
    if kind == "int":
        return _integer(t, True, 4)
    raise ValueError(f"unknown parameter kind {kind!r}")


def matches(name: str, ftype: m.FunctionType) -> StandardFunction | None:
    """The standard function ``name`` if ``ftype`` has its prototype's parameters."""
    std = STANDARD.get(name)
    if std is None or ftype.variadic != std.variadic or len(ftype.params) != len(std.params):
        return None
    if all(_kind_matches(k, p) for k, p in zip(std.params, ftype.params)):
        return std
    return None


def standard_facts(name: str, ftype: m.FunctionType) -> FunctionFacts | None:
    """The facts the C standard gives ``name`` declared as ``ftype`` (None: not standard)."""
    std = matches(name, ftype)
    if std is None:
        return None
    names = [(n or f"arg{i + 1}").lstrip("_") or f"arg{i + 1}"
             for i, n in enumerate(ftype.param_names)]
    refused = None
    if std.va_list:
        plain = name[1:]
        refused = (f"'{name}' takes a va_list, which cannot be built from Python: whatever is "
                   f"passed for it, C reads arguments from arbitrary memory (the C standard: "
                   f"{name}'s va_list); call '{plain}' with the arguments instead")
    fmt = None
    if std.format:
        kind, index, first = std.format
        fmt = (kind, index, first, f"the C standard: {name}'s {names[index]}")
    access = tuple(
        Access(buffer, mode, size, None, f"the C standard: {name}'s {names[size]}"
               + (f" * {names[factor]}" if factor is not None else ""), factor)
        for buffer, mode, size, factor in std.sizes)
    return FunctionFacts(access, std.nonnull, fmt, (), refused)


def with_standard_facts(name: str, ftype: m.FunctionType) -> m.FunctionType:
    """``ftype`` with the standard facts added to its own (the header's stay first:
    its format, and its sized access facts, win over the table's)."""
    std = standard_facts(name, ftype)
    if std is None:
        return ftype
    own = ftype.facts
    sized = {a.param for a in own.access if a.sized}
    access = own.access + tuple(a for a in std.access if a.param not in sized)
    facts = FunctionFacts(access, tuple(sorted(set(own.nonnull) | set(std.nonnull))),
                          own.format or std.format, own.deallocators,
                          own.refused or std.refused)
    return ftype if facts == own else ftype.with_facts(facts)
