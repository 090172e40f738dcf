"""``ffikit bind``: a header's declarations written out as a plain Python module plus a stub.

Design: the generated module carries the declarations it needs as **C text** —
just the selected functions, the types they reach, the enums and the
constants, re-spelled from the parsed model in dependency order.  At import it
hands that text to :func:`ffikit.cdef`, which parses a few kilobytes of plain
C (no preprocessor, no system headers) in milliseconds, and loads the library.
The text is the readable record of what was bound, diffable in review, and
needs no pickled internals that could break between ffikit versions.

The ``.pyi`` stub maps C types to Python ones (integers -> ``int``, floating
types -> ``float``, ``const char *`` -> ``bytes | str | None`` in and
``bytes | None`` out, other pointers -> ``Any``) so a type checker sees every
function's arity and scalar types.
"""

from __future__ import annotations

import keyword
import pprint
import re
from collections.abc import Iterable

from ffikit.backends.compiled.cgen import shape_of
from ffikit.cdecl import model as m
from ffikit.cdecl.attributes import spell
from ffikit.cdecl.declarations import Declarations, _builtins
from ffikit.tools.bindmodel import _Writer, model_source

__all__ = ["c_text", "generate", "compiled_source"]


class _Emitter:
    """Spells model types back as C declarations, dependencies first."""

    def __init__(self, builtins: dict):
        self.builtins = builtins
        self.lines: list[str] = []
        self.done: set[object] = set()
        self.forward: set[str] = set()

    def need(self, t: m.CType, full: bool) -> None:
        """Make ``t`` usable: declared (``full=False``, pointer targets) or complete."""
        if isinstance(t, m.Typedef):
            target = t.type
            if t.name in self.builtins:
                return
            anonymous = isinstance(target, (m.StructOrUnion, m.Enum)) and target.name is None
            if ("typedef", t.name) in self.done:
                if full and not anonymous:  # declared earlier through a pointer: complete it now
                    self.need(target, full=True)
                return  # (an anonymous body was defined with its typedef)
            self.done.add(("typedef", t.name))
            if anonymous:
                text = f"typedef {self.body(target)} {t.name};"
                if isinstance(target, m.StructOrUnion):
                    text = self.define(target, text)
                self.lines.append(text)
                return
            if isinstance(target, m.StructOrUnion):  # typedef first: the body may use the name
                self.need(target, full=False)
                self.lines.append(f"typedef {target.c_name(t.name)};")
                if full:
                    self.need(target, full=True)
                return
            self.need(target, full=full)
            self.lines.append(f"typedef {target.c_name(t.name)};")
        elif isinstance(t, m.Pointer):
            self.need(t.target, full=False)
        elif isinstance(t, m.Array):
            self.need(t.item, full=True)
        elif isinstance(t, m.FunctionType):
            self.need(t.result, full=False)
            for p in t.params:
                self.need(p, full=False)
        elif isinstance(t, m.StructOrUnion):
            if t.name is None:
                if t.typedef_name:
                    self.need(m.Typedef(t.typedef_name, t), full)
                return
            if not full or not t.is_complete:
                if t.name not in self.forward:
                    self.forward.add(t.name)
                    self.lines.append(f"{t.kind} {t.name};")
                if not full:
                    return
            if id(t) in self.done:
                return
            self.done.add(id(t))
            self.lines.append(self.define(t, f"{self.body(t)};"))
        elif isinstance(t, m.Enum):
            if t.name is not None and id(t) not in self.done:
                self.done.add(id(t))
                self.lines.append(f"{self.body(t)};")

    def body(self, t: m.CType) -> str:
        """The definition text of a struct/union/enum (fields' types made ready first).

        Layout attributes are spelled back as GCC writes them: ``#pragma pack``
        around the definition, ``aligned``/``packed`` on the type and members.
        """
        if isinstance(t, m.Enum):
            members = ", ".join(f"{n} = {v}" for n, v in t.members or ())
            return f"enum {t.name or ''} {{ {members} }}".replace("enum  {", "enum {")
        assert isinstance(t, m.StructOrUnion)
        if t.fields is None:
            return f"{t.kind} {t.name}"
        parts = []
        for f in t.fields:
            ft = f.type
            inner = _anonymous_inside(ft)
            if inner is not None:  # 'union { ... } internal[6];', 'struct { ... } *p;'
                decl = ft.c_name(f.name or "").replace(f"{inner.kind} <anonymous>",
                                                       self.body(inner), 1)
            else:
                self.need(ft, full=True)
                decl = ft.c_name(f.name or "")
            if f.bitwidth is not None:
                decl += f" : {f.bitwidth}"
            if f.packed:
                decl += " __attribute__((packed))"
            if f.aligned:
                decl += f" __attribute__((aligned({f.aligned})))"
            parts.append(f"    {decl};")
        name = f" {t.name}" if t.name else ""
        attrs = f" __attribute__((aligned({t.aligned})))" if t.aligned else ""
        text = f"{t.kind}{attrs}{name} {{\n" + "\n".join(parts) + "\n}"
        return text

    def define(self, t: m.StructOrUnion, text: str) -> str:
        """``text`` (ending in ``;``) wrapped in the ``#pragma pack`` in force for ``t``."""
        if t.pack:
            return f"#pragma pack(push, {t.pack})\n{text}\n#pragma pack(pop)"
        return text


