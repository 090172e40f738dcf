"""C tokens and literals with their C types: ``42U``, ``0x1p-3f``, ``'\\377'``, ``"a" "b"``.

A literal's type is chosen as C11 6.4.4 says for the platform: an unsuffixed
decimal is the first of ``int``, ``long``, ``long long`` that holds it, a hex or
octal one may also be unsigned, ``U``/``L``/``LL`` narrow the list.  A floating
literal is rounded to its type (``0.1f`` is the ``float`` nearest 0.1).  A
character constant is ``int``, converted from ``char`` (``'\\377'`` is -1 where
``char`` is signed).

Work is bounded: a literal longer than :data:`MAX_LITERAL` digits, or a decimal
exponent beyond what any C type holds, is answered without building huge numbers.
"""

from __future__ import annotations

import re

from .carith import Arith, CValue, NotConstant

__all__ = ["tokenize", "number", "char_constant", "string_literal", "MAX_LITERAL"]

MAX_LITERAL = 400  # digits in one numeric literal

_TOKEN = re.compile(
    r"""[ \t\r\n\f\v]*(?:
        (?P<num>\.?\d(?:[eEpP][+-]|[0-9A-Za-z_.])*)
      | (?P<name>[A-Za-z_$][\w$]*)
      | (?P<op>\#\#|<<|>>|<=|>=|==|!=|&&|\|\||->|\.\.\.|[-+*/%<>&|^~!?:(),\[\].{}=;\#])
    )""",
    re.X,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` tokens; kinds are num, str, char, name, op."""
    out = []
    pos, end = 0, len(text)
    match = _TOKEN.match
    while pos < end:
        quote = _QUOTE.match(text, pos)
        if quote is not None:  # scanned by hand: a regex keeps state per character
            close = _literal_end(text, quote.end(), quote.group(2))
            out.append(("str" if quote.group(2) == '"' else "char",
                        text[quote.start(1):close]))
            pos = close
            continue
        m = match(text, pos)
        if m is None or m.lastgroup is None:
            rest = text[pos:].strip()
            if not rest:
                break
            raise NotConstant(f"cannot read {rest[:20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


_QUOTE = re.compile(r"[ \t\r\n\f\v]*((?:u8|[LuU])?)([\"'])")


def _literal_end(text: str, start: int, quote: str) -> int:
    """Index just past the closing ``quote`` of a literal whose body starts at ``start``."""
    i = start
    while True:
        close = text.find(quote, i)
        newline = text.find("\n", i, close if close >= 0 else len(text))
        if close < 0 or newline >= 0:
            raise NotConstant("unterminated string or character literal")
        backslashes = 0
        while text[close - 1 - backslashes] == "\\" and close - 1 - backslashes >= start:
            backslashes += 1
        if backslashes % 2 == 0:
            return close + 1
        i = close + 1


_INT = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)"
                  r"((?:[uU](?:ll|LL|[lL])?)|(?:(?:ll|LL|[lL])[uU]?))?")
_DEC_FLOAT = re.compile(r"(?:(\d*)\.(\d*)|(\d+)(?=[eE]))(?:[eE]([+-]?\d+))?([fFlL]?)")
_HEX_FLOAT = re.compile(r"0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)([fFlL]?)")


def number(text: str, arith: Arith) -> CValue:
    """A numeric literal (pp-number) as a typed value."""
    if len(text) > MAX_LITERAL:
        raise NotConstant(f"numeric literal of {len(text)} characters is too long")
    m = _INT.fullmatch(text)
    if m is not None:
        return _integer(m.group(1), (m.group(2) or "").lower(), arith)
    m = _HEX_FLOAT.fullmatch(text)
    if m is not None:
        whole, frac, exp, suffix = m.groups()
        frac = frac or ""
        if not whole and not frac:
            raise NotConstant(f"bad hex float {text!r}")
        mantissa = int((whole + frac) or "0", 16)
        exponent = int(exp) - 4 * len(frac)
        return _float(mantissa, exponent, 2, suffix, arith)
    m = _DEC_FLOAT.fullmatch(text)
    if m is not None:
        whole, frac, alone, exp, suffix = m.groups()
        digits = (alone or whole or "") + (frac or "")
        if not digits:
            raise NotConstant(f"bad number {text!r}")
        exponent = int(exp or 0) - len(frac or "")
        return _float(int(digits), exponent, 10, suffix, arith)
    raise NotConstant(f"{text!r} is not a C number (or uses a suffix ffikit does not know)")


def _integer(digits: str, suffix: str, arith: Arith) -> CValue:
    if digits[:2] in ("0x", "0X", "0b", "0B"):
        value, decimal = int(digits, 0), False
    elif len(digits) > 1 and digits[0] == "0":
        value, decimal = int(digits, 8), False
    else:
        value, decimal = int(digits), True
    unsigned = "u" in suffix
    longs = suffix.count("l")
    names = [["int", "long", "long long"], ["long", "long long"], ["long long"]][longs]
    candidates = []
    for name in names:
        if not unsigned:
            candidates.append(arith.types[name])
        if unsigned or not decimal:
            candidates.append(arith.types["unsigned " + name])
    for t in candidates:
        if t.fits(value):
            return CValue(t, value)
    raise NotConstant(f"integer constant {digits}{suffix} is too large for its type")


_MAX_EXP = {10: 5000, 2: 17000}


def _float(mantissa: int, exponent: int, base: int, suffix: str, arith: Arith) -> CValue:
    from fractions import Fraction  # (and decimal: loaded when a header has a float)

    t = arith.floats["float" if suffix in ("f", "F") else
                     "long double" if suffix in ("l", "L") else "double"]
    if mantissa == 0:
        return CValue(t, Fraction(0))
    size = len(str(mantissa)) if base == 10 else mantissa.bit_length()
    if exponent + size > _MAX_EXP[base]:
        return CValue(t, float("inf"))
    if exponent + size < -_MAX_EXP[base]:
        return CValue(t, Fraction(0))
    scale = Fraction(base) ** exponent
    return CValue(t, t.round(mantissa * scale))


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]+|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SIMPLE = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "e": 27,
           "\\": 92, "'": 39, '"': 34, "?": 63}


def _escape_code(m: re.Match) -> int:
    """The character code of one escape sequence (a match of ``_ESCAPE``)."""
    esc = m.group(1)
    first = esc[0]
    if first == "x":
        return int(esc[1:], 16)
    if first in "01234567":
        return int(esc, 8)
    if first in "uU":
        return int(esc[1:], 16)
    code = _SIMPLE.get(esc)
    if code is None:
        raise NotConstant(f"unknown escape sequence '\\{esc}'")
    return code


def _codes(body: str) -> list[int]:
    """The character codes of a literal's body, escapes resolved."""
    out: list[int] = []
    pos = 0
    for m in _ESCAPE.finditer(body):
        out.extend(ord(c) for c in body[pos:m.start()])
        out.append(_escape_code(m))
        pos = m.end()
    out.extend(ord(c) for c in body[pos:])
    return out


def char_constant(text: str, arith: Arith) -> CValue:
    """``'a'``, ``'\\377'``, ``L'x'``: an ``int`` (``wchar_t``, ``char16_t``, ``char32_t``
    for the prefixed forms)."""
    prefix, body = text[:text.index("'")], text[text.index("'") + 1:-1]
    codes = _codes(body) if "\\" in body else [ord(c) for c in body]
    if len(codes) != 1:
        raise NotConstant(f"multi-character constant {text} (its value is implementation-"
                          "defined)" if codes else "empty character constant")
    code = codes[0]
    if prefix == "":
        if code > 0xFF:
            raise NotConstant(f"character {text} does not fit in 'char'")
        return CValue(arith.int, arith.types["char"].wrap(code))
    bits, signed = {"L": (arith.platform.primitives["wchar_t"][0] * 8,
                          arith.platform.wchar_signed),
                    "u": (16, False), "U": (32, False), "u8": (8, False)}[prefix]
    t = arith.int_of(bits, signed)
    if prefix == "L" and bits == 32 and signed:
        t = arith.int  # glibc: wchar_t is int
    return CValue(t, t.wrap(code))


def string_literal(text: str) -> str:
    """The text of one string literal token (prefix and quotes removed)."""
    body = text[text.index('"') + 1:-1]
    if "\\" not in body:
        return body
    try:
        return _ESCAPE.sub(lambda m: chr(_escape_code(m)), body)
    except ValueError:
        raise NotConstant("a string escape beyond Unicode") from None
