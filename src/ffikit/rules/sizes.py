"""Size relations: how large each buffer argument must be, as data, and the check.

One engine for every source of size information: array parameters with a
bound (``T p[16]``, ``T p[static n]``), GCC ``access`` attributes (from a
real header or ``cdef`` text), and relations a user adds without editing a
header (``ffikit.load(..., sizes={"scale": {"a": "n"}})``).  Each becomes a
:class:`SizeRelation` -- buffer parameter, size parameter or constant count,
bytes per element, access mode, where it came from -- and :func:`check` (a
plain function over relations, arguments and buffer extents) refuses a call
whose buffer is smaller than the count beside it, before C runs.  Backends
may inline the comparison and call :func:`refusal` only to word the error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ffikit.cdecl import model as m
from ffikit.cdecl.attributes import Access
from ffikit.cdecl.layout import sizeof
from ffikit.errors import ArgumentError, BufferTooSmall
from ffikit.records import data_record

__all__ = ["SizeRelation", "relations", "user_access", "check", "refusal", "param_modes",
           "cstring_params", "USER_SOURCE"]

USER_SOURCE = "sizes= given to load"
_VERBS = {"read_only": "reads", "write_only": "writes", "read_write": "reads and writes"}


@data_record(frozen=True)
class SizeRelation:
    """``buffer`` (a parameter index) must hold at least ``size``'s value (a parameter
    index) -- or ``count`` -- elements of ``unit`` bytes (``unit_name``), times
    ``factor``'s value when that is set (``fread``'s ``size * n``)."""

    function: str
    buffer: int
    buffer_name: str | None
    size: int | None
    size_name: str | None
    count: int | None
    unit: int
    unit_name: str
    mode: str
    source: str
    factor: int | None = None
    factor_name: str | None = None

    def needed(self, size_value: int | None, factor_value: int | None = None) -> int:
        """Bytes the buffer must hold for these size arguments."""
        count = self.count if self.size is None else size_value
        if self.factor is not None:
            count = max(int(count or 0), 0) * max(int(factor_value or 0), 0)
        return max(int(count or 0), 0) * self.unit


def _unit(ptype: m.CType) -> tuple[int, str] | None:
    r = m.resolve(ptype)
    if not isinstance(r, m.Pointer):
        return None
    target = m.resolve(r.target)
    if isinstance(target, (m.Void, m.FunctionType)):
        return (1, "byte") if isinstance(target, m.Void) else None
    try:
        size = sizeof(target)
    except Exception:  # an opaque struct: no element size, nothing to check
        return None
    if size <= 0:
        return None
    if isinstance(target, m.Primitive) and target.name in ("char", "signed char", "unsigned char"):
        return 1, "byte"
    return size, r.target.c_name()


def _is_integer(ptype: m.CType) -> bool:
    r = m.resolve(ptype)
    return isinstance(r, m.Enum) or (isinstance(r, m.Primitive) and r.is_integer)


def user_access(function: str, ftype: m.FunctionType, spec: Mapping) -> tuple[Access, ...]:
    """``{"a": "n", "buf": 16, "ptr": "size * n"}`` (buffer parameter -> size
    parameter, element count, or the product of two size parameters) as facts,
    checked against the declaration's parameter names."""
    # unnamed parameters are 'arg1', 'arg2', ... as in the bound function's signature
    names = [n or f"arg{i + 1}" for i, n in enumerate(ftype.param_names)]
    known = ", ".join(repr(n) for n in names) or "none"
    found = []
    for buffer, size in spec.items():
        if buffer not in names:
            raise ArgumentError(f"sizes= for '{function}' names parameter {buffer!r}, which it "
                                f"does not have (its parameters: {known})")
        index = names.index(buffer)
        if _unit(ftype.params[index]) is None:
            raise ArgumentError(f"sizes= for '{function}': parameter {buffer!r} is "
                                f"{ftype.params[index].c_name()}, not a pointer to sized items")
        factors = [f.strip() for f in size.split("*")] if isinstance(size, str) else \
            list(size) if isinstance(size, (tuple, list)) else None
        if isinstance(size, int) and not isinstance(size, bool):
            found.append(Access(index, "bound", None, size, USER_SOURCE))
        elif factors and len(factors) <= 2 and all(
                f in names and _is_integer(ftype.params[names.index(f)]) for f in factors):
            found.append(Access(index, "bound", names.index(factors[0]), None, USER_SOURCE,
                                names.index(factors[1]) if len(factors) == 2 else None))
        else:
            raise ArgumentError(f"sizes= for '{function}': {buffer!r} must map to the name of an "
                                f"integer parameter, an element count or a product such as "
                                f"'size * n' (got {size!r}; its parameters: {known})")
    return tuple(found)