def _anonymous_inside(t: m.CType) -> m.StructOrUnion | None:
    """The anonymous, untypedef'd struct a member's type is built on, if any."""
    while isinstance(t, (m.Array, m.Pointer)):
        t = t.item if isinstance(t, m.Array) else t.target
    if isinstance(t, m.StructOrUnion) and t.name is None and not t.typedef_name:
        return t
    return None


def c_text(defs: Declarations, functions: Iterable[str], types: Iterable[str],
           extra: Iterable[m.CType] = ()) -> str:
    """C declarations for ``functions``, ``types`` (and ``extra`` model types) and
    everything they reach."""
    em = _Emitter(_builtins(defs.platform))
    for t in extra:
        em.need(t, full=False)
    for name in types:
        t = defs.types[name]
        em.need(m.Typedef(name, t) if " " not in name and not isinstance(t, m.Typedef) else t,
                full=True)
    for name in functions:
        em.need(defs.functions[name].type, full=False)
    for name in functions:
        em.lines.append(_function_text(name, defs.functions[name].type))
    return "\n".join(em.lines) + "\n"


class _Bounded(m.CType):
    """A pointer parameter spelled back as the array declarator it was (``T p[n]``)."""

    def __init__(self, pointer: m.Pointer, dim: str):
        self.pointer, self.dim = pointer, dim

    def c_name(self, inner: str = "") -> str:
        quals = "const " if self.pointer.const else ""
        return quals + self.pointer.target.c_name(f"{inner}[{self.dim}]")


def _function_text(name: str, ft: m.FunctionType) -> str:
    """The prototype with its facts: array bounds as declarators, the rest as attributes."""
    params = list(ft.params)
    for fact in ft.facts.access:
        p = params[fact.param]
        if fact.mode != "bound" or not isinstance(p, m.Pointer) or \
                (p.const and isinstance(m.resolve(p.target), m.Pointer)):
            continue
        if fact.size_param is not None and ft.param_names[fact.size_param]:
            params[fact.param] = _Bounded(p, ft.param_names[fact.size_param])  # type: ignore[arg-type]
        elif fact.count is not None:
            params[fact.param] = _Bounded(p, str(fact.count))
    spelled = m.FunctionType(ft.result, params, ft.variadic, ft.param_names)  # type: ignore[arg-type]
    return spelled.c_name(name) + spell(ft.facts) + ";"


# ---------------------------------------------------------------------------------
# Python types for the stub

_CHAR_NAMES = {"char", "signed char", "unsigned char"}


def _py_type(t: m.CType, *, result: bool) -> str:
    r = m.resolve(t)
    if isinstance(r, m.Void):
        return "None"
    if isinstance(r, m.Enum):
        return "int"
    if isinstance(r, m.Primitive):
        if r.is_float:
            return "float"
        if r.name == "_Bool":
            return "bool"
        return "int"
    if isinstance(r, m.Pointer):
        target = m.resolve(r.target)
        if isinstance(target, m.Primitive) and target.name == "char" and r.const:
            return "bytes | None" if result else "bytes | str | None"
        return "Any"
    return "Any"


def _ident(name: str | None, index: int) -> str:
    if not name or keyword.iskeyword(name) or not name.isidentifier():
        return f"arg{index}"
    return name


