"""GCC attributes that decide layouts, and the other rules real headers need.

The parser's builder inherits :class:`LayoutAttributes`: it attaches the
attributes ``preprocess.scrub`` recorded to typedefs and members, evaluates
their arguments as constant expressions (``aligned(2*32)``,
``aligned(sizeof(long))``, ``_Alignas(double)``), makes the types ``mode``
and ``vector_size`` describe, refuses the layout attributes ffikit does not
compute, and checks that a function is not redeclared with another type.
"""

from __future__ import annotations

import bisect
import re

from . import layout as _layout
from .constexpr import Env, NotConstant, evaluate, python_value
from .model import (
    Array,
    CType,
    Enum,
    FunctionDecl,
    FunctionType,
    Pointer,
    Primitive,
    Vector,
    resolve,
)

TYPE_CHECKING = False

if TYPE_CHECKING:
    from ..errors import DeclarationError
    from .model import Coord
    from .parse_result import ParseResult
    from .platforms import Platform
    from .preprocess import Preprocessed

__all__ = ["LayoutAttributes", "decay_typedef_array", "with_position"]


class LayoutAttributes:
    """Mixed into the parser's builder (which provides ``error``, ``pre``, ``r``,
    ``builtins``, ``platform``, ``type_of`` and ``_compatible``)."""

    if TYPE_CHECKING:  # what the builder provides (ffikit.cdecl.parse._Builder)
        pre: Preprocessed
        r: ParseResult
        platform: Platform | str | None
        builtins: dict[str, CType]
        _unprototyped: set[str]
        _attribute_offsets: list[int]

        def error(self, message: str, coord: object = None,
                  hint: str | None = None) -> DeclarationError: ...

        def coord(self, node: object) -> Coord | None: ...

        def type_of(self, node: object, *, decay: bool = False) -> CType: ...

        def _compatible(self, a: CType, b: CType) -> bool: ...

        def const_env(self) -> Env: ...

    def check_redeclaration(self, existing: FunctionDecl, ftype: FunctionType, node) -> None:
        """``int foo(void); long foo(void);`` is an error, as in gcc (both places named)."""
        old = existing.type
        unprototyped: set[str] = getattr(self, "_unprototyped", set())
        same = self._same_type(old.result, ftype.result) and (
            node.name in unprototyped or node.type.args is None
            or (len(old.params) == len(ftype.params) and old.variadic == ftype.variadic
                and all(self._same_type(a, b) for a, b in zip(old.params, ftype.params))))
        if not same:
            raise self.error(
                f"conflicting types for '{node.name}': '{ftype.c_name(node.name)}' here, "
                f"'{old.c_name(node.name)}' at {existing.coord}", node.coord,
                hint="keep one declaration (the one that matches the library)")

    def note_prototype(self, node) -> None:
        """Remember functions first declared without a prototype (``int f();``)."""
        if node.type.args is None and node.name not in self.r.functions:
            if not hasattr(self, "_unprototyped"):
                self._unprototyped = set()
            self._unprototyped.add(node.name)

    def _same_type(self, a: CType, b: CType) -> bool:
        """Compatible enough for a redeclaration (an enum is its integer type)."""
        ra, rb = resolve(a), resolve(b)
        if isinstance(ra, Enum) or isinstance(rb, Enum):
            try:
                return _layout.int_info(ra, self.platform) == _layout.int_info(rb, self.platform)
            except TypeError:
                return False
        return self._compatible(a, b)

    def typedef_attributes(self, node):
        """Attributes of a typedef's declarator (not those of a struct it defines)."""
        text = self.pre.text
        at = self.pre.offset_of(node.coord)
        if at is None or not self.pre.attributes:
            return []
        start = max(text.rfind(";", 0, at), text.rfind("{", 0, at), text.rfind("}", 0, at)) + 1
        after_brace = text[start - 1:start] == "}"
        ends = [e for e in (text.find(";", at), text.find(",", at)) if e >= 0]
        end = min(ends) if ends else len(text)
        return [a for a in self.attributes_between(start, end)
                if not (after_brace and not text[start:a.offset].strip())]

    def attributes_between(self, start: int, end: int) -> list:
        """The recorded attributes with ``start <= offset < end`` (they are sorted)."""
        offsets = getattr(self, "_attribute_offsets", None)
        if offsets is None:
            offsets = self._attribute_offsets = [a.offset for a in self.pre.attributes]
        attrs = self.pre.attributes
        return attrs[bisect.bisect_left(offsets, start):bisect.bisect_left(offsets, end)]

    def refuse_unsupported(self, attrs, coord, what: str) -> None:
        for a in attrs:
            if a.kind == "unsupported" or (a.kind == "vector_size" and what.startswith(
                    ("struct", "union"))):
                name = a.expr if a.kind == "unsupported" else a.kind
                raise self.error(
                    f"__attribute__(({name})) on {what} changes its layout in a way ffikit "
                    "does not compute", coord,
                    hint="remove the attribute if the C side is built without it, or declare "
                         "the layout it produces explicitly")

    def apply_type_attributes(self, ctype: CType, attrs, coord, what: str) -> CType:
        """``mode`` and ``vector_size`` make a new type; unsupported ones are refused."""
        self.refuse_unsupported(attrs, coord, what)
        for a in attrs:
            if a.kind == "mode":
                ctype = self.mode_type(ctype, (a.expr or "").strip("_ "), coord, what)
        for a in attrs:
            if a.kind == "vector_size":
                size = self.attr_int(a, coord, "vector size")
                item = _layout.sizeof(ctype, self.platform)
                r = resolve(ctype)
                if not isinstance(r, Primitive) or size <= 0 or size % item or \
                        size & (size - 1):
                    raise self.error(f"vector_size({size}) on {what} of type "
                                     f"'{ctype.c_name()}' is not a valid vector", coord,
                                     hint="a power-of-two multiple of an arithmetic type")
                ctype = Vector(ctype, size // item)
        return ctype

    _MODES = {"QI": 1, "HI": 2, "SI": 4, "DI": 8, "TI": 16, "byte": 1, "word": 8,
              "pointer": 8, "unwind_word": 8, "SF": 4, "DF": 8, "XF": 16, "TF": 16}

    def mode_type(self, ctype: CType, mode: str, coord, what: str) -> CType:
        """``__attribute__((mode(DI)))``: the integer (or float) type of that size."""
        r = resolve(ctype)
        size = self._MODES.get(mode)
        if size is None or not isinstance(r, (Primitive, Enum)):
            raise self.error(f"__attribute__((mode({mode}))) on {what} is not understood",
                             coord, hint="declare the member with a type of the right size")
        if isinstance(r, Primitive) and r.is_float:
            return Primitive({4: "float", 8: "double"}.get(size, "long double"))
        signed = _layout.int_info(r, self.platform)[1]
        names = {1: "char", 2: "short", 4: "int", 8: "long long", 16: "__int128"}
        name = names[size]
        if size == 1:
            return Primitive("signed char" if signed else "unsigned char")
        return Primitive(name if signed else "unsigned " + name)

    def attr_int(self, attr, coord, what: str) -> int:
        """The value of an attribute's argument: any integer constant expression
        (``2*32``, ``sizeof(long)``, ``__alignof__(long long)``, an enum constant);
        ``aligned`` alone is the target's biggest alignment (16)."""
        if attr.expr is None:
            return 16
        value = attr.value if attr.value is not None else self._attr_expr(attr, coord, what)
        if not isinstance(value, int) or value <= 0 or value & (value - 1):
            raise self.error(f"{what} '{attr.expr}' = {value!r} is not a power of two", coord)
        return value

    def _attr_expr(self, attr, coord, what: str):
        """An attribute's argument: a constant expression, or a type (``_Alignas(double)``)."""
        env = self.const_env()
        try:
            return python_value(evaluate(attr.expr, env))
        except NotConstant as exc:
            first = exc
        if attr.kind == "aligned":
            try:
                return python_value(evaluate(f"_Alignof({attr.expr})", env))
            except NotConstant:
                pass
        raise self.error(f"{what} '{attr.expr}' is not a constant expression: {first}", coord)


def with_position(message: str, parser) -> str:
    """pycparser names only the file for some errors ("Invalid expression"): add the
    line and column of the token it stopped at."""
    if re.match(r"^.*?:\d+", message):
        return message
    try:
        tok = parser._peek()  # noqa: SLF001 - the only place pycparser keeps it
    except Exception:  # noqa: BLE001 - best effort: the message stands as it is
        return message
    if tok is None or not getattr(tok, "lineno", None):
        return message
    # pycparser 3.0's tokens carry no file name; its lexer keeps the current one
    file = getattr(tok, "filename", None) or getattr(getattr(parser, "clex", None), "filename", None)
    head, sep, text = message.partition(": ")
    if not sep:
        head, text = "", message
    return f"{file or head}:{tok.lineno}:{getattr(tok, 'column', 0)}: {text}"


def decay_typedef_array(ptype: CType, param) -> CType:
    """A parameter of array typedef type (``uuid_t out``) is a pointer to its item."""
    r = resolve(ptype)
    if isinstance(r, Array) and not isinstance(r, Vector):
        quals = set(getattr(getattr(param, "type", None), "quals", None) or [])
        return Pointer(r.item, "const" in quals, "volatile" in quals)
    return ptype
