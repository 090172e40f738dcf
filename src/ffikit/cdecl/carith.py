"""C arithmetic on typed constants, as a C compiler folds them on one platform.

A constant is a :class:`CValue`: a value and its C type.  Integer types carry
their width, signedness and conversion rank; floating types their precision, so
``0.1f`` is the ``float`` nearest 0.1 and ``1.0L / 3`` is rounded as
``long double`` is on the platform.  Operations follow C11 6.3.1 (integer
promotions, usual arithmetic conversions): unsigned arithmetic wraps, ``~0U``
is 4294967295, ``-1U >> 1`` is 2147483647.

What C leaves undefined is refused (:class:`NotConstant`), never guessed:
signed overflow, division by zero, shift counts that are negative or not less
than the width, a float converted to an integer type that cannot hold it.
Shifting a negative value is what gcc documents (two's complement), as is
``1 << 31``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ffikit.records import data_record

from .model import CType, Enum, Pointer, Primitive, resolve
from .platforms import Platform

if TYPE_CHECKING:  # (floats are rare in headers: fractions, and the decimal module it
    from fractions import Fraction  # loads, are imported when one is met)

__all__ = ["NotConstant", "Undefined", "to_float", "IntType", "FloatType", "PtrType", "CValue", "Arith",
           "CArithType", "as_int"]


class NotConstant(Exception):
    """The expression is not a constant ffikit can evaluate; the text says why."""


class Undefined(NotConstant):
    """The expression is C, but its value is undefined (overflow, division by zero, ...)."""


@data_record(frozen=True)
class IntType:
    """An integer type: C spelling, width in bits, signedness, conversion rank."""

    name: str
    bits: int
    signed: bool
    rank: int

    def fits(self, value: int) -> bool:
        if self.signed:
            return -(1 << (self.bits - 1)) <= value < (1 << (self.bits - 1))
        return 0 <= value < (1 << self.bits)

    def wrap(self, value: int) -> int:
        if self.name == "_Bool":
            return int(value != 0)
        value &= (1 << self.bits) - 1
        if self.signed and value >> (self.bits - 1):
            value -= 1 << self.bits
        return value


@data_record(frozen=True)
class FloatType:
    """A binary floating type: mantissa bits (with the hidden bit) and exponent range."""

    name: str
    precision: int
    emin: int
    emax: int
    rank: int

    def round(self, value):
        """``value`` (a Fraction, or a non-finite float) rounded to this type, as C does
        (round to nearest, ties to even; beyond the largest finite value: infinity)."""
        from fractions import Fraction

        if not isinstance(value, Fraction):
            return value
        if value == 0:
            return Fraction(0)
        a = abs(value)
        e = a.numerator.bit_length() - a.denominator.bit_length()
        if _pow2(e) > a:
            e -= 1
        e = max(e, self.emin)
        quantum = _pow2(e - self.precision + 1)
        rounded = round(a / quantum) * quantum
        if rounded >= _pow2(self.emax + 1):
            return float("inf") if value > 0 else float("-inf")
        return rounded if value > 0 else -rounded


@data_record(frozen=True)
class PtrType:
    """A pointer type (the model type it is); its value is an address."""

    ctype: CType
    name: str = "pointer"


def _pow2(e: int) -> Fraction:
    from fractions import Fraction

    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << -e)


CArithType = IntType | FloatType | PtrType | Literal["str"]  # "str": a string literal


def as_int(value: object) -> int:
    """An integer constant's value (an integer or pointer type's values are ints)."""
    if isinstance(value, int):
        return value
    raise NotConstant(f"{value!r} is not an integer value")


def _real(value: object) -> Fraction | float:
    """A floating constant's value: an exact Fraction, or a non-finite float."""
    from fractions import Fraction

    if isinstance(value, (Fraction, float)):
        return value
    raise NotConstant(f"{value!r} is not a floating value")


@data_record(frozen=True)
class CValue:
    """A constant and its C type; ``value`` is None where the operand is not evaluated
    (the untaken side of ``?:``, ``&&``, ``||``).  Floats are exact Fractions (or
    non-finite floats); strings have ``type`` ``"str"``."""

    type: CArithType
    value: object  # int (integers, addresses), Fraction or float, str, or None


_RANKS = {"_Bool": 0, "char": 1, "short": 2, "int": 3, "long": 4, "long long": 5, "__int128": 6}


