"""The backend-free C type model.

Plain value objects that describe C types: they know nothing about ctypes,
sizes or platforms (``layout.py`` computes those per platform ABI and
``ffikit.backends.ctypes.types`` maps the model to ctypes).  A second backend must be
addable without touching this module or the parser.

Equality and hashing come from each class's ``_attrs_`` (as in cffi's
``model.py``), so ``Pointer(INT) == Pointer(INT)``.  Structs, unions and
enums are the exception: they are *nominal*, compared by identity, because
two declarations of ``struct point`` in two ``cdef`` calls are two types, and
because a struct may refer to itself through a pointer before it is complete.

Every type spells itself as C (``c_name()``), and ``repr`` reuses that:
``<const char *>``, ``<int (*)(int, int)>``, ``<struct point>``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ffikit.records import data_record

from .attributes import NO_FACTS, FunctionFacts
from .coord import Coord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = [
    "Coord", "CType", "Void", "Primitive", "Pointer", "Array", "Vector", "Complex", "Field",
    "StructOrUnion", "Enum", "FunctionType", "Typedef", "FunctionDecl", "GlobalVar",
    "CastConstant", "PRIMITIVE_NAMES", "INTEGER_NAMES", "FLOAT_NAMES", "VOID", "resolve",
]

INTEGER_NAMES = frozenset(
    {
        "char", "signed char", "unsigned char",
        "short", "unsigned short", "int", "unsigned int",
        "long", "unsigned long", "long long", "unsigned long long",
        "_Bool",
        "int8_t", "uint8_t", "int16_t", "uint16_t",
        "int32_t", "uint32_t", "int64_t", "uint64_t",
        "intptr_t", "uintptr_t", "size_t", "ssize_t", "ptrdiff_t",
        "intmax_t", "uintmax_t",
        "wchar_t", "char16_t", "char32_t",
        "__int128", "unsigned __int128",
    }
)
FLOAT_NAMES = frozenset({"float", "double", "long double"})
PRIMITIVE_NAMES = INTEGER_NAMES | FLOAT_NAMES


def _join(base: str, inner: str) -> str:
    if not inner:
        return base
    if inner.startswith("["):
        return base + inner
    return f"{base} {inner}"


class CType:
    """Base of every model type.  Subclasses list identity fields in ``_attrs_``."""

    _attrs_: tuple[str, ...] = ()
    __slots__ = ("_hash",)  # computed once (the types are immutable); never stored or sent

    def c_name(self, inner: str = "") -> str:
        """Spell the type as C, wrapped around the declarator text ``inner``."""
        raise NotImplementedError

    def _key(self) -> tuple:
        return (type(self),) + tuple(getattr(self, name) for name in self._attrs_)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self) or hash(self) != hash(other):
            return False
        return all(getattr(self, name) == getattr(other, name) for name in self._attrs_)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        try:
            return self._hash  # type: ignore[attr-defined]
        except AttributeError:  # first time (a hash is per process: string hashes are salted)
            found = hash(self._key())
            object.__setattr__(self, "_hash", found)
            return found

    def __repr__(self) -> str:
        return f"<{self.c_name()}>"

    def __str__(self) -> str:
        return self.c_name()

    @property
    def is_complete(self) -> bool:
        """False for ``void``, opaque structs and arrays of unknown length."""
        return True


class Void(CType):
    """``void``: only behind a pointer or as a function result."""

    __slots__ = ()

    def c_name(self, inner: str = "") -> str:
        return _join("void", inner)

    @property
    def is_complete(self) -> bool:
        return False


VOID = Void()


class _Frozen(CType):
    """A value type: its identity fields are set once, in ``__init__``."""

    __slots__ = ()

    def __setattr__(self, key: str, value: object) -> NoReturn:
        raise AttributeError("model types are immutable")


class Primitive(_Frozen):
    """A built-in arithmetic type named by its canonical C spelling.

    ``name`` is one of :data:`PRIMITIVE_NAMES` (``"unsigned long"``,
    ``"int32_t"``, ``"size_t"``, ``"double"``, ...).  Its size, alignment and
    (for ``char`` and ``wchar_t``) signedness depend on the platform and are
    answered by ``layout.py``.
    """

    _attrs_ = ("name",)
    __slots__ = ("name",)
    name: str

    def __init__(self, name: str):
        if name not in PRIMITIVE_NAMES:
            raise ValueError(f"not a primitive C type: {name!r}")
        object.__setattr__(self, "name", name)

    @property
    def is_integer(self) -> bool:
        return self.name in INTEGER_NAMES

    @property
    def is_float(self) -> bool:
        return self.name in FLOAT_NAMES

    def c_name(self, inner: str = "") -> str:
        return _join(self.name, inner)


def _quals(const: bool, volatile: bool) -> str:
    if const:
        return "const volatile" if volatile else "const"
    return "volatile" if volatile else ""


class Pointer(_Frozen):
    """A pointer to ``target``; ``const``/``volatile`` qualify the *pointee*.

    ``Pointer(Primitive("char"), const=True)`` is ``const char *``: the call
    boundary uses ``const`` to decide whether read-only buffers may be passed.
    """

    _attrs_ = ("target", "const", "volatile")
    __slots__ = _attrs_
    target: CType
    const: bool
    volatile: bool

    def __init__(self, target: CType, const: bool = False, volatile: bool = False):
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "const", bool(const))
        object.__setattr__(self, "volatile", bool(volatile))

    def c_name(self, inner: str = "") -> str:
        quals = _quals(self.const, self.volatile)
        target = self.target
        if isinstance(resolve(target), Pointer) and not isinstance(target, Typedef) and quals:
            # 'char *const *': the qualifier belongs after the inner pointer's star.
            return target.c_name(f"{quals} *{inner}")
        decl = "*" + inner
        if isinstance(target, (Array, FunctionType)):
            decl = f"({decl})"
        text = target.c_name(decl)
        return f"{quals} {text}" if quals else text


class Array(_Frozen):
    """``item[length]``; ``length`` is None for ``item[]`` (flexible or unknown)."""

    _attrs_ = ("item", "length")
    __slots__ = _attrs_
    item: CType
    length: int | None

    def __init__(self, item: CType, length: int | None):
        if length is not None and length < 0:
            raise ValueError(f"negative array length {length}")
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "length", length)

    @property
    def is_complete(self) -> bool:
        return self.length is not None and self.item.is_complete

    def c_name(self, inner: str = "") -> str:
        size = "" if self.length is None else str(self.length)
        return self.item.c_name(f"{inner}[{size}]")


class Vector(Array):
    """A GCC vector, ``item __attribute__((vector_size(length * sizeof item)))``.

    Laid out like ``item[length]`` but aligned to its whole size (gcc's
    ``__alignof__``); never decays to a pointer.
    """

    __slots__ = ()

    def c_name(self, inner: str = "") -> str:
        return self.item.c_name(
            f"__attribute__((vector_size({self.length}*sizeof({self.item.c_name()})))) {inner}"
            .rstrip())


class Complex(_Frozen):
    """``double _Complex`` (``float``/``long double`` too): two ``base`` values in a row.

    Laid out as ``base[2]`` with ``base``'s alignment; ctypes cannot pass one
    by value, so calls that do are refused (members and pointers are fine).
    """

    _attrs_ = ("base",)
    __slots__ = _attrs_
    base: CType

    def __init__(self, base: CType):
        object.__setattr__(self, "base", base)

    def c_name(self, inner: str = "") -> str:
        return self.base.c_name(f"_Complex {inner}".rstrip())


@data_record(frozen=True)
class Field:
    """A member of a struct or union.

    ``name`` is None for an anonymous nested struct/union (its members are
    reachable from the outer struct) and for unnamed bitfields.  ``bitwidth``
    is set for bitfields (0 for the ``int : 0`` alignment idiom).  ``aligned``
    is an ``__attribute__((aligned(n)))`` on the member, ``packed`` an
    ``__attribute__((packed))`` on the member.
    """

    name: str | None
    type: CType
    bitwidth: int | None = None
    aligned: int | None = None
    packed: bool = False
    coord: Coord | None = None


class StructOrUnion(CType):
    """A struct or union; nominal (compared by identity) and completed once.

    ``name`` is None for an anonymous type.  ``fields`` is None while the type
    is opaque (``struct sqlite3;``).  ``pack`` is the ``#pragma pack(n)`` in
    force at the definition (``__attribute__((packed))`` on the struct marks
    every member ``packed`` instead, as gcc does);
    ``aligned`` is an ``__attribute__((aligned(n)))`` on the type; ``rules`` is
    ``"msvc"`` for ``__attribute__((ms_struct))``, ``"sysv"`` for ``gcc_struct``
    and None for the platform's own.
    """

    __slots__ = ("kind", "name", "fields", "pack", "aligned", "coord", "typedef_name",
                 "rules", "__weakref__")

    def __init__(self, kind: str, name: str | None, coord: Coord | None = None):
        if kind not in ("struct", "union"):
            raise ValueError(f"kind must be 'struct' or 'union', not {kind!r}")
        self.kind = kind
        self.name = name
        self.fields: tuple[Field, ...] | None = None
        self.pack: int | None = None
        self.aligned: int | None = None
        self.coord = coord
        self.typedef_name: str | None = None  # 'Student' in 'typedef struct {...} Student;'
        self.rules: str | None = None

    def complete(
        self,
        fields: Iterable[Field],
        *,
        pack: int | None = None,
        aligned: int | None = None,
        coord: Coord | None = None,
        rules: str | None = None,
    ) -> None:
        """Give an opaque struct its members (once)."""
        if self.fields is not None:
            raise ValueError(f"{self.c_name()} is already complete")
        self.fields = tuple(fields)
        self.pack = pack
        self.aligned = aligned
        self.rules = rules
        if coord is not None:
            self.coord = coord

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @property
    def is_complete(self) -> bool:
        return self.fields is not None

    @property
    def is_union(self) -> bool:
        return self.kind == "union"

    def c_name(self, inner: str = "") -> str:
        if self.name is None and self.typedef_name:
            return _join(self.typedef_name, inner)
        return _join(f"{self.kind} {self.name or '<anonymous>'}", inner)


class Enum(CType):
    """An enum with its ``(name, value)`` members; nominal like structs.

    The underlying integer type follows the platform compiler's rules and is
    answered by ``layout.py`` from the member values; ``packed``
    (``enum __attribute__((packed))``) makes it the smallest that holds them.
    """

    __slots__ = ("name", "members", "coord", "typedef_name", "packed", "__weakref__")

    def __init__(
        self,
        name: str | None,
        members: Iterable[tuple[str, int]] | None,
        coord: Coord | None = None,
    ):
        self.name = name
        self.members: tuple[tuple[str, int], ...] | None = (
            None if members is None else tuple(members)
        )
        self.coord = coord
        self.typedef_name: str | None = None
        self.packed = False

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @property
    def is_complete(self) -> bool:
        return self.members is not None

    def c_name(self, inner: str = "") -> str:
        if self.name is None and self.typedef_name:
            return _join(self.typedef_name, inner)
        return _join(f"enum {self.name or '<anonymous>'}", inner)


class FunctionType(_Frozen):
    """A function signature.  Parameter names are kept for messages only.

    ``params`` holds the parameter types after C's adjustments (array and
    function parameters decay to pointers; ``(void)`` is no parameters).
    ``facts`` is what the declaration promises beyond its types (buffer sizes,
    ``nonnull``, ``format``, deallocators: :class:`~ffikit.cdecl.attributes.FunctionFacts`);
    like the names, it is not part of the type's identity.
    """

    _attrs_ = ("result", "params", "variadic")
    __slots__ = ("result", "params", "variadic", "param_names", "facts")
    result: CType
    params: tuple[CType, ...]
    variadic: bool
    param_names: tuple[str | None, ...]
    facts: FunctionFacts

    def __init__(
        self,
        result: CType,
        params: Iterable[CType],
        variadic: bool = False,
        param_names: Iterable[str | None] | None = None,
        facts: FunctionFacts = NO_FACTS,
    ):
        params = tuple(params)
        names = tuple(param_names) if param_names is not None else (None,) * len(params)
        if len(names) != len(params):
            raise ValueError("param_names must match params in length")
        object.__setattr__(self, "result", result)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "variadic", bool(variadic))
        object.__setattr__(self, "param_names", names)
        object.__setattr__(self, "facts", facts)

    def with_facts(self, facts: FunctionFacts) -> FunctionType:
        """The same signature carrying ``facts``."""
        return FunctionType(self.result, self.params, self.variadic, self.param_names, facts)

    def c_name(self, inner: str = "") -> str:
        parts = []
        for ptype, pname in zip(self.params, self.param_names):
            parts.append(ptype.c_name(pname or ""))
        if self.variadic:
            parts.append("...")
        args = ", ".join(parts) if parts else "void"
        if inner:
            return self.result.c_name(f"{inner}({args})")
        return self.result.c_name(f"({args})")


class Typedef(_Frozen):
    """A named alias; kept so messages say ``uLong`` rather than ``unsigned long``.

    ``aligned`` is an ``__attribute__((aligned(n)))`` on the typedef: as in gcc
    it *sets* the alignment, lowering it too (``typedef unsigned long ul4
    __attribute__((aligned(4)))``).
    """

    _attrs_ = ("name", "type", "aligned")
    __slots__ = _attrs_
    name: str
    type: CType
    aligned: int | None

    def __init__(self, name: str, type: CType, aligned: int | None = None):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "aligned", aligned)

    @property
    def is_complete(self) -> bool:
        return self.type.is_complete

    def c_name(self, inner: str = "") -> str:
        return _join(self.name, inner)


def resolve(ctype: CType) -> CType:
    """Strip typedefs: the type the alias stands for."""
    while isinstance(ctype, Typedef):
        ctype = ctype.type
    return ctype


@data_record(frozen=True)
class FunctionDecl:
    """A declared function: ``int find_max(int *arr, int n, CompareFunc cmp);``."""

    name: str
    type: FunctionType
    coord: Coord | None = None
    symbol: str | None = None  # the library's name for it: 'f(void) __asm__("symbol")'

    def __str__(self) -> str:
        return self.type.c_name(self.name) + ";"


@data_record(frozen=True)
class GlobalVar:
    """A declared ``extern`` variable; ``const`` says it may not be written."""

    name: str
    type: CType
    const: bool = False
    coord: Coord | None = None
    symbol: str | None = None  # the library's name for it: 'int v __asm__("symbol")'

    def __str__(self) -> str:
        return ("const " if self.const else "") + self.type.c_name(self.name) + ";"


@data_record(frozen=True)
class CastConstant:
    """A macro that casts a number to a pointer type: ``SQLITE_TRANSIENT`` is
    ``((sqlite3_destructor_type)-1)``, ``MAP_FAILED`` is ``((void *) -1)``.

    Backends turn it into a typed value (ctypes: a function pointer or pointer
    object with that address), so it can be passed where its type is expected.
    """

    type: CType
    value: int
