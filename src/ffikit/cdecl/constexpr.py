"""C constant expressions, evaluated safely (no ``eval``): macro bodies and AST nodes.

Used for ``#define`` constants, enum values, array lengths and bitfield
widths.  Integer arithmetic follows C where it matters for constants:
division truncates toward zero, casts to integer types wrap to their width,
``sizeof`` of a type asks the layout module.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["NotConstant", "eval_macro", "parse_number", "eval_node", "cast_constant"]


class NotConstant(Exception):
    """The expression is not a constant ffikit can evaluate (the macro is skipped)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?[fFlL]?|\d+[eE][+-]?\d+[fFlL]?)
      | (?P<int>0[xX][0-9a-fA-F]+[uUlL]*|0[bB][01]+[uUlL]*|\d+[uUlL]*)
      | (?P<str>L?"(?:[^"\\]|\\.)*")
      | (?P<char>L?'(?:[^'\\]|\\.)+')
      | (?P<name>[A-Za-z_]\w*)
      | (?P<op><<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>&|^~!?:()])
    )""",
    re.X,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"',
            "a": "\a", "b": "\b", "f": "\f", "v": "\v", "?": "?"}


def parse_number(text: str) -> int | float:
    """A C integer or floating literal (suffixes allowed) as a Python number."""
    t = text.strip()
    if re.fullmatch(r"(?:0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)[uUlL]*", t):
        digits = t.rstrip("uUlL")
        if digits.startswith(("0x", "0X", "0b", "0B")):
            return int(digits, 0)
        if len(digits) > 1 and digits.startswith("0"):
            return int(digits, 8)
        return int(digits)
    return float(t.rstrip("fFlL"))


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "x":
                m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
                out.append(chr(int(m.group(0), 16)) if m else "x")
                i += 2 + (len(m.group(0)) if m else 0)
                continue
            if nxt in "01234567":
                m = re.match(r"[0-7]{1,3}", body[i + 1:])
                out.append(chr(int(m.group(0), 8)))
                i += 1 + len(m.group(0))
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise NotConstant(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# Integer casts macros commonly use; value -> (bits, signed).
_CASTS = {
    "char": (8, True), "signed char": (8, True), "unsigned char": (8, False),
    "short": (16, True), "short int": (16, True), "unsigned short": (16, False),
    "int": (32, True), "signed": (32, True), "signed int": (32, True),
    "unsigned": (32, False), "unsigned int": (32, False),
    "long": (64, True), "long int": (64, True), "unsigned long": (64, False),
    "long long": (64, True), "unsigned long long": (64, False),
    "int8_t": (8, True), "uint8_t": (8, False), "int16_t": (16, True), "uint16_t": (16, False),
    "int32_t": (32, True), "uint32_t": (32, False), "int64_t": (64, True), "uint64_t": (64, False),
    "size_t": (64, False), "ssize_t": (64, True), "intptr_t": (64, True), "uintptr_t": (64, False),
}


def wrap(value: int, bits: int, signed: bool) -> int:
    """``value`` converted to a ``bits``-wide integer, as a C cast does."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