def relations(function: str, ftype: m.FunctionType,
              extra: Sequence[Access] = ()) -> tuple[SizeRelation, ...]:
    """Every checkable size relation of a declared function (plus ``extra`` facts)."""
    out = []
    names = ftype.param_names
    for fact in (*extra, *ftype.facts.access):  # the user's relations first: they name the rule
        if not 0 <= fact.param < len(ftype.params):
            continue
        unit = _unit(ftype.params[fact.param])
        if unit is None:
            continue
        if fact.size_param is not None and not _is_integer(ftype.params[fact.size_param]):
            continue
        source = fact.source if fact.source == USER_SOURCE or fact.mode == "bound" \
            else fact.source.replace("the access", "the header's access")
        factor = fact.factor_param
        out.append(SizeRelation(function, fact.param, names[fact.param], fact.size_param,
                                None if fact.size_param is None else names[fact.size_param],
                                fact.count, unit[0], unit[1], fact.mode, source, factor,
                                None if factor is None else names[factor]))
    return tuple(dict.fromkeys(out))


def param_modes(ftype: m.FunctionType, extra: Sequence[Access] = ()) -> dict[int, bool]:
    """Parameter index -> whether C may write through it, where an access mode says so
    (``write_only``/``read_write``: True; ``read_only``: False)."""
    modes: dict[int, bool] = {}
    for fact in (*ftype.facts.access, *extra):
        if fact.mode in ("write_only", "read_write"):
            modes[fact.param] = True
        elif fact.mode == "read_only":
            modes.setdefault(fact.param, False)
    return modes


def cstring_params(ftype: m.FunctionType, extra: Sequence[Access] = ()) -> frozenset[int]:
    """Indices of ``const char *`` (and ``const wchar_t *``) parameters with no size
    relation: input C strings, which must be NUL-terminated within their buffer and
    contain no other NUL."""
    sized = {f.param for f in (*ftype.facts.access, *extra) if f.sized}
    out = set()
    for i, ptype in enumerate(ftype.params):
        r = m.resolve(ptype)
        if isinstance(r, m.Pointer) and r.const and i not in sized:
            target = m.resolve(r.target)
            if isinstance(target, m.Primitive) and target.name in ("char", "wchar_t"):
                out.add(i)
    return frozenset(out)


def _count(n: int, rel: SizeRelation) -> str:
    if rel.unit_name == "byte":
        return f"{n} byte{'s' if n != 1 else ''}"
    plural = "s" if n != 1 and rel.unit_name.replace(" ", "_").isidentifier() else ""
    return f"{n} {rel.unit_name}{plural} ({n * rel.unit} bytes)"


def refusal(rel: SizeRelation, size_value: int | None, extent: int,
            factor_value: int | None = None) -> BufferTooSmall:
    """The error for a buffer of ``extent`` bytes against this relation."""
    need = rel.needed(size_value, factor_value) // rel.unit
    holds = extent // rel.unit
    buffer = f"argument {rel.buffer + 1}" + (f" '{rel.buffer_name}'" if rel.buffer_name else "")
    verb = _VERBS.get(rel.mode, "accesses")
    if rel.size is None:
        says = f"C {verb} {_count(need, rel)} through it"
        fix = f"pass a buffer of at least {_count(need, rel)}"
    else:
        size = f"argument {rel.size + 1}" + (f" '{rel.size_name}'" if rel.size_name else "")
        says = f"{size} is {size_value}"
        if rel.factor is not None:
            factor = f"argument {rel.factor + 1}" + (f" '{rel.factor_name}'" if rel.factor_name else "")
            says = f"{size} * {factor} is {size_value} * {factor_value}"
            size = f"{size} or {factor}"
        says += f", so C {verb} {_count(need, rel)} through it"
        fix = f"pass a buffer of at least {_count(need, rel)}, or lower {size}"
    return BufferTooSmall(
        f"{buffer} of '{rel.function}' holds {_count(holds, rel)}, but {says} "
        f"(from {rel.source}); {fix}")


def check(rels: Sequence[SizeRelation], args: Sequence[object],
          extents: Sequence[int | None]) -> None:
    """Refuse the call if a buffer is smaller than a relation needs.

    Parameters
    ----------
    rels
        The function's relations (:func:`relations`).
    args
        The Python arguments as passed (size parameters are ints).
    extents
        Bytes each argument's buffer holds, by parameter index; None (or a
        negative number) where unknown (NULL, a raw pointer): such
        arguments are not checked.

    Raises
    ------
    BufferTooSmall
        Naming the function, both parameters, both sizes and the rule's source.
    """
    for rel in rels:
        extent = extents[rel.buffer]
        if extent is None or extent < 0:
            continue
        value = None if rel.size is None else args[rel.size]
        factor = None if rel.factor is None else args[rel.factor]
        if rel.needed(value, factor) > extent:  # type: ignore[arg-type]
            raise refusal(rel, value, extent, factor)  # type: ignore[arg-type]