class Arith:
    """The C types and conversions of one platform."""

    def __init__(self, platform: Platform):
        self.platform = platform
        prims = platform.primitives
        self.types: dict[str, IntType] = {}
        self.types["_Bool"] = IntType("_Bool", 8, False, 0)
        self.types["char"] = IntType("char", 8, platform.char_signed, 1)
        self.types["signed char"] = IntType("signed char", 8, True, 1)
        self.types["unsigned char"] = IntType("unsigned char", 8, False, 1)
        for base, rank in _RANKS.items():
            if rank < 2:
                continue
            size = prims[base][0]
            self.types[base] = IntType(base, size * 8, True, rank)
            self.types["unsigned " + base] = IntType("unsigned " + base, size * 8, False, rank)
        self.int = self.types["int"]
        ld_size = prims["long double"][0]
        if ld_size == 8:
            long_double = FloatType("long double", 53, -1022, 1023, 2)
        elif "aarch64" in platform.name:
            long_double = FloatType("long double", 113, -16382, 16383, 2)
        else:  # x87 extended precision
            long_double = FloatType("long double", 64, -16382, 16383, 2)
        self.floats = {"float": FloatType("float", 24, -126, 127, 0),
                       "double": FloatType("double", 53, -1022, 1023, 1),
                       "long double": long_double}
        self._by_model: dict = {}

    # --- types -------------------------------------------------------------------------
    def int_of(self, bits: int, signed: bool) -> IntType:
        """The standard integer type of that width (``long`` before ``long long``)."""
        for base in ("int", "long", "long long", "short", "__int128"):
            t = self.types[base if signed else "unsigned " + base]
            if t.bits == bits:
                return t
        if bits == 8:
            return self.types["signed char" if signed else "unsigned char"]
        raise NotConstant(f"no {bits}-bit integer type")

    def of_model(self, ctype: CType):
        """The arithmetic type for a model type (typedefs resolved), or PtrType."""
        found = self._by_model.get(ctype)
        if found is not None:
            return found
        from .layout import int_info

        t = resolve(ctype)
        if isinstance(t, Primitive):
            if t.is_float:
                found = self.floats[t.name]
            elif t.name in self.types:
                found = self.types[t.name]
            elif t.name == "_Bool":
                found = self.types["_Bool"]
            else:
                size, signed = int_info(t, self.platform)
                found = self.int_of(size * 8, signed)
        elif isinstance(t, Enum):
            size, signed = int_info(t, self.platform)
            found = self.int_of(max(size * 8, 32), signed) if size < 4 else \
                self.int_of(size * 8, signed)
        elif isinstance(t, Pointer) or t.__class__.__name__ in ("FunctionType", "Array"):
            found = PtrType(ctype)
        else:
            raise NotConstant(f"'{ctype.c_name()}' is not an arithmetic or pointer type")
        self._by_model[ctype] = found
        return found

    def promote(self, t):
        """Integer promotions: types narrower than ``int`` become ``int``."""
        if isinstance(t, IntType) and t.rank < self.int.rank:
            return self.int
        return t

    def common(self, a, b):
        """The usual arithmetic conversions' type for two operand types."""
        if isinstance(a, FloatType) or isinstance(b, FloatType):
            fa = a if isinstance(a, FloatType) else None
            fb = b if isinstance(b, FloatType) else None
            return max((t for t in (fa, fb) if t is not None), key=lambda t: t.rank)
        a, b = self.promote(a), self.promote(b)
        if a == b:
            return a
        if a.signed == b.signed:
            return a if a.rank >= b.rank else b
        u, s = (a, b) if not a.signed else (b, a)
        if u.rank >= s.rank:
            return u
        if s.bits > u.bits:
            return s
        return self.types["unsigned " + s.name]

    # --- values ------------------------------------------------------------------------
    def integer(self, value: int, t: IntType | None = None) -> CValue:
        t = t or self.int
        return CValue(t, None if value is None else t.wrap(value))

    def convert(self, v: CValue, t) -> CValue:
        """``v`` converted to type ``t`` (as assignment or a cast does)."""
        if v.type == "str":
            raise NotConstant("a string literal is not an arithmetic constant")
        if v.value is None:
            return CValue(t, None)
        if isinstance(t, PtrType):
            if isinstance(v.type, FloatType):
                raise NotConstant("a floating value cannot be cast to a pointer")
            return CValue(t, as_int(v.value) & ((1 << (self.platform.pointer_size * 8)) - 1))
        if isinstance(t, FloatType):
            if isinstance(v.type, PtrType):
                raise NotConstant("a pointer cannot be cast to a floating type")
            from fractions import Fraction

            x = Fraction(v.value) if isinstance(v.value, int) else v.value
            return CValue(t, t.round(x))
        if isinstance(v.type, FloatType):
            from fractions import Fraction

            x = v.value
            if not isinstance(x, Fraction):
                raise Undefined(f"{x} cannot be converted to '{t.name}' (undefined in C)")
            if t.name == "_Bool":
                return CValue(t, int(x != 0))
            n = int(x)  # truncates toward zero
            if not t.fits(n):
                raise Undefined(f"{to_float(x)!r} does not fit in '{t.name}' (undefined in C)")
            return CValue(t, n)
        return CValue(t, t.wrap(v.value))

    def truth(self, v: CValue) -> bool:
        if v.type == "str":
            return True
        return v.value != 0

    def unary(self, op: str, v: CValue) -> CValue:
        if v.type == "str" or isinstance(v.type, PtrType):
            if op == "!":
                return CValue(self.int, None if v.value is None else int(not self.truth(v)))
            raise NotConstant(f"unary '{op}' on a {'string' if v.type == 'str' else 'pointer'}")
        if op == "!":
            return CValue(self.int, None if v.value is None else int(v.value == 0))
        t = self.promote(v.type)
        v = self.convert(v, t)
        if v.value is None:
            return v
        if op == "+":
            return v
        if op == "-":
            if isinstance(t, FloatType):
                return CValue(t, -_real(v.value))
            return self._checked(t, -as_int(v.value), "-")
        if isinstance(t, FloatType):
            raise NotConstant("'~' on a floating value")
        return CValue(t, t.wrap(~as_int(v.value)))

    def _checked(self, t: IntType, value: int, op: str) -> CValue:
        if t.signed and not t.fits(value):
            raise Undefined(f"signed overflow in '{op}' on '{t.name}' (undefined in C)")
        return CValue(t, t.wrap(value))

    def binary(self, op: str, a: CValue, b: CValue) -> CValue:
        if a.type == "str" or b.type == "str":
            raise NotConstant(f"'{op}' on a string literal")
        if isinstance(a.type, PtrType) or isinstance(b.type, PtrType):
            return self._pointer_binary(op, a, b)
        if op in ("<<", ">>"):
            return self._shift(op, a, b)
        t = self.common(a.type, b.type)
        x, y = self.convert(a, t).value, self.convert(b, t).value
        comparison = op in ("==", "!=", "<", ">", "<=", ">=")
        if x is None or y is None:
            return CValue(self.int if comparison else t, None)
        if comparison:
            return CValue(self.int, int(_compare(op, x, y)))
        if isinstance(t, FloatType):
            return CValue(t, t.round(_float_op(op, x, y)))
        x, y = as_int(x), as_int(y)
        if op in "+-*":
            return self._checked(t, x + y if op == "+" else x - y if op == "-" else x * y, op)
        if op in "/%":
            if y == 0:
                raise Undefined(f"{'division' if op == '/' else 'modulo'} by zero")
            q = abs(x) // abs(y)
            q = q if (x >= 0) == (y >= 0) else -q
            if not t.fits(q):
                raise Undefined(f"signed overflow in '{op}' on '{t.name}' (undefined in C)")
            return CValue(t, q if op == "/" else x - y * q)
        return CValue(t, t.wrap({"&": x & y, "|": x | y, "^": x ^ y}[op]))

    def _shift(self, op: str, a: CValue, b: CValue) -> CValue:
        if isinstance(a.type, FloatType) or isinstance(b.type, FloatType):
            raise NotConstant(f"'{op}' on a floating value")
        t = self.promote(a.type)
        x = self.convert(a, t).value
        n = None if b.value is None else as_int(b.value)
        if n is not None and (n < 0 or n >= t.bits):
            raise Undefined(f"shift count {n} is outside 0..{t.bits - 1} for '{t.name}' "
                              "(undefined in C)")
        if x is None or n is None:
            return CValue(t, None)
        x = as_int(x)
        return CValue(t, t.wrap(x << n if op == "<<" else x >> n))

    def _pointer_binary(self, op: str, a: CValue, b: CValue) -> CValue:
        if op in ("==", "!="):
            if a.value is None or b.value is None:
                return CValue(self.int, None)
            return CValue(self.int, int((a.value == b.value) == (op == "==")))
        raise NotConstant(f"'{op}' on a pointer is not an arithmetic constant")


def to_float(value) -> float:
    """The nearest Python float (a ``long double`` beyond a double's range is infinite)."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _compare(op: str, x, y) -> bool:
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y
    if op == ">":
        return x > y
    return x <= y if op == "<=" else x >= y


def _float_op(op: str, x, y):
    from fractions import Fraction

    if not (isinstance(x, Fraction) and isinstance(y, Fraction)):
        x, y = to_float(x), to_float(y)
        if op == "/" and y == 0:
            raise Undefined("floating division by zero")
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            raise Undefined("floating division by zero")
        return x / y
    raise NotConstant(f"'{op}' on a floating value")
