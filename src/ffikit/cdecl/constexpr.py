"""C constant expressions, evaluated with C's types (no ``eval``).

Used for ``#define`` constants, enum values, ``static const`` initialisers,
array lengths, bitfield widths and attribute arguments.  The parser reads
tokens (:mod:`.clex`) and computes as it parses, with the arithmetic of
:mod:`.carith`: ``(unsigned)-1 >> 1``, ``sizeof(long)``, ``_Alignof(double)``,
``(uint8_t)300``, ``1 ? 1 : 2.0`` (a ``double``), ``'\\377'`` all get the value
gcc gives on the platform.  The untaken side of ``&&``, ``||`` and ``?:`` is
typed but not evaluated, so ``0 && 1 / 0`` is 0, as in C.

Bounded by construction: no recursion per operator (precedence climbing), a
nesting limit of :data:`MAX_DEPTH` parentheses or unary operators, integers no
wider than the platform's widest type.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .carith import Arith, CValue, FloatType, IntType, NotConstant, PtrType, as_int, to_float
from .clex import char_constant, number, string_literal, tokenize
from .model import (
    VOID,
    Array,
    CastConstant,
    CType,
    Enum,
    Pointer,
    Primitive,
    StructOrUnion,
    Void,
    resolve,
)
from .platforms import Platform, get_platform

__all__ = ["NotConstant", "Env", "evaluate", "eval_macro", "eval_node", "python_value",
           "parse_number", "type_from_tokens", "arith_for"]

MAX_DEPTH = 100

_PREC = {",": 1, "||": 4, "&&": 5, "|": 6, "^": 7, "&": 8, "==": 9, "!=": 9,
         "<": 10, ">": 10, "<=": 10, ">=": 10, "<<": 11, ">>": 11, "+": 12, "-": 12,
         "*": 13, "/": 13, "%": 13}

_TYPE_WORDS = frozenset("""void char short int long float double signed unsigned _Bool bool
_Complex __complex__ __int128 __signed__ __signed struct union enum const volatile __const
__volatile__ __volatile restrict __restrict __restrict__ __extension__ _Atomic""".split())
_QUALIFIERS = frozenset("""const volatile __const __volatile__ __volatile restrict __restrict
__restrict__ __extension__ _Atomic""".split())
_ARITH_WORDS = frozenset("void char short int long float double signed unsigned _Bool "
                         "__int128 __signed__ __signed".split())
_SIZEOF = frozenset({"sizeof"})
_ALIGNOF = frozenset({"_Alignof", "__alignof__", "__alignof", "alignof"})
_NONFINITE = {"__builtin_inf": "inf", "__builtin_inff": "inf", "__builtin_infl": "inf",
              "__builtin_huge_val": "inf", "__builtin_huge_valf": "inf",
              "__builtin_huge_vall": "inf", "__builtin_nan": "nan", "__builtin_nanf": "nan",
              "__builtin_nanl": "nan"}


@functools.cache
def arith_for(platform: Platform | str | None = None) -> Arith:
    """The C arithmetic of ``platform`` (the host for None)."""
    return Arith(get_platform(platform))


class Env:
    """What an expression may refer to: constants by name, type names, the platform.

    ``lookup(name)`` returns a :class:`CValue` or a plain Python number (typed as C
    types an integer constant of that value), or raises :class:`NotConstant`.
    ``types`` maps typedef names and ``"struct x"`` tags to model types;
    ``parse_type(text)`` reads type names the token reader does not (function
    pointers, ``int (*)[3]``).
    """

    def __init__(self, platform=None, lookup: Callable | None = None, types=None,
                 builtins=None, parse_type: Callable | None = None):
        self.arith = arith_for(platform)
        self.platform = self.arith.platform
        self._lookup = lookup
        self.types = types if types is not None else {}
        self.builtins = builtins if builtins is not None else {}
        self.parse_type = parse_type

    def lookup(self, name: str) -> CValue:
        if self._lookup is None:
            raise NotConstant(f"'{name}' is not a known constant")
        return typed(self._lookup(name), self.arith)

    def is_type_name(self, name: str) -> bool:
        return name in _TYPE_WORDS or name in self.types or name in self.builtins

    def type_of(self, tokens: list) -> CType:
        return type_from_tokens(tokens, self)

    def size_align(self, ctype: CType) -> tuple[int, int]:
        from ..errors import DeclarationError
        from .layout import alignof, sizeof

        try:
            return sizeof(ctype, self.platform), alignof(ctype, self.platform)
        except (DeclarationError, TypeError, ValueError) as exc:
            raise NotConstant(f"sizeof '{ctype.c_name()}': {getattr(exc, 'message', exc)}") \
                from None


def typed(value, arith: Arith) -> CValue:
    """A Python constant as a C value: ints take the first of int, long, long long,
    unsigned long long that holds them; floats are doubles; strings stay strings."""
    if isinstance(value, CValue):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise NotConstant(f"{value!r} is not a number")
    if isinstance(value, str):
        return CValue("str", value)
    if isinstance(value, float):
        from fractions import Fraction

        return CValue(arith.floats["double"],
                      Fraction(value) if value == value and abs(value) != float("inf") else value)
    for name in ("int", "long", "long long", "unsigned long long", "__int128",
                 "unsigned __int128"):
        t = arith.types[name]
        if t.fits(value):
            return CValue(t, value)
    raise NotConstant(f"{value} is wider than any C integer type")


def type_from_tokens(tokens: list, env: Env) -> CType:
    """A type name from tokens: specifiers, ``*``, qualifiers, ``[N]``; others go to
    ``env.parse_type`` (function pointers)."""
    i, n = 0, len(tokens)
    words, base = [], None
    while i < n and tokens[i][0] == "name":
        w = tokens[i][1]
        if w in _QUALIFIERS:
            i += 1
        elif w in ("struct", "union", "enum") and i + 1 < n and tokens[i + 1][0] == "name":
            tag = tokens[i + 1][1]
            base = env.types.get(f"{w} {tag}")
            if base is None:  # 'struct sockaddr *' needs no declaration; its size does
                base = Enum(tag, None) if w == "enum" else StructOrUnion(w, tag)
            i += 2
        elif w in _ARITH_WORDS:
            words.append(w)
            i += 1
        elif base is None and not words and (w in env.types or w in env.builtins):
            base = env.types.get(w) or env.builtins[w]
            i += 1
        else:
            break
    if base is None:
        base = _primitive(words)
    elif words:
        raise NotConstant(f"cannot combine {' '.join(words)!r} with a type name")
    while i < n and (tokens[i][1] == "*" or tokens[i][1] in _QUALIFIERS):
        if tokens[i][1] == "*":
            base = Pointer(base)
        i += 1
    dims = []
    while i + 2 < n and tokens[i][1] == "[" and tokens[i + 2][1] == "]":
        kind, dim = tokens[i + 1]
        if kind == "num":
            dims.append(as_int(number(dim, env.arith).value))
        elif kind == "v" and isinstance(dim.type, IntType):
            dims.append(as_int(dim.value))
        else:
            break
        i += 3
    if i != n:
        if env.parse_type is None:
            raise NotConstant(f"type name {_spell(tokens)!r} is not understood here")
        return env.parse_type(_spell(tokens))
    for d in reversed(dims):
        base = Array(base, d)
    return base


def _primitive(words: list) -> CType:
    if not words:
        raise NotConstant("a type name is missing")
    words = ["signed" if w.startswith("__signed") else w for w in words]
    if words == ["void"]:
        return VOID
    unsigned = "unsigned" in words
    rest = sorted(w for w in words if w not in ("signed", "unsigned", "int"))
    prefix = "unsigned " if unsigned else ""
    spelled = {(): "int", ("short",): "short", ("long",): "long", ("long", "long"): "long long",
               ("__int128",): "__int128", ("_Bool",): "_Bool", ("bool",): "_Bool",
               ("float",): "float", ("double",): "double", ("double", "long"): "long double"}
    if rest == ["char"]:
        return Primitive("unsigned char" if unsigned else
                         "signed char" if "signed" in words else "char")
    name = spelled.get(tuple(rest))
    if name is None or (prefix and name in ("float", "double", "long double", "_Bool")):
        raise NotConstant(f"{' '.join(words)!r} is not a type")
    return Primitive(prefix + name if name != "_Bool" else name)


def _spell(tokens: list) -> str:
    """Tokens as C text (a substituted macro value as its number)."""
    return " ".join(str(python_value(t[1])) if t[0] == "v" else str(t[1]) for t in tokens)


class _Parser:
    """Precedence climbing that computes as it parses (``live`` False: types only)."""

    def __init__(self, tokens: list, env: Env):
        self.t = tokens
        self.i = 0
        self.env = env
        self.a = env.arith
        self.depth = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else (None, None)

    def take(self, text: str | None = None):
        tok = self.peek()
        if tok[0] is None:
            raise NotConstant(f"expected {text!r}, the expression ended" if text
                              else "the expression ended early")
        if text is not None and tok[1] != text:
            raise NotConstant(f"expected {text!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def at_end(self) -> bool:
        return self.i >= len(self.t)

    # --- binary and ternary operators --------------------------------------------------
    def rest(self, left: CValue, min_prec: int, live: bool) -> CValue:
        while True:
            kind, op = self.peek()
            if kind != "op":
                return left
            if op == "?" and min_prec <= 3:
                self.take()
                cond = self.a.truth(left) if live and left.value is not None else None
                mid = self.expression(1, live and cond is True)
                self.take(":")
                right = self.rest(self.unary(live and cond is False), 3, live and cond is False)
                left = self._choose(cond, mid, right, live)
                continue
            prec = _PREC.get(op)
            if prec is None or prec < min_prec:
                return left
            self.take()
            if op in ("&&", "||"):
                known = self.a.truth(left) if left.value is not None else None
                short = known is False if op == "&&" else known is True
                right = self.rest(self.unary(live and not short), prec + 1, live and not short)
                left = self._logical(op, left, right, live)
            else:
                right = self.rest(self.unary(live), prec + 1, live)
                if not live:
                    left, right = _typed_only(left), _typed_only(right)
                left = right if op == "," else self.a.binary(op, left, right)

    def _logical(self, op: str, left: CValue, right: CValue, live: bool) -> CValue:
        if not live or left.value is None:
            return CValue(self.a.int, None)
        lt = self.a.truth(left)
        if (op == "&&" and not lt) or (op == "||" and lt):
            return CValue(self.a.int, int(lt))
        if right.value is None:
            return CValue(self.a.int, None)
        return CValue(self.a.int, int(self.a.truth(right)))

    def _choose(self, cond, mid: CValue, right: CValue, live: bool) -> CValue:
        if mid.type == "str" or right.type == "str":
            if mid.type != right.type:
                raise NotConstant("'?:' mixes a string and a number")
            t = mid.type  # "str", as right's
        elif isinstance(mid.type, PtrType) or isinstance(right.type, PtrType):
            t = mid.type if isinstance(mid.type, PtrType) else right.type
        else:
            t = self.a.common(mid.type, right.type)
        if cond is None:
            return CValue(t, None)
        chosen = mid if cond else right
        return chosen if t == "str" else self.a.convert(chosen, t)

    def expression(self, min_prec: int, live: bool) -> CValue:
        return self.rest(self.unary(live), min_prec, live)

    # --- unary operators, casts, sizeof ------------------------------------------------
    def unary(self, live: bool) -> CValue:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotConstant(f"nested deeper than {MAX_DEPTH} levels")
        try:
            return self._unary(live)
        finally:
            self.depth -= 1

    def _unary(self, live: bool) -> CValue:
        kind, text = self.peek()
        if kind == "op" and text in ("-", "+", "~", "!"):
            self.take()
            operand = self.unary(live)
            return self.a.unary(text, operand if live else _typed_only(operand))
        if kind == "op" and text in ("&", "*", "++", "--"):
            raise NotConstant(f"unary '{text}' is not allowed in a constant")
        if kind == "name" and (text in _SIZEOF or text in _ALIGNOF):
            self.take()
            size, align = self._size_align()
            return CValue(self.a.types["unsigned long"] if self.a.types["unsigned long"].bits
                          == self.env.platform.pointer_size * 8 else
                          self.a.types["unsigned long long"], size if text in _SIZEOF else align)
        if kind == "op" and text == "(" and self._type_follows():
            ctype = self._type_name()
            if self.peek()[1] == "{":
                raise NotConstant("a compound literal is not a constant")
            operand = self.unary(live)
            return self.cast(ctype, operand if live else _typed_only(operand))
        return self.primary(live)

    def _type_follows(self) -> bool:
        kind, text = self.peek(1)
        return kind == "name" and self.env.is_type_name(text)

    def _type_name(self) -> CType:
        self.take("(")
        start, depth = self.i, 1
        while depth:
            kind, text = self.take()
            depth += (text == "(") - (text == ")") if kind == "op" else 0
        return self.env.type_of(self.t[start:self.i - 1])

    def _size_align(self) -> tuple[int, int]:
        if self.peek()[1] == "(" and self._type_follows():
            ctype = self._type_name()
            if self.peek()[1] == "{":
                raise NotConstant("a compound literal is not a constant")
            return self.env.size_align(ctype)
        v = self.unary(False)
        return self._value_size(v)

    def _value_size(self, v: CValue) -> tuple[int, int]:
        t = v.type
        if t == "str":
            text = v.value
            assert isinstance(text, str), "a string literal's value is its text"
            return len(text.encode("utf-8", "surrogatepass")) + 1, 1
        if isinstance(t, IntType):
            return (1, 1) if t.name == "_Bool" else (t.bits // 8, t.bits // 8)
        if isinstance(t, FloatType):
            return self.env.size_align(Primitive(t.name))
        return self.env.size_align(t.ctype)

    def cast(self, ctype: CType, operand: CValue) -> CValue:
        r = resolve(ctype)
        if isinstance(r, Void):
            raise NotConstant("a cast to void has no value")
        if isinstance(r, (StructOrUnion,)):
            raise NotConstant(f"a cast to '{ctype.c_name()}' is not an arithmetic constant")
        t = self.a.of_model(ctype)
        if isinstance(t, PtrType) and operand.type == "str":
            raise NotConstant("a string cast to a pointer has no fixed address")
        return self.a.convert(operand, t)

    # --- primary expressions -----------------------------------------------------------
    def primary(self, live: bool) -> CValue:
        kind, text = self.take()
        if kind == "v":
            if text.type == "str":
                return self._strings(text.value)
            return text
        if kind == "num":
            return number(text, self.a)
        if kind == "char":
            return char_constant(text, self.a)
        if kind == "str":
            return self._strings(string_literal(text))
        if kind == "op" and text == "(":
            value = self.expression(1, live)
            self.take(")")
            return value
        if kind == "name":
            if self.peek()[1] == "(":
                return self._call(text)
            if self.env.is_type_name(text):
                raise NotConstant(f"'{text}' is a type, not a value")
            return self.env.lookup(text)
        raise NotConstant(f"unexpected {text!r}")

    def _strings(self, first: str) -> CValue:
        parts = [first]
        while True:
            kind, text = self.peek()
            if kind == "str":
                parts.append(string_literal(text))
            elif kind == "v" and text.type == "str":
                parts.append(text.value)
            else:
                break
            self.i += 1
        return CValue("str", "".join(parts))

    def _call(self, name: str) -> CValue:
        kind = _NONFINITE.get(name)
        if kind is None:
            raise NotConstant(f"call to '{name}' is not a constant")
        self.take("(")
        while self.peek()[1] != ")":
            self.take()
        self.take(")")
        ftype = self.a.floats["float" if name.endswith("f") else
                              "long double" if name.endswith("l") else "double"]
        return CValue(ftype, float(kind))


def _typed_only(v: CValue) -> CValue:
    """The type of an operand that is not evaluated (its value would not matter)."""
    return v if v.type == "str" or v.value is None else CValue(v.type, None)


def evaluate(tokens: list | str, env: Env) -> CValue:
    """Evaluate a whole expression; raise :class:`NotConstant` if it is not one."""
    if isinstance(tokens, str):
        tokens = tokenize(tokens)
    if not tokens:
        raise NotConstant("empty expression")
    p = _Parser(tokens, env)
    try:
        value = p.expression(1, True)
    except RecursionError:
        raise NotConstant("nested too deeply") from None
    if not p.at_end():
        raise NotConstant(f"unexpected {p.peek()[1]!r} after a complete expression")
    return value


def evaluate_atom(tokens: list, env: Env) -> tuple[CValue, bool]:
    """Evaluate, and say whether the expression is one operand (a unary or cast
    expression, or parenthesised), so its value may stand for its text."""
    if not tokens:
        raise NotConstant("empty expression")
    p = _Parser(tokens, env)
    try:
        value = p.unary(True)
        if p.at_end():
            return value, True
        value = p.rest(value, 1, True)
    except RecursionError:
        raise NotConstant("nested too deeply") from None
    if not p.at_end():
        raise NotConstant(f"unexpected {p.peek()[1]!r} after a complete expression")
    return value, False


def python_value(v: CValue):
    """What a Python user gets for a constant: int, float, str; a null ``void *`` is
    None (``NULL``); another pointer cast is a :class:`CastConstant` (typed, so a
    backend can pass it where that pointer type is expected)."""
    if isinstance(v.type, FloatType):
        return to_float(v.value)
    if isinstance(v.type, PtrType):
        target = resolve(v.type.ctype)
        if v.value == 0 and isinstance(target, Pointer) and isinstance(resolve(target.target),
                                                                      Void):
            return None
        return CastConstant(v.type.ctype, as_int(v.value))
    return v.value


def eval_macro(body: str, lookup: Callable[[str], object], *, platform=None):
    """Evaluate C text (a ``#define`` body) to a Python value on ``platform`` (the host
    for None); :class:`NotConstant` if it is not a constant."""
    return python_value(evaluate(body, Env(platform, lookup)))


def eval_node(node, env: Env) -> CValue:
    """Evaluate a pycparser expression node (enum value, array length, bit width)."""
    from pycparser import c_ast, c_generator

    if isinstance(node, c_ast.Constant) and node.type == "int":
        return number(node.value, env.arith)
    if isinstance(node, c_ast.ID):
        return env.lookup(node.name)
    try:
        text = c_generator.CGenerator().visit(node)
    except RecursionError:
        raise NotConstant("nested too deeply") from None
    return evaluate(text, env)


def parse_number(text: str, platform=None) -> int | float:
    """A C integer or floating literal (suffixes allowed) as a Python number."""
    return python_value(number(text.strip(), arith_for(platform)))
