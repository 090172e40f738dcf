"""What a function declaration promises about its parameters, as backend-free data.

GCC attributes on a prototype (``access``, ``nonnull``, ``format``,
``malloc (dealloc, i)``) and array declarators on parameters (``T p[16]``,
``T p[static 16]``, ``T p[n]``) say how large a buffer must be, which
pointers may not be NULL, how variadic arguments are typed and who frees a
result.  The preprocessor records each ``__attribute__ ((...))`` group by
text offset (:func:`record`); the parser collects the groups around a
function declaration and the array bounds of its parameters into one
:class:`FunctionFacts` (:func:`function_facts`), stored on the
:class:`~ffikit.cdecl.model.FunctionType`.  Every index here is 0-based.
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from ffikit.lazyre import LazyPattern
from ffikit.records import data_record

__all__ = ["Access", "FunctionFacts", "NO_FACTS", "CallAttribute", "record", "function_facts",
           "parse_items", "bound_facts", "declaration_attributes", "spell", "split_top"]

ACCESS_MODES = ("read_only", "write_only", "read_write", "none")


@data_record(frozen=True)
class Access:
    """One size fact: parameter ``param`` points at ``size_param``'s value (or ``count``)
    elements -- times ``factor_param``'s value when set (``fread``'s size * n);
    ``mode`` is an access mode or ``"bound"`` (an array declarator or a user's
    relation); ``source`` says where the fact came from, for messages."""

    param: int
    mode: str
    size_param: int | None = None
    count: int | None = None
    source: str = ""
    factor_param: int | None = None

    @property
    def sized(self) -> bool:
        """True when the fact gives a size (``access(read_only, 1)`` alone does not)."""
        return self.size_param is not None or self.mode == "bound"


@data_record(frozen=True)
class FunctionFacts:
    """Everything a declaration promises beyond its types (all tuples: hashable)."""

    access: tuple[Access, ...] = ()
    nonnull: tuple[int, ...] = ()            # parameters that must not be NULL
    # (archetype, format param, first variadic[, where the fact came from, for messages])
    format: tuple[str, int, int] | tuple[str, int, int, str] | None = None
    deallocators: tuple[tuple[str, int], ...] = ()  # malloc(dealloc, i): (name, param of dealloc)
    refused: str | None = None  # why no call from Python can be safe (a va_list parameter)

    def __bool__(self) -> bool:
        return bool(self.access or self.nonnull or self.format or self.deallocators
                    or self.refused)

    def merged(self, other: FunctionFacts) -> FunctionFacts:
        """The facts of two declarations of one function (GCC merges attributes)."""
        if not other:
            return self
        if not self:
            return other
        return FunctionFacts(
            tuple(dict.fromkeys(self.access + other.access)),
            tuple(sorted(set(self.nonnull) | set(other.nonnull))),
            self.format or other.format,
            tuple(dict.fromkeys(self.deallocators + other.deallocators)),
            self.refused or other.refused,
        )


NO_FACTS = FunctionFacts()


@data_record(frozen=True)
class CallAttribute:
    """One ``name(args)`` item of an ``__attribute__`` group, at a text offset."""

    offset: int
    name: str
    args: tuple[str, ...]


_NAMES = {"access", "nonnull", "format", "malloc"}
_ITEM = LazyPattern(r"([A-Za-z_]\w*)\s*(\()?")


def _bare(word: str) -> str:
    return word[2:-2] if word.startswith("__") and word.endswith("__") and len(word) > 4 else word


def parse_items(group: str) -> list[tuple[str, tuple[str, ...]]]:
    """``__attribute__ ((a, b (1, 2)))`` -> ``[("a", ()), ("b", ("1", "2"))]`` (names bare)."""
    start = group.find("((")
    if start < 0:
        return []
    body = group[start + 2:group.rfind("))")]
    items, i, n = [], 0, len(body)
    while i < n:
        match = _ITEM.search(body, i)
        if match is None:
            break
        name = _bare(match.group(1))
        i = match.end()
        args: tuple[str, ...] = ()
        if match.group(2):
            depth, j = 1, i
            while j < n and depth:
                depth += {"(": 1, ")": -1}.get(body[j], 0)
                j += 1
            args = tuple(split_top(body[i:j - 1]))
            i = j
        items.append((name, args))
        comma = body.find(",", i)
        i = n if comma < 0 else comma + 1
    return items


def split_top(text: str) -> list[str]:
    """``text`` split at commas outside parentheses, each part stripped, empty ones dropped."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def record(group: str, offset: int) -> list[CallAttribute]:
    """The function attributes in one scrubbed ``__attribute__`` group."""
    return [CallAttribute(offset, name, args) for name, args in _call_items(group)]


