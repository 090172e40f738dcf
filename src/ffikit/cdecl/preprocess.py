"""C text -> text pycparser can parse, plus the facts the parser alone would lose.

1. The system preprocessor (``$CC -E -dD``, or ``pcpp`` when there is no
   compiler; run by :mod:`.cpp`, bounded in time) expands ``#include``/``#define``/``#if``; ``-dD`` keeps every
   ``#define`` in place, with line markers saying which file it came from, so
   constants can be harvested from just the headers the user asked for.
2. GCC extensions pycparser cannot parse are scrubbed (``__attribute__``,
   ``__asm__``, ``__extension__``, ...), but the attributes that change layout
   (``packed``, ``aligned(n)``) and ``#pragma pack`` are *recorded* by text
   offset first; the replacement keeps every newline, so line numbers in
   errors stay the user's.  Function attributes (``access``, ``nonnull``,
   ``format``, ``malloc``) are recorded the same way (:mod:`.attributes`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from functools import lru_cache

from ffikit.records import data_record, field

from ..errors import DeclarationError
from . import attributes as _attributes
from .bodies import blank_bodies
from .cpp import compiler, run_cpp, system_include_dirs

__all__ = ["Preprocessed", "preprocess", "needs_cpp", "scrub", "strip_comments", "system_include_dirs",
           "compiler", "run_cpp"]


@data_record
class Attribute:
    """A layout attribute found in the text, by offset.

    ``kind`` is ``packed``, ``aligned``, ``vector_size``, ``mode``, ``ms_struct``,
    ``gcc_struct`` or ``unsupported`` (one that changes layouts in ways ffikit
    does not compute: ``expr`` names it).  ``expr`` is the argument's C text
    (``"2*32"``, ``"sizeof(long)"``), evaluated by the parser, which knows the
    types; ``value`` is set when the text is a plain number.
    """

    offset: int
    end: int
    kind: str
    value: int | None = None
    expr: str | None = None


@data_record
class Preprocessed:
    """Parser-ready text and what was recorded on the way."""

    text: str
    macros: list = field(default_factory=list)  # (name, body, file, line)
    attributes: list[Attribute] = field(default_factory=list)  # sorted by offset
    packs: list = field(default_factory=list)  # (offset, pack or None), sorted
    line_starts: dict = field(default_factory=dict)  # (file, line) -> text offset
    calls: list = field(default_factory=list)  # attributes.CallAttribute, sorted by offset
    system_files: set = field(default_factory=set)  # files the markers flag as system headers
    function_macros: list = field(default_factory=list)  # (name, (params, body) or None, file, line)
    asm_labels: list = field(default_factory=list)  # (offset, symbol): 'f(void) __asm__("sym")'

    def pack_at(self, offset: int) -> int | None:
        """The ``#pragma pack`` value in force at ``offset``."""
        index = bisect.bisect_right(self.packs, (offset, float("inf"))) - 1
        return self.packs[index][1] if index >= 0 else None

    def offset_of(self, coord) -> int | None:
        """Text offset of a pycparser coord (file, line, column)."""
        if coord is None or coord.line is None:
            return None
        start = self.line_starts.get((coord.file, coord.line))
        if start is None:
            return None
        return start + max((coord.column or 1) - 1, 0)


_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(include|define|undef|if|ifdef|ifndef|elif|else|endif|line|error)\b",
                        re.M)


def needs_cpp(text: str) -> bool:
    """True when the text has preprocessor directives other than ``#pragma``."""
    return _DIRECTIVE.search(text) is not None


# --- scrubbing ---------------------------------------------------------------

_WITH_PARENS = {"__attribute__", "__attribute", "__declspec", "__asm__", "__asm", "asm",
                "__typeof__", "__typeof", "typeof", "_Alignas", "_Atomic"}
_REPLACE = {
    "__extension__": "", "__alignof__": "_Alignof", "__alignof": "_Alignof", "__restrict": "", "__restrict__": "", "restrict": "",
    "__inline": "inline", "__inline__": "inline", "__forceinline": "inline",
    "__const": "const", "__volatile__": "volatile", "__volatile": "volatile",
    "__signed__": "signed", "__signed": "signed",
    "_Noreturn": "", "__cdecl": "", "__stdcall": "", "__fastcall": "", "WINAPI": "",
    "_Nullable": "", "_Nonnull": "", "_Null_unspecified": "", "__thread": "",
    "_Thread_local": "",
    "unsigned __int128": "__ffikit_uint128", "__int128_t": "__ffikit_int128",
    "__uint128_t": "__ffikit_uint128", "__int128": "__ffikit_int128",
    "__builtin_va_list": "__ffikit_va_list", "__gnuc_va_list": "__ffikit_va_list",
}
# One scan finds what scrubbing handles: a keyword (group 1), or a directive line: a ``#define``
# (groups 2-4: name, ``(`` of a function-like macro, the rest), a line marker (groups 5-7: line,
# file, flags), or another (``#undef``, ``#pragma``).  Defines and markers are nearly all of
# ``cc -E -dD`` output's directives: their parts come from this one match.