class _Parser:
    """Precedence climbing over macro tokens."""

    _BINARY = [
        ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
        ("<<", ">>"), ("+", "-"), ("*", "/", "%"),
    ]

    def __init__(self, tokens, lookup: Callable[[str], object], casts: dict):
        self.tokens = tokens
        self.i = 0
        self.lookup = lookup
        self.casts = casts

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise NotConstant(f"expected {value!r}")
        self.i += 1
        return tok

    def parse(self):
        value = self.ternary()
        if self.i != len(self.tokens):
            raise NotConstant("trailing tokens")
        return value

    def ternary(self):
        cond = self.binary(0)
        if self.peek()[1] == "?":
            self.take("?")
            a = self.ternary()
            self.take(":")
            b = self.ternary()
            return a if cond else b
        return cond

    def binary(self, level):
        if level == len(self._BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self._BINARY[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            left = _apply(op, left, right)
        return left

    def unary(self):
        kind, value = self.peek()
        if kind == "op" and value in "-+~!":
            self.take()
            operand = self.unary()
            return _apply_unary(value, operand)
        if kind == "op" and value == "(":
            cast = self._cast()
            if cast == "float":
                operand = self.unary()
                if not isinstance(operand, (int, float)):
                    raise NotConstant("cast of a non-number")
                return float(operand)
            if cast is not None:
                bits, signed = cast
                operand = self.unary()
                if isinstance(operand, float):
                    operand = int(operand)
                if not isinstance(operand, int):
                    raise NotConstant("cast of a non-number")
                return wrap(operand, bits, signed)
            self.take("(")
            inner = self.ternary()
            self.take(")")
            return inner
        return self.primary()

    def _cast(self):
        """A '(type)' cast at the cursor: consume it and return (bits, signed), else None."""
        j = self.i + 1
        words = []
        while j < len(self.tokens) and self.tokens[j][0] == "name":
            words.append(self.tokens[j][1])
            j += 1
        if not words or j >= len(self.tokens) or self.tokens[j][1] != ")":
            return None
        name = " ".join(w for w in words if w not in ("const", "volatile"))
        if name in ("float", "double", "long double"):
            self.i = j + 1
            return "float"
        cast = self.casts.get(name) or _CASTS.get(name)
        if cast is None:
            if j + 1 < len(self.tokens) and self.tokens[j + 1][0] in ("int", "float", "name") \
                    or (j + 1 < len(self.tokens) and self.tokens[j + 1][1] in "(-~"):
                raise NotConstant(f"cast to unknown type {name!r}")
            return None
        self.i = j + 1
        return cast

    def primary(self):
        kind, value = self.take()
        if kind == "int" or kind == "float":
            return parse_number(value)
        if kind == "str":
            parts = [_unescape(value.lstrip("L")[1:-1])]
            while self.peek()[0] == "str":  # adjacent literals concatenate
                parts.append(_unescape(self.take()[1].lstrip("L")[1:-1]))
            return "".join(parts)
        if kind == "char":
            text = _unescape(value.lstrip("L")[1:-1])
            if len(text) != 1:
                raise NotConstant("multi-character constant")
            return ord(text)
        if kind == "name":
            if value == "sizeof":
                raise NotConstant("sizeof in a macro")
            return self.lookup(value)
        raise NotConstant(f"unexpected {value!r}")


def _apply_unary(op, v):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise NotConstant("operator on a non-number")
    if op == "-":
        return -v
    if op == "+":
        return v
    if op == "!":
        return int(not v)
    if isinstance(v, float):
        raise NotConstant("~ on a float")
    return ~v


def _apply(op, a, b):
    if isinstance(a, str) or isinstance(b, str):
        raise NotConstant("operator on a string")
    if op == "&&":
        return int(bool(a) and bool(b))
    if op == "||":
        return int(bool(a) or bool(b))
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return int({"==": a == b, "!=": a != b, "<": a < b, ">": a > b,
                    "<=": a <= b, ">=": a >= b}[op])
    if op in "+-*":
        return a + b if op == "+" else a - b if op == "-" else a * b
    if op == "/":
        if b == 0:
            raise NotConstant("division by zero")
        if isinstance(a, int) and isinstance(b, int):
            q = abs(a) // abs(b)
            return q if (a >= 0) == (b >= 0) else -q
        return a / b
    if isinstance(a, float) or isinstance(b, float):
        raise NotConstant(f"{op} on a float")
    if op == "%":
        if b == 0:
            raise NotConstant("modulo by zero")
        return a - b * _apply("/", a, b)
    if op in ("<<", ">>"):
        if b < 0 or b > 4096:
            raise NotConstant("shift out of range")
        return a << b if op == "<<" else a >> b
    return {"&": a & b, "|": a | b, "^": a ^ b}[op]


def eval_macro(body: str, lookup: Callable[[str], object], casts: dict | None = None):
    """Evaluate a ``#define`` body; raise :class:`NotConstant` if it is not a constant."""
    tokens = _tokens(body)
    if not tokens:
        raise NotConstant("empty macro")
    return _Parser(tokens, lookup, casts or {}).parse()


def eval_node(node, lookup: Callable[[str], object], sizeof: Callable[[object], int]):
    """Evaluate a pycparser expression node (array length, enum value, bit width)."""
    from pycparser import c_ast

    if isinstance(node, c_ast.Constant):
        if node.type == "string":
            return _unescape(node.value.lstrip("L")[1:-1])
        if node.type == "char":
            text = _unescape(node.value.lstrip("L")[1:-1])
            if len(text) != 1:
                raise NotConstant("multi-character constant")
            return ord(text)
        return parse_number(node.value)
    if isinstance(node, c_ast.ID):
        return lookup(node.name)
    if isinstance(node, c_ast.UnaryOp):
        if node.op == "sizeof":
            return sizeof(node.expr)
        return _apply_unary(node.op, eval_node(node.expr, lookup, sizeof))
    if isinstance(node, c_ast.BinaryOp):
        return _apply(node.op, eval_node(node.left, lookup, sizeof),
                      eval_node(node.right, lookup, sizeof))
    if isinstance(node, c_ast.TernaryOp):
        cond = eval_node(node.cond, lookup, sizeof)
        return eval_node(node.iftrue if cond else node.iffalse, lookup, sizeof)
    if isinstance(node, c_ast.Cast):
        value = eval_node(node.expr, lookup, sizeof)
        names = getattr(getattr(node.to_type.type, "type", None), "names", None)
        cast = _CASTS.get(" ".join(names)) if names else None
        if cast and isinstance(value, int):
            return wrap(value, *cast)
        return value
    if isinstance(node, c_ast.Typename):
        raise NotConstant("a type is not a value")
    raise NotConstant(f"{type(node).__name__} is not a constant expression")


_CAST = re.compile(r"\(\s*((?:const\s+)?[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*)\s*((?:\*\s*)*)\)(.+)",
                   re.S)


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, c in enumerate(text):
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def cast_constant(body: str, lookup_type: Callable, evaluate: Callable):
    """A :class:`~ffikit.cdecl.model.CastConstant` for a macro body that casts a
    constant to a pointer type (``((sqlite3_destructor_type)-1)``, ``((void *) -1)``),
    else None.  ``lookup_type`` finds a typedef by name, ``evaluate`` the operand."""
    from .model import PRIMITIVE_NAMES, VOID, CastConstant, Pointer, Primitive, resolve

    m = _CAST.fullmatch(_strip_parens(body))
    if m is None:
        return None
    name = m.group(1).replace("const ", "").strip()
    target = lookup_type(name) or (VOID if name == "void" else
                                   Primitive(name) if name in PRIMITIVE_NAMES else None)
    if target is None:
        return None
    for _ in range(m.group(2).count("*")):
        target = Pointer(target)
    try:
        value = evaluate(m.group(3))
    except (NotConstant, RecursionError):
        return None
    if not isinstance(resolve(target), Pointer) or not isinstance(value, int):
        return None
    return CastConstant(target, value)