@lru_cache(maxsize=256)
def _call_items(group: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The items of ``group`` that :func:`record` keeps (a header repeats a few groups,
    ``__attribute__ ((__nothrow__ , __leaf__))``, hundreds of times: each is parsed once)."""
    return tuple(item for item in parse_items(group) if item[0] in _NAMES)


def _index(text: str) -> int | None:
    try:
        return int(text.rstrip("uUlL"), 0) - 1
    except ValueError:
        return None


def function_facts(attributes, bounds: tuple[Access, ...], pointer_params: tuple[int, ...],
                   nparams: int) -> FunctionFacts:
    """Facts from the attribute items around a declaration plus its array bounds.

    ``pointer_params`` are the indices of pointer parameters (``nonnull``
    without arguments means all of them); indices outside ``nparams`` are
    ignored rather than trusted.
    """
    access = list(bounds)
    nonnull: set[int] = set()
    fmt = None
    deallocators = []
    for attr in attributes:
        args = attr.args
        if attr.name == "access" and len(args) >= 2:
            mode = _bare(args[0])
            ref = _index(args[1])
            size = _index(args[2]) if len(args) > 2 else None
            if mode in ACCESS_MODES and ref is not None and 0 <= ref < nparams and \
                    (size is None or 0 <= size < nparams):
                spelled = f"{mode}, {ref + 1}" + (f", {size + 1}" if size is not None else "")
                access.append(Access(ref, mode, size, None if size is not None else 1,
                                     f"the access attribute ({spelled})"))
        elif attr.name == "nonnull":
            if not args:
                nonnull.update(pointer_params)
            for a in args:
                k = _index(a)
                if k is not None and 0 <= k < nparams:
                    nonnull.add(k)
        elif attr.name == "format" and len(args) == 3:
            kind = _bare(args[0])
            index, first = _index(args[1]), _index(args[2])
            if index is not None and first is not None and 0 <= index < nparams:
                fmt = (kind, index, first)
        elif attr.name == "malloc" and args:
            k = _index(args[1]) if len(args) > 1 else 0
            if k is not None:
                deallocators.append((args[0], k))
    return FunctionFacts(tuple(access), tuple(sorted(nonnull)), fmt, tuple(deallocators))


def bound_facts(bounds, names) -> tuple[Access, ...]:
    """Array-declarator bounds ``(param, count or parameter name, spelling)`` as facts;
    ``T p[n]`` where ``n`` names no parameter gives none."""
    access = []
    for index, dim, spelled in bounds:
        source = f"the array bound [{spelled}]"
        if isinstance(dim, int):
            access.append(Access(index, "bound", None, dim, source))
        elif dim in names:
            access.append(Access(index, "bound", list(names).index(dim), None, source))
    return tuple(access)


def _offset(call: CallAttribute) -> int:
    return call.offset


def declaration_attributes(pre, at: int | None) -> list[CallAttribute]:
    """The function attributes written in the declaration around text offset ``at`` of
    a preprocessed text ``pre`` (from the previous ``;``/``}`` to the next ``;``)."""
    calls = pre.calls
    if at is None or not calls:
        return []
    text = pre.text
    start = max(text.rfind(";", 0, at), text.rfind("}", 0, at)) + 1
    end = text.find(";", at)
    if end < 0:
        end = len(text)
    lo = bisect.bisect_left(calls, start, key=_offset)
    found = []
    for call in calls[lo:]:
        if call.offset >= end:
            break
        found.append(call)
    return found


def spell(facts: FunctionFacts) -> str:
    """The facts other than array bounds as GCC attribute text (for generated C)."""
    items = []
    for a in facts.access:
        if a.mode != "bound" and a.mode in ACCESS_MODES:
            size = f", {a.size_param + 1}" if a.size_param is not None else ""
            items.append(f"__access__(__{a.mode}__, {a.param + 1}{size})")
    if facts.nonnull:
        items.append(f"__nonnull__({', '.join(str(i + 1) for i in facts.nonnull)})")
    if facts.format:
        kind, index, first = facts.format[:3]
        items.append(f"__format__(__{kind}__, {index + 1}, {first + 1})")
    items += [f"__malloc__({name}, {index + 1})" for name, index in facts.deallocators]
    return "".join(f" __attribute__(({item}))" for item in items)