def _alternation(words: list[str], depth: int = 0) -> str:
    """A regex matching the first of ``words`` (in their order) that matches, with common
    first characters factored out (``__(?:asm__|asm|...)``): the regex engine tries each
    alternative in turn at every word start; factored, it tries a handful.  A space in a
    word matches any whitespace."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1], []).append(word[1:])
    parts: list[str] = []
    for head, tails in groups.items():
        if not head or len(tails) == 1 or depth == 2:
            parts.extend(re.escape(head + t).replace(r"\ ", r"\s+") for t in tails)
        else:
            parts.append(re.escape(head) + "(?:" + _alternation(tails, depth + 1) + ")")
    return "|".join(parts)


_WORD = re.compile(
    r"\b(" + _alternation(sorted((*_WITH_PARENS, *_REPLACE), key=len, reverse=True)) + r")\b"
    r"|^[ \t]*#[^\S\n]*(?:define[^\S\n]+([A-Za-z_]\w*)(\(?)([^\n]*)"
    r'|(?:line[^\S\n]+)?(\d+)[^\S\n]+"([^"\\\n]*(?:\\.[^"\\\n]*)*)"([^\n]*)|[^\n]*)',
    re.M,
)
_PRAGMA_PACK = re.compile(r"#\s*pragma\s+pack\s*\(\s*(.*?)\s*\)")
_MARKER = re.compile(r'#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"')
_DEFINE = re.compile(r"#\s*define\s+([A-Za-z_]\w*)(\(?)(.*)")
_UNDEF = re.compile(r"#\s*undef\s+([A-Za-z_]\w*)")


def _blank(s: str) -> str:
    """``s`` with every character but the newlines a space (lengths and lines kept)."""
    if "\n" not in s:
        return " " * len(s)
    return "\n".join([" " * len(part) for part in s.split("\n")])


_SPLIT_MARKER = re.compile(r"\n[ \t]*#[^\n]*\n")  # a marker inside a '(...)' group


def _balanced_end(text: str, start: int) -> int:
    """Index just past the parenthesised group starting at or after ``start``."""
    i = start
    n = len(text)
    while i < n and (text[i] in " \t\r\n" or (text[i] == "#" and text[i - 1] == "\n")):
        if text[i] == "#":  # a line marker between a keyword and its '(' (gcc -E does that)
            i = text.find("\n", i)
            i = n if i < 0 else i
        i += 1
    if i >= n or text[i] != "(":
        return start
    depth = 0
    while i < n:
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        i += 1
    raise DeclarationError("unbalanced parentheses in an attribute or asm label")


_ASM = {"__asm__", "__asm", "asm"}
_ASM_QUALIFIERS = re.compile(r"(?:\s*\b(?:volatile|__volatile__|__volatile|inline|goto)\b)*")


def _after_asm_qualifiers(text: str, pos: int) -> int:
    """Where ``volatile``/``inline``/``goto`` after ``asm`` end (``pos`` if none)."""
    m = _ASM_QUALIFIERS.match(text, pos)  # the pattern matches the empty string too
    return m.end() if m is not None else pos


_ATTRIBUTE_ITEM = re.compile(r"([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.S)
_SPACES = re.compile(r"\s+")
_STRING_BODY = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LAYOUT_KINDS = {"packed", "aligned", "vector_size", "mode", "ms_struct", "gcc_struct"}
# Attributes that change a layout in ways ffikit does not compute: refused, never ignored.
_UNSUPPORTED_LAYOUT = {"scalar_storage_order", "ext_vector_type", "matrix_type",
                       "randomize_layout", "preserve_access_index"}


@lru_cache(maxsize=256)
def _layout_attributes(group: str, declspec: bool) -> tuple[tuple[str, str | None], ...]:
    """``(kind, argument text)`` of the layout attributes in one ``__attribute__((...))``
    (or ``__declspec(...)``) group; attributes that do not touch layouts are dropped.
    (Cached: a header repeats a few groups hundreds of times.)"""
    inner = group[group.index("(") + 1:group.rindex(")")].strip()
    if not declspec:
        if not (inner.startswith("(") and inner.endswith(")")):
            return ()
        inner = inner[1:-1]
    found = []
    for item in _attributes.split_top(inner):
        m = _ATTRIBUTE_ITEM.match(item)
        if m is None:
            continue
        name, arg = m.group(1), m.group(2)
        if name.startswith("__") and name.endswith("__") and len(name) > 4:
            name = name[2:-2]
        if declspec:
            if name == "align":
                found.append(("aligned", arg))
            continue
        if name in _LAYOUT_KINDS:
            found.append((name, arg.strip() if arg is not None else None))
        elif name in _UNSUPPORTED_LAYOUT:
            found.append(("unsupported", name))
    return tuple(found)


def scrub(text: str, default_pack: int | None = None, filename: str = "<cdef>") -> Preprocessed:
    """Blank out what pycparser cannot parse; record layout attributes and markers."""
    text = blank_bodies(text)
    out: list[str] = []
    attributes: list[Attribute] = []
    calls: list = []
    packs: list = [(0, default_pack)] if default_pack else []
    pack_stack: list = []
    macros: list = []  # (name, body or None for '#undef', file, line), in order
    system_files: set = set()
    function_macros: list = []
    asm_labels: list = []
    pos = 0
    out_len = 0
    current_file, current_line = filename, 1
    line_cursor = 0  # offset in text of the start of the line current_line refers to

    def line_no_at(offset: int) -> tuple[int, int]:
        """The line number at ``offset``; counting resumes there (linear, not quadratic)."""
        nonlocal current_line
        current_line += text.count("\n", line_cursor, offset)
        return current_line, offset

    def emit(piece: str) -> None:
        nonlocal out_len
        out.append(piece)
        out_len += len(piece)

    for match in _WORD.finditer(text):
        start, end = match.span()
        if start < pos:
            continue
        name = match.group(2)
        if name is not None:  # a '#define': blanked, recorded (inline: most matches are these)
            piece = text[pos:start]
            out.append(piece)
            out.append(" " * (end - start))
            out_len += len(piece) + end - start
            current_line += text.count("\n", line_cursor, start)
            line_cursor = pos = end
            if match.group(3):
                params, _, body = match.group(4).rstrip().partition(")")
                function_macros.append((name, (params, body.strip()), current_file, current_line))
            else:
                macros.append((name, match.group(4).strip(), current_file, current_line))
            continue
        emit(text[pos:start])
        token = match.group(0)
        number = match.group(5)
        if number is not None:  # a line marker
            line, file = int(number), match.group(6)
            if " 3" in match.group(7):  # gcc's flag: a system header
                system_files.add(file)
            here = current_line + text.count("\n", line_cursor, start)
            before = text[text.rfind("\n", 0, max(start - 1, 0)) + 1:max(start - 1, 0)]
            split = file == current_file and line == here - 1 and bool(out) and \
                out[-1].endswith("\n") and text[end:end + 1] == "\n" and \
                before.strip() != "" and not before.lstrip().startswith("#")
            # (after a blank line, the same marker is gcc re-synchronising: no split)
            current_line, current_file, line_cursor = line, file, end + 1
            if split:
                # gcc split one source line around a macro from a system header
                # ('alignas' -> marker, '_Alignas', marker): join it back, so each
                # (file, line) is one line of text and positions stay exact.
                out[-1] = out[-1][:-1] + " "
                pos = end + 1
                continue
            emit(token)  # pycparser reads markers: coords stay the user's file and line
            pos = end
            continue
        if match.group(1) is None:  # another directive
            directive = token.strip()
            pack = _PRAGMA_PACK.match(directive) if "pragma" in directive else None
            define = _DEFINE.match(directive) if pack is None else None
            undef = _UNDEF.match(directive) if pack is None and define is None else None
            if pack:
                value = _pack_value(pack.group(1), pack_stack, packs[-1][1] if packs else None,
                                    default_pack)
                packs.append((out_len, value))
            elif define and not define.group(2):
                line_no, line_cursor = line_no_at(start)
                macros.append((define.group(1), define.group(3).strip(), current_file, line_no))
            elif define:
                params, _, body = define.group(3).partition(")")
                line_no, line_cursor = line_no_at(start)
                function_macros.append((define.group(1), (params, body.strip()), current_file,
                                        line_no))
            elif undef:
                line_no, line_cursor = line_no_at(start)
                macros.append((undef.group(1), None, current_file, line_no))
                function_macros.append((undef.group(1), None, current_file, line_no))
            emit(_blank(token))
            pos = end
            continue
        word = match.group(1)
        if word in _WITH_PARENS:
            close = _balanced_end(text, _after_asm_qualifiers(text, end)
                                  if word in _ASM else end)
            group = text[start:close]
            group_end = out_len + len(_SPLIT_MARKER.sub(" ", group))
            if group_end != out_len + len(group):  # split by markers: all one source line
                current_line, line_cursor = line_no_at(start)[0], close
            if word.startswith("__attribute") or word == "__declspec":
                for kind, expr in _layout_attributes(group, word == "__declspec"):
                    attributes.append(Attribute(out_len, group_end, kind,
                                                _int_or_none(expr), expr))
                if word.startswith("__attribute"):
                    calls.extend(_attributes.record(group, out_len))
            elif word in _ASM and group.rstrip().endswith(")"):  # a label: the symbol's name
                asm_labels.append((out_len, "".join(_STRING_BODY.findall(group))))
            elif word == "_Alignas":
                if "(" not in group:  # a bare _Alignas: no '(alignment)' follows
                    line_no = current_line + text.count("\n", line_cursor, start)
                    raise DeclarationError(
                        "'_Alignas' must be followed by '(alignment)' or '(type)'",
                        filename=current_file, line=line_no,
                        column=start - text.rfind("\n", 0, start),
                        source_line=text[text.rfind("\n", 0, start) + 1:].split("\n", 1)[0],
                        hint="write _Alignas(16) or _Alignas(double)")
                expr = group[group.index("(") + 1:-1].strip()
                attributes.append(Attribute(out_len, group_end, "aligned",
                                            _int_or_none(expr), expr))
            elif word == "_Atomic":  # '_Atomic(T)' is laid out as T (and '_Atomic T' is T)
                if "(" in group:
                    opening = group.index("(")
                    emit(_blank(group[:opening + 1]) + group[opening + 1:-1] + " ")
                    pos = close
                    continue
            emit(_blank(_SPLIT_MARKER.sub(" ", group)))
            pos = close
        else:
            key = _SPACES.sub(" ", word)
            replacement = _REPLACE[key]
            emit(replacement.ljust(len(word)) if len(replacement) <= len(word) else replacement)
            pos = end
    emit(text[pos:])
    result = "".join(out)
    return Preprocessed(result, macros, attributes, packs, _line_starts(result, filename), calls,
                        system_files, function_macros, asm_labels)


def _line_starts(text: str, filename: str) -> dict:
    """Map each (file, line) the parser will report to its offset in ``text``."""
    table = {}
    file, line, offset = filename, 1, 0
    for raw in text.split("\n"):
        if "#" in raw:  # (a marker's line has one: most lines have none)
            stripped = raw.lstrip()
            marker = _MARKER.match(stripped) if stripped.startswith("#") else None
            if marker:
                line, file = int(marker.group(1)), marker.group(2)
                offset += len(raw) + 1
                continue
        table[(file, line)] = offset
        line += 1
        offset += len(raw) + 1
    return table


def _int_or_none(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text.strip().rstrip("uUlL"), 0)
    except ValueError:
        return None


def _pack_value(args: str, stack: list, current, default):
    """The pack in force after ``#pragma pack(args)``, by gcc's rules: ``push``/``pop``
    (optionally with an identifier), and a value that is not 1, 2, 4, 8 or 16 is
    ignored (gcc warns and keeps the current packing)."""
    parts = [p.strip() for p in args.split(",") if p.strip()]
    if not parts:
        return default
    numbers = [_int_or_none(p) for p in parts if p[0].isdigit()]
    value = numbers[0] if numbers else None
    valid = value in (1, 2, 4, 8, 16)
    if parts[0] == "push":
        if numbers and not valid:  # gcc: "alignment must be a small power of two", no push
            return current
        label = next((p for p in parts[1:] if not p[0].isdigit()), None)
        stack.append((label, current))
        return value if valid else current
    if parts[0] == "pop":
        label = next((p for p in parts[1:] if not p[0].isdigit()), None)
        if label is not None and any(entry[0] == label for entry in stack):
            while stack and stack[-1][0] != label:
                stack.pop()
        restored = stack.pop()[1] if stack else default
        return value if valid else restored
    if parts[0] == "show":
        return current
    return value if valid else current


_COMMENT_OR_STRING = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|//[^\n\\]*(?:\\.[^\n\\]*)*'
    r'|/\*.*?\*/', re.S
)


def strip_comments(text: str) -> str:
    """Blank C comments (keeping newlines); string and char literals are left alone."""
    def repl(m: re.Match) -> str:
        s = m.group(0)
        return s if s[0] in "\"'" else _blank(s)

    return _COMMENT_OR_STRING.sub(repl, text)


def preprocess(text: str, *, filename: str = "<cdef>", include_dirs=(), defines=None,
               cpp=None, default_pack: int | None = None, force_cpp: bool = False,
               meanwhile: Callable[[], object] | None = None) -> Preprocessed:
    """Preprocess (when needed) and scrub ``text`` for the parser.

    ``meanwhile()`` is called while the preprocessor runs (when one runs)."""
    if force_cpp or defines or needs_cpp(text):
        text = run_cpp(text, filename, include_dirs, defines, cpp, meanwhile)
    else:
        text = strip_comments(text)
    return scrub(text, default_pack, filename)