def _stub_function(name: str, ft: m.FunctionType) -> str:
    params, seen = [], set()
    for i, (pt, pn) in enumerate(zip(ft.params, ft.param_names)):
        ident = _ident(pn, i)
        if ident in seen:
            ident = f"arg{i}"
        seen.add(ident)
        params.append(f"{ident}: {_py_type(pt, result=False)}")
    if params:
        params.append("/")
    if ft.variadic:
        params.append("*args: Any")
    return f"def {name}({', '.join(params)}) -> {_py_type(ft.result, result=True)}: ..."


def _literal_constants(defs: Declarations, keep) -> dict:
    out = {}
    for name, value in defs.constants.items():
        if (keep(name) and isinstance(value, (int, float, str, bytes)) and name.isidentifier()
                and not name.startswith("_")):  # compiler/libc predefined macros
            out[name] = value
    return out


def _cast_expr(v: m.CastConstant) -> str:
    """The typed value of a cast constant, built from the model where that is self-contained."""
    writer = _Writer()
    expr = writer.expr(v.type)
    if writer.structs or writer.enums:  # its type names a struct: look it up by name
        return f"defs.cast_constant({v.type.c_name()!r}, {v.value!r})"
    return f"defs.constant_value(_m.CastConstant({expr}, {v.value!r}))"


def _selected_functions(defs: Declarations, prefix: str, exclude: str | None) -> list[str]:
    """The function names a binding keeps (the same rule :func:`generate` applies)."""
    pattern = re.compile(exclude) if exclude else None
    return sorted(n for n in defs.functions
                  if n.lower().startswith(prefix.lower()) and not (pattern and pattern.search(n)))


def _function_aliases(defs: Declarations, keep) -> dict[str, str]:
    """Kept macro names that stand for declared functions (where the declarations know them)."""
    known = getattr(defs, "aliases", None)  # Declarations.aliases(): macros naming functions
    table = known() if callable(known) else {}
    return {alias: target for alias, target in sorted(table.items())
            if keep(alias) and alias.isidentifier() and not keyword.iskeyword(alias)
            and target in defs.functions and alias not in defs.functions}


def compiled_source(defs: Declarations, *, prefix: str = "", exclude: str | None = None,
                    encoding: str = "utf-8") -> tuple[str, str]:
    """``(module name, C source)`` of the compiled backend's extension for a binding.

    It is the module ``ffikit.load`` builds for the generated module's
    functions (the same shapes, in the same order); ``ffikit bind --compiled``
    writes it beside the Python module and builds it there, so importing the
    binding compiles nothing.
    """
    from ffikit.backends.compiled.cgen import generate as generate_c

    shapes: dict = {}
    for name in _selected_functions(defs, prefix, exclude):
        shape = shape_of(name, defs.functions[name].type)
        if not isinstance(shape, str):
            shapes.setdefault(shape, len(shapes))
    name, source, _wrappers = generate_c(list(shapes))
    return name, source




