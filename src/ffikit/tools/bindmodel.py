"""The type model as Python source, so a generated binding imports without parsing C.

:func:`model_source` writes the model objects a binding needs (structs,
unions, enums, typedefs, function types) as constructor calls of
:mod:`ffikit.cdecl.model`; :func:`declarations` turns them back into the
:class:`ffikit.Declarations` that ``ffikit.load`` takes.  Structs are created
first and completed after, so types that refer to themselves (through
pointers) need no forward declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ffikit.cdecl import model as m

__all__ = ["model_source", "declarations"]

BIND_FILE = "<ffikit bind>"


class _Writer:
    def __init__(self) -> None:
        self.structs: list[m.StructOrUnion] = []
        self.enums: list[m.Enum] = []
        self.index: dict[int, str] = {}

    def expr(self, t: m.CType) -> str:
        """A Python expression that builds ``t``."""
        if isinstance(t, m.Void):
            return "_m.VOID"
        if isinstance(t, m.Primitive):
            return f"_m.Primitive({t.name!r})"
        if isinstance(t, m.Pointer):
            return f"_m.Pointer({self.expr(t.target)}, {t.const}, {t.volatile})"
        if isinstance(t, m.Array):
            cls = "Vector" if isinstance(t, m.Vector) else "Array"
            return f"_m.{cls}({self.expr(t.item)}, {t.length!r})"
        if isinstance(t, m.Complex):
            return f"_m.Complex({self.expr(t.base)})"
        if isinstance(t, m.Typedef):
            return f"_m.Typedef({t.name!r}, {self.expr(t.type)}, {t.aligned!r})"
        if isinstance(t, m.FunctionType):
            params = "".join(f"{self.expr(p)}, " for p in t.params)
            return (f"_m.FunctionType({self.expr(t.result)}, ({params}), {t.variadic}, "
                    f"{tuple(t.param_names)!r})")
        if isinstance(t, (m.StructOrUnion, m.Enum)):
            return self.nominal(t)
        raise TypeError(f"cannot write {t!r}")

    def nominal(self, t) -> str:
        found = self.index.get(id(t))
        if found is None:
            if isinstance(t, m.StructOrUnion):
                found = self.index[id(t)] = f"_S[{len(self.structs)}]"
                self.structs.append(t)
                for f in t.fields or ():
                    self.expr(f.type)  # number the structs it holds first
            else:
                found = self.index[id(t)] = f"_E[{len(self.enums)}]"
                self.enums.append(t)
        return found

    def field(self, f: m.Field) -> str:
        return (f"_m.Field({f.name!r}, {self.expr(f.type)}, {f.bitwidth!r}, {f.aligned!r}, "
                f"{f.packed})")


def model_source(types: Mapping[str, m.CType], functions: Mapping[str, m.FunctionType]) -> str:
    """Python source defining ``_TYPES`` and ``_FUNCTIONS`` (needs ``_m`` = the model module)."""
    w = _Writer()
    type_lines = [f"    {name!r}: {w.expr(t)}," for name, t in types.items()]
    fn_lines = [f"    {name!r}: {w.expr(ft)}," for name, ft in functions.items()]
    lines = ["_S = ["]
    lines += [f"    _m.StructOrUnion({s.kind!r}, {s.name!r})," for s in w.structs]
    lines += ["]", "_E = ["]
    lines += [f"    _m.Enum({e.name!r}, {e.members!r})," for e in w.enums]
    lines += ["]"]
    for i, s in enumerate(w.structs):
        if s.typedef_name:
            lines.append(f"_S[{i}].typedef_name = {s.typedef_name!r}")
        if s.fields is not None:
            fields = "".join(f"\n    {w.field(f)}," for f in s.fields)
            lines.append(f"_S[{i}].complete([{fields}\n], pack={s.pack!r}, aligned={s.aligned!r}, "
                         f"rules={s.rules!r})")
    for i, e in enumerate(w.enums):
        if e.typedef_name:
            lines.append(f"_E[{i}].typedef_name = {e.typedef_name!r}")
    tags = [f"    {f'{s.kind} {s.name}'!r}: _S[{i}]," for i, s in enumerate(w.structs) if s.name]
    tags += [f"    {f'enum {e.name}'!r}: _E[{i}]," for i, e in enumerate(w.enums) if e.name]
    lines += ["_TYPES = {", *tags, *type_lines, "}", "_FUNCTIONS = {", *fn_lines, "}"]
    return "\n".join(lines) + "\n"


def declarations(types: Mapping[str, m.CType], functions: Mapping[str, m.FunctionType],
                 constants: Mapping[str, object] | None = None, platform: str | None = None,
                 enums: Iterable[m.Enum] = ()):
    """:class:`ffikit.Declarations` made from model objects, with no C parsing."""
    from ffikit.backends.ctypes.declarations import Declarations
    from ffikit.cdecl.layout import get_platform
    from ffikit.cdecl.parse_result import ParseResult

    result = ParseResult(types=dict(types),
                         functions={n: m.FunctionDecl(n, ft) for n, ft in functions.items()})
    result.decl_files = dict.fromkeys([*types, *functions], BIND_FILE)
    result.enum_types = [(e, BIND_FILE) for e in enums]
    for e in enums:
        for name, value in e.members or ():
            result.enum_values[name] = (value, BIND_FILE)
    return Declarations(result, dict(constants or {}), get_platform(platform), "",
                        frozenset({BIND_FILE}))
