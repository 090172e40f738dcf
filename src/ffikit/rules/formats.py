"""Variadic arguments checked against a literal format: ``format (printf, i, j)``.

When a declaration carries ``__attribute__ ((format (printf, i, j)))`` and
the format argument is a literal ``bytes``/``str``, each conversion says what
its argument must be (``%d`` an int that fits ``int``, ``%ld`` a ``long``,
``%s`` bytes/str, ``%f`` a float, ``*`` widths an int) and how it is passed.
:func:`printf_conversions` parses a format; :func:`check_printf` matches the
arguments, refusing a wrong type or count before C runs; backends then pass
each argument as the C type the conversion names.  ``scanf`` formats are
counted only.  Other variadic calls get C's default promotions, unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ffikit.cdecl import model as m
from ffikit.errors import ArgumentError, OutOfRange
from ffikit.records import data_record
from ffikit.rules.kinds import int_range
from ffikit.rules.messages import given

__all__ = ["Conversion", "printf_conversions", "scanf_conversions", "scanf_count", "check_printf",
           "check_scanf"]


@data_record(frozen=True)
class Conversion:
    """One argument a format consumes: its spelling, kind and C type (as promoted)."""

    spec: str
    kind: str   # "int", "uint", "float", "string", "wstring", "pointer", "char", "count"
    ctype: str  # "int", "long", "long long", "size_t", "ptrdiff_t", "intmax_t", "double", ...


_SPEC = re.compile(r"%(?:(\d+)\$)?([-+ #0'I]*)(\*|\d+)?(?:\.(\*|\d*))?"
                   r"(hh|h|ll|l|j|z|Z|t|L|q)?([diouxXeEfFgGaAcspnm%CS])")
_INT_TYPES = {None: "int", "hh": "int", "h": "int", "l": "long", "ll": "long long",
              "q": "long long", "j": "intmax_t", "z": "size_t", "Z": "size_t", "t": "ptrdiff_t"}


def printf_conversions(fmt: str) -> list[Conversion]:
    """The arguments a printf format consumes, in order (``*`` widths included).

    Raises ``ValueError`` for what cannot be checked: positional (``%1$d``)
    arguments and incomplete conversions.
    """
    out: list[Conversion] = []
    pos = 0
    while True:
        pct = fmt.find("%", pos)
        if pct < 0:
            return out
        match = _SPEC.match(fmt, pct)
        if match is None:
            raise ValueError(f"incomplete or unknown conversion at {fmt[pct:pct + 6]!r}")
        pos = match.end()
        spec, conv, length = match.group(0), match.group(6), match.group(5)
        if match.group(1):
            raise ValueError("positional arguments (%1$d) are not checked")
        if conv in "%m":
            continue
        for star in (match.group(3), match.group(4)):
            if star == "*":
                out.append(Conversion(spec, "int", "int"))
        if conv in "di":
            out.append(Conversion(spec, "int", _INT_TYPES.get(length, "int")))
        elif conv in "ouxX":
            out.append(Conversion(spec, "uint", _INT_TYPES.get(length, "int")))
        elif conv in "eEfFgGaA":
            out.append(Conversion(spec, "float", "long double" if length == "L" else "double"))
        elif conv in "cC":
            out.append(Conversion(spec, "char", "int"))
        elif conv in "sS":
            wide = conv == "S" or length == "l"
            out.append(Conversion(spec, "wstring" if wide else "string", "pointer"))
        elif conv == "p":
            out.append(Conversion(spec, "pointer", "pointer"))
        elif conv == "n":
            out.append(Conversion(spec, "count", "pointer"))


_SCAN = re.compile(r"%(\*)?(\d+)?(hh|h|ll|l|j|z|t|L|q|m)?(\[\^?\]?[^\]]*\]|[a-zA-Z%])")
_SCAN_INT = {None: "int", "hh": "signed char", "h": "short", "l": "long", "ll": "long long",
             "q": "long long", "j": "intmax_t", "z": "size_t", "t": "ptrdiff_t"}
_SCAN_FLOAT = {None: "float", "l": "double", "L": "long double"}


def scanf_conversions(fmt: str) -> list[Conversion]:
    """The pointers a scanf format writes through, in order (``%*d`` assigns none).

    ``Conversion.ctype`` names the C object written (``"int"``, ``"double"``,
    ``"char[11]"`` for ``%10s``: the width plus the NUL).  ``%s``/``%[``
    without a width, ``%m`` allocation and positional arguments raise
    ``ValueError`` (C could write any number of bytes).
    """
    out: list[Conversion] = []
    for match in _SCAN.finditer(fmt.replace("%%", "")):
        suppress, width, length, conv = match.groups()
        spec = match.group(0)
        if suppress:
            continue
        letter = conv[0]
        if length == "m" or "$" in spec:
            raise ValueError(f"{spec!r}: allocating or positional conversions are not checked")
        if letter in "diouxXn":
            out.append(Conversion(spec, "count" if letter == "n" else "int", _SCAN_INT.get(length, "int")))
        elif letter in "eEfFgGaA":
            out.append(Conversion(spec, "float", _SCAN_FLOAT.get(length, "double")))
        elif letter in "s[":
            if width is None:
                raise ValueError(f"{spec!r} has no width: C could write any number of bytes")
            out.append(Conversion(spec, "string", f"char[{int(width) + 1}]"))
        elif letter == "c":
            out.append(Conversion(spec, "string", f"char[{int(width or 1)}]"))
        elif letter == "p":
            out.append(Conversion(spec, "pointer", "void *"))
        else:
            raise ValueError(f"unknown conversion {spec!r}")
    return out


def scanf_count(fmt: str) -> int:
    """How many pointer arguments a scanf format assigns (``%*d`` assigns none)."""
    text = fmt.replace("%%", "")
    return len(re.findall(r"%(?!\*)\d*(?:hh|h|ll|l|j|z|t|L|q|m)?(?:\[[^\]]*\]|[a-zA-Z])", text))


def check_scanf(function: str, fmt: bytes | str, args: Sequence[object], first: int,
                source: str = "") -> list[Conversion]:
    """Match scanf ``args`` to ``fmt``: a count, and a pointer (never a number,
    bytes or str) for every conversion.  Sizes are the backend's to compare
    (``Conversion.ctype``).  Raises :class:`~ffikit.errors.ArgumentError`
    (naming ``source``, where the format fact came from, when given)."""
    with _sourced(source):
        return _check_scanf(function, fmt, args, first)


def _check_scanf(function: str, fmt: bytes | str, args: Sequence[object], first: int
                 ) -> list[Conversion]:
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    shown = fmt if len(fmt) <= 40 else fmt[:37] + "..."  # type: ignore[operator]
    try:
        convs = scanf_conversions(text)
    except ValueError as exc:
        raise ArgumentError(f"the scanf format {shown!r} of '{function}' is refused: {exc}; "
                            "give %s and %[ a width (%15s) that fits the buffer") from None
    if len(convs) != len(args):
        raise ArgumentError(f"the format {shown!r} of '{function}' assigns {len(convs)} "
                            f"argument{'s' if len(convs) != 1 else ''} but {len(args)} "
                            f"{'were' if len(args) != 1 else 'was'} given")
    for k, (conv, value) in enumerate(zip(convs, args)):
        if value is None or isinstance(value, (int, float, str, bytes)):
            raise ArgumentError(
                f"variadic argument {first + k + 1} of '{function}' (for {conv.spec!r} in "
                f"{shown!r}) must be a place C can write a {conv.ctype} into (ffikit.new(...), "
                f"a writable buffer or a ctypes pointer), not {given(value)}")
    return convs


_SIGNED = {"int": "int", "long": "long", "long long": "long long", "intmax_t": "intmax_t",
           "size_t": "ssize_t", "ptrdiff_t": "ptrdiff_t"}
_UNSIGNED = {"int": "unsigned int", "long": "unsigned long", "long long": "unsigned long long",
             "intmax_t": "uintmax_t", "size_t": "size_t", "ptrdiff_t": "size_t"}


def _fits(value: int, ctype: str, unsigned: bool) -> bool:
    """Whether ``value`` can be passed for a conversion of C type ``ctype``; unsigned
    conversions also take negative values (``%u`` of -1 is defined in C)."""
    lo, hi = int_range(m.Primitive(_SIGNED[ctype]))
    if unsigned:
        hi = int_range(m.Primitive(_UNSIGNED[ctype]))[1]
    return lo <= value <= hi


def check_printf(function: str, fmt: bytes | str, args: Sequence[object], first: int,
                 source: str = "") -> list[Conversion] | None:
    """Match ``args`` (the variadic arguments, from parameter ``first``) to ``fmt``.

    Returns the conversions, one per argument (None when the format cannot
    be checked: then C's default promotions apply).  Raises
    :class:`~ffikit.errors.ArgumentError` on a wrong count or type, naming
    ``source`` (where the format fact came from) when given.
    """
    with _sourced(source):
        return _check_printf(function, fmt, args, first)


@contextmanager
def _sourced(source: str) -> Iterator[None]:
    """Re-raise an ArgumentError with ``(from <source>)`` added."""
    try:
        yield
    except ArgumentError as exc:
        if not source:
            raise
        raise type(exc)(f"{exc} (from {source})") from None


def _check_printf(function: str, fmt: bytes | str, args: Sequence[object], first: int
                  ) -> list[Conversion] | None:
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    try:
        convs = printf_conversions(text)
    except ValueError:
        return None
    shown = fmt if len(fmt) <= 40 else fmt[:37] + "..."  # type: ignore[operator]
    if len(convs) != len(args):
        raise ArgumentError(
            f"the format {shown!r} of '{function}' has {len(convs)} conversion"
            f"{'s' if len(convs) != 1 else ''} but {len(args)} variadic argument"
            f"{'s were' if len(args) != 1 else ' was'} given; C would read "
            + ("arguments that are not there" if len(convs) > len(args) else "fewer than given"))
    for k, (conv, value) in enumerate(zip(convs, args)):
        where = f"variadic argument {first + k + 1} of '{function}' (for {conv.spec!r} in {shown!r})"
        bad = None
        if conv.kind in ("int", "uint", "char"):
            if conv.kind == "char" and type(value) in (bytes, str) and len(value) == 1:  # type: ignore[arg-type]
                continue
            if not isinstance(value, int):
                bad = "an int" + (" or a 1-character bytes/str" if conv.kind == "char" else "")
            elif not _fits(int(value), conv.ctype, conv.kind == "uint"):
                raise OutOfRange(f"{where} is out of range for C type {conv.ctype}: {value}; "
                                 "use a wider length modifier (%ld, %lld)")
        elif conv.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad = "a float"
        elif conv.kind == "string":
            if not (type(value) in (bytes, str) or _buffer_like(value)):
                bad = "bytes or str (a C string)"
        elif conv.kind == "wstring":
            if not (type(value) is str or _buffer_like(value)):
                bad = "a str (a wide C string)"
        elif conv.kind == "pointer":
            if isinstance(value, (int, float, str, bytes)) and value is not None:
                bad = "a pointer: None, a buffer or a ctypes pointer"
        elif conv.kind == "count":
            raise ArgumentError(f"{where}: %n writes through a pointer and is refused; "
                                "use the function's return value instead")
        if bad:
            raise ArgumentError(f"{where} must be {bad} (got {given(value)})")
    return convs


def _buffer_like(value: object) -> bool:
    return value is not None and not isinstance(value, (int, float))