def generate(defs: Declarations, header: str, library: str, *, prefix: str = "",
             exclude: str | None = None, compiled: bool = False) -> tuple[str, str]:
    """The module text and the stub text binding ``defs`` to ``library``.

    Parameters
    ----------
    defs
        Declarations parsed from ``header``.
    library
        What the generated module passes to :func:`ffikit.load` (name or path).
    prefix
        Keep only functions, types and constants whose names start with it,
        ignoring case (``sqlite3`` keeps ``SQLITE_OK`` too).
    exclude
        A regular expression; names it matches (``re.search``) are left out.
    compiled
        The module first looks beside itself for the compiled backend's
        extension (``ffikit bind --compiled`` builds it there).
    """
    pattern = re.compile(exclude) if exclude else None

    def keep(name: str) -> bool:
        base = name.split(" ", 1)[-1]
        return base.lower().startswith(prefix.lower()) and not (pattern and pattern.search(base))

    builtins = _builtins(defs.platform)
    aliases = _function_aliases(defs, keep)  # mpz_init -> __gmpz_init
    functions = sorted({n for n in defs.functions if keep(n)} | set(aliases.values()))
    type_names = [n for n in defs.types if " " not in n and keep(n) and n not in builtins
                  and defs.declares(n)
                  and not isinstance(m.resolve(defs.types[n]), (m.Void, m.FunctionType))]
    enums = {n: cls for n, cls in defs.enums.items() if keep(n) and n.isidentifier()}
    constants = _literal_constants(defs, keep)
    casts = {n: v for n, v in defs.constants.items()
             if isinstance(v, m.CastConstant) and keep(n) and n.isidentifier()}
    text = c_text(defs, functions, type_names, [v.type for v in casts.values()])

    model = model_source({n: defs.types[n] for n in type_names},
                         {n: defs.functions[n].type for n in functions})
    module = [
        f'"""ffikit bindings for {header} in {library!r}, generated by `ffikit bind`.',
        "",
        "Regenerate instead of editing.  DECLARATIONS is the C this module binds (the",
        "selected functions and every type they use, re-spelled from the header); the",
        "same declarations follow as model objects, so importing parses no C.  Functions",
        "and ctypes types are made on first use (module __getattr__).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
        "",
        "import ffikit",
        "from ffikit.cdecl import model as _m",
        "from ffikit.tools.bindmodel import declarations as _declarations",
        "",
        f"LIBRARY = {library!r}",
        f"DECLARATIONS = r'''\n{text}'''",
        "",
        model,
        f"defs = _declarations(_TYPES, _FUNCTIONS, platform={defs.platform.name!r}, enums=_E)",
        *([
            "# The compiled backend's extension for these declarations, built beside this file",
            "# by `ffikit bind --compiled` (used when it matches this Python; else built or ctypes).",
            "from ffikit.backends.compiled import search_prebuilt  # noqa: E402",
            "search_prebuilt(__import__('os').path.dirname(__file__))",
        ] if compiled else []),
        "lib = ffikit.load(LIBRARY, defs)",
        "",
        "# Constants (#define and enum members)",
    ]
    module += [f"{name} = {value!r}" for name, value in constants.items()]
    module += [f"{name} = {_cast_expr(v)}" for name, v in casts.items()]
    module += ["", "# Enums"]
    for name, cls in enums.items():
        members = {member.name: int(member) for member in cls}
        module.append(f"{name} = enum.IntEnum({name!r}, {pprint.pformat(members, width=90)})")
    types_left = tuple(name for name in type_names if name not in enums)
    module += ["", "# Types (ctypes classes) and functions: made on first use",
               f"TYPES = {pprint.pformat(types_left, width=90)}",
               f"FUNCTIONS = {pprint.pformat(tuple(functions), width=90)}",
               "# Macros standing for functions (#define mpz_init __gmpz_init)",
               f"ALIASES = {pprint.pformat(aliases, width=90)}",
               "",
               "",
               "def __getattr__(name: str):",
               "    if name in ALIASES:",
               "        value = __getattr__(ALIASES[name])",
               "    elif name in FUNCTIONS:",
               "        try:",
               "            value = getattr(lib, name)",
               "        except ffikit.SymbolNotFound as exc:  # declared, but not exported",
               "            raise AttributeError(str(exc)) from None",
               "    elif name in TYPES:",
               "        value = defs.ctype(name)",
               "    else:",
               "        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')",
               "    globals()[name] = value",
               "    return value",
               "",
               "",
               "def __dir__() -> list[str]:",
               "    return sorted({*globals(), *TYPES, *FUNCTIONS, *ALIASES})",
               ""]

    stub = [f'"""Type stub for the ffikit bindings of {header} (generated)."""', "",
            "import ctypes", "import enum", "from typing import Any", "",
            "import ffikit", "",
            "LIBRARY: str", "DECLARATIONS: str", "defs: ffikit.Declarations", "lib: ffikit.Library",
            "FUNCTIONS: tuple[str, ...]", ""]
    stub += [f"{name}: {type(value).__name__}" for name, value in constants.items()]
    stub += [f"{name}: Any  # (({v.type.c_name()}){v.value})" for name, v in casts.items()]
    stub.append("")
    for name, cls in enums.items():
        stub.append(f"class {name}(enum.IntEnum):")
        stub += [f"    {member.name} = {int(member)}" for member in cls] or ["    pass"]
    stub.append("")
    stub += [f"{name}: type[Any]" for name in type_names if name not in enums]
    stub.append("")
    stub += [_stub_function(name, defs.functions[name].type) for name in functions]
    stub += [_stub_function(alias, defs.functions[target].type)
             for alias, target in aliases.items()]
    return "\n".join(module), "\n".join(stub) + "\n"
