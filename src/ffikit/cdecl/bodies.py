"""Function definitions in headers, their statements blanked before parsing.

Headers define ``static inline`` helpers whose bodies hold anything a
compiler accepts (asm, statement expressions, builtins): none of it declares
a name, and pycparser need not read it.  :func:`blank_bodies` blanks each
body's text, keeping its braces, its newlines (lines stay the user's) and its
preprocessor lines (line markers, ``#define``\\ s), before scrubbing.
"""

from __future__ import annotations

import re

__all__ = ["blank_bodies"]

# The next brace (group 1; or the end of the text: empty) outside strings, character constants
# and preprocessor lines, which are stepped over inside the match (possessive: no backtracking,
# no state kept per step).
_BODY_SCAN = re.compile(r"""(?:"[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"""
                        r"""|^[ \t]*#[^\n]*|[^{}"'#\n]+|[^{}])*+([{}]|\Z)""", re.M)
_NOT_DECLARATOR = {"__attribute__", "__attribute", "__declspec", "__asm__", "__asm", "asm"}


def _is_function_body(text: str, brace: int) -> bool:
    """Whether the ``{`` at ``brace`` (file scope) opens a function body: it follows a
    parameter list's ``)``, attributes and asm labels aside."""
    i = brace - 1
    while True:
        while i >= 0 and text[i] in " \t\r\n":
            i -= 1
        if i < 0 or text[i] != ")":
            return False
        depth = 0
        while i >= 0:
            if text[i] == ")":
                depth += 1
            elif text[i] == "(":
                depth -= 1
                if depth == 0:
                    break
            i -= 1
        j = i - 1
        while j >= 0 and text[j] in " \t\r\n":
            j -= 1
        k = j
        while k >= 0 and (text[k].isalnum() or text[k] == "_"):
            k -= 1
        if text[k + 1:j + 1] not in _NOT_DECLARATOR:
            return True
        i = k


def blank_bodies(text: str) -> str:
    """Blank the statements of every function defined in the text (``static inline``
    helpers in headers: asm, statement expressions, anything), keeping ``{}``, the
    newlines, and preprocessor lines (line markers, ``#define``\\ s)."""
    ranges, depth, start = [], 0, None
    for m in _BODY_SCAN.finditer(text):
        c = m.group(1)
        if c == "{":
            if depth == 0 and _is_function_body(text, m.start(1)):
                start = m.end()
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
            if depth == 0 and start is not None:
                ranges.append((start, m.start(1)))
                start = None
    if not ranges:
        return text
    out, pos = [], 0
    for a, b in ranges:
        out.append(text[pos:a])
        out.append("\n".join(line if line.lstrip().startswith("#") else " " * len(line)
                             for line in text[a:b].split("\n")))
        pos = b
    out.append(text[pos:])
    return "".join(out)
