"""The ``Declarations`` object and the ``cdef``/``include`` entry points."""

from __future__ import annotations

import difflib
import enum
import os
import re
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ffikit.cdecl import layout as _layout
from ffikit.cdecl.constexpr import NotConstant, eval_macro
from ffikit.cdecl.header_scope import directly_included, header_constants, with_quote_includes
from ffikit.cdecl.model import (
    Array,
    CastConstant,
    CType,
    FunctionDecl,
    GlobalVar,
    resolve,
)
from ffikit.cdecl.parse import _KEYWORDS, TYPEOF_PROBE, ParseResult, parse, understood
from ffikit.cdecl.prelude import STANDARD_TYPES, WINDOWS_DECLARATIONS, platform_types
from ffikit.cdecl.preprocess import preprocess
from ffikit.errors import DeclarationError, NotPicklable

__all__ = ["Declarations", "cdef", "include", "typeof"]

_WINDOWS_FILE = "<ffikit-windows>"


class Declarations:
    """What a piece of C declares: types, functions, variables, constants, enums.

    Attribute access gives what a Python user wants: ``defs.Student`` is the
    backend (ctypes) type, ``defs.MAX_STUDENTS`` the constant, ``defs.GREEN`` the enum
    member.  The raw model is in ``types``/``functions``/``variables``.

    Attributes
    ----------
    types : dict
        Typedef names and ``"struct X"``/``"union X"``/``"enum X"`` tags ->
        model types (every type seen, including those of included headers).
    functions : dict
        Name -> :class:`~ffikit.cdecl.model.FunctionDecl`, for the functions
        the text (or the named header) declares itself.
    variables : dict
        Name -> :class:`~ffikit.cdecl.model.GlobalVar` (``extern`` globals).
    constants : dict
        ``#define`` and ``static const`` constants and enum members, with the values C
        gives them on ``platform`` (int, float, str; ``NULL`` is None; a pointer cast
        such as ``((void *)-1)`` is a typed constant).
    skipped_macros : Mapping
        Name -> why a ``#define`` (or ``static const``) of these files is not a
        constant (``"call to 'f' is not a constant"``, ``"function-like macro"``).
    type_macros : Mapping
        Name -> the model type a ``#define`` stands for (``#define PCRE2_SIZE
        size_t``); such names work as type names (``new``, ``view``, ``sizeof``).
    enums : dict
        Enum tag or typedef name -> an ``IntEnum`` class.
    platform : Platform
        The ABI sizes and layouts are computed for.
    """

    def __init__(self, result: ParseResult, constants: dict, platform, source: str,
                 own_files: frozenset):
        self._result = result
        self.types: dict[str, CType] = result.types
        self.functions: dict[str, FunctionDecl] = {
            k: v for k, v in result.functions.items() if result.decl_files.get(k) in own_files}
        self.variables: dict[str, GlobalVar] = {
            k: v for k, v in result.variables.items() if result.decl_files.get(k) in own_files}
        self.platform = platform
        self.enums: dict[str, type[enum.IntEnum]] = {}
        self._enum_members: dict[str, enum.IntEnum] = {}
        for etype, file in result.enum_types:
            if file not in own_files:
                continue
            name = etype.name or etype.typedef_name
            if name and etype.members:
                cls = enum.IntEnum(name, list(etype.members), module="ffikit.types")
                self.enums[name] = cls
                for member in cls:
                    self._enum_members.setdefault(member.name, member)
            for member_name, value in etype.members or ():
                constants.setdefault(member_name, value)
        by_enum: dict = {}
        for etype, _file in result.enum_types:
            cls_enum = self.enums.get(etype.name or etype.typedef_name or "")
            if cls_enum is not None:
                by_enum[id(etype)] = cls_enum
        for tname, t in result.types.items():  # 'typedef enum tag {...} name_t;': both keys
            if " " not in tname and id(resolve(t)) in by_enum:
                self.enums.setdefault(tname, by_enum[id(resolve(t))])
        self.constants: dict[str, Any] = constants
        self._source = source
        self._own_files = own_files
        self._typeof_cache: dict[str, CType] = {}
        self._lock = threading.Lock()

    skipped_macros: Mapping[str, str] = MappingProxyType({})  # name -> why it is no constant
    type_macros: Mapping[str, CType] = MappingProxyType({})  # '#define T size_t' -> size_t

    # --- lookups -----------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("__") or name.startswith("_"):
            raise AttributeError(name)
        t = self.types.get(name) or _builtins(self.platform).get(name) or \
            self.type_macros.get(name)
        if t is None:
            for kind in ("struct", "union", "enum"):
                t = self.types.get(f"{kind} {name}")
                if t is not None:
                    break
        if t is not None:
            return self.ctype(t)
        if name in self._enum_members:
            return self._enum_members[name]
        if name in self.enums:
            return self.enums[name]
        if name in self.constants:
            return self.constant_value(self.constants[name])
        candidates = [k for k in self.types if " " not in k] + list(self.constants) + \
            list(self.functions)
        close = difflib.get_close_matches(name, candidates, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        if name in self.functions:
            hint = "; it is a function: load a library with these declarations to call it"
        raise AttributeError(f"these declarations have no type or constant {name!r}{hint}")

    def __dir__(self):
        names = {k for k in self.types if " " not in k}
        names |= {k.split(" ", 1)[1] for k in self.types if " " in k}
        return sorted(set(super().__dir__()) | names | set(self.constants))

    def typeof(self, spec: str | CType | type) -> CType:
        """The model type for a C type name (``"int32_t[2]"``, ``"Student *"``, ``"T[]"``)."""
        if isinstance(spec, CType):
            return spec
        if isinstance(spec, type):
            model = getattr(spec, "_ffikit_type_", None)
            if model is not None:
                return model
            raise TypeError(f"{spec!r} is a type ffikit did not build; pass it as is")
        if not isinstance(spec, str):
            raise TypeError(f"a C type is given as text, a model type or a ctypes type, "
                            f"not {type(spec).__name__}")
        text = spec.strip()
        if self.type_macros:  # '#define PCRE2_SIZE size_t': the macro names its type
            text = _TYPE_MACRO.sub(lambda m: self.type_macros[m.group(0)].c_name()
                                   if m.group(0) in self.type_macros else m.group(0), text)
        cached = self._typeof_cache.get(text)
        if cached is not None:
            return cached
        direct = self.types.get(text) or _builtins(self.platform).get(text)
        if direct is not None:
            self._typeof_cache[text] = direct
            return direct
        dims = _ARRAY_SUFFIX.fullmatch(text)
        if dims is not None and "(" not in text and dims.group(1).strip():
            model = _with_dims(self.typeof(dims.group(1)), dims.group(2), text, self)
            self._typeof_cache[text] = model
            return model
        lead = re.match(r"\s*(?:(?:const|volatile)\s+)*([A-Za-z_]\w*)", text)
        if lead is not None:
            name = lead.group(1)
            if name not in _KEYWORDS and name not in self.types and \
                    name not in _builtins(self.platform):
                close = difflib.get_close_matches(name, [k for k in self.types if " " not in k])
                raise DeclarationError(
                    f"unknown type name '{name}' in {text!r}",
                    hint=(f"did you mean {close[0]!r}? " if close else "")
                    + "declare it with cdef(...), or pass defs= with the declarations that do")
        if ";" in text or "{" in text:
            raise DeclarationError(f"{spec!r} is not a type name",
                                   hint="pass a type such as 'int32_t[4]' or 'struct point *'")
        model = _parse_type_name(text, self._result, self.platform)
        self._typeof_cache[text] = model
        return model

    def constant_value(self, value: Any) -> Any:
        """A constant as users get it; a backend turns a :class:`CastConstant` into a value."""
        return value

    def cast_constant(self, type_text: str, value: int) -> Any:
        """``((type_text) value)`` as a typed constant (what ``ffikit bind`` writes)."""
        return self.constant_value(CastConstant(self.typeof(type_text), value))

    def ctype(self, spec: str | CType | type) -> Any:
        """The backend type for a C type; model-only declarations have none.

        The declarations users hold (:class:`ffikit.Declarations`) come from a
        backend, which overrides this to build its types from the model.
        """
        raise TypeError(f"these are model-only declarations: no backend type for {spec!r}; "
                        "use ffikit.cdef/ffikit.include")

    def layout(self, name: str | CType | type) -> _layout.Layout:
        """The layout of a struct/union as data; ``str()`` of it is a table."""
        return _layout.layout(self.typeof(name), self.platform)

    def declares(self, name: str) -> bool:
        """True when ``name`` (a type, tag such as ``"struct x"``, function or variable) is
        declared by the text or header itself, not by something it ``#include``s."""
        return self._result.decl_files.get(name, "\0") in self._own_files

    def sizeof(self, spec) -> int:
        """``sizeof`` a C type on this declarations' platform."""
        return _layout.sizeof(self.typeof(spec), self.platform)

    # --- pickling: by recipe (the source; re-declared, memoised, on arrival) -------------
    _recipe: tuple | None = None

    def __reduce__(self):
        if self._recipe is None:
            raise NotPicklable("these declarations were not made by ffikit.cdef/include, so "
                               "there is no source to rebuild them from in another process")
        return (_rebuild, self._recipe)

    def __repr__(self) -> str:
        n_types = sum(1 for k in self.types if " " not in k or not k.startswith("enum"))
        return (f"<Declarations: {len(self.functions)} functions, {n_types} types, "
                f"{len(self.constants)} constants, {len(self.variables)} variables"
                f"{', platform ' + self.platform.name if self.platform != _layout.host_platform() else ''}>")


def _parse_type_name(text: str, known: ParseResult, platform) -> CType:
    """A type name read by the C parser, with the names ``known`` declares."""
    source = f"void {TYPEOF_PROBE}({text});"
    result = parse(preprocess(source, filename="<type>"), platform=platform,
                   builtins=_builtins(platform), sources={"<type>": source},
                   filename="<type>", known=known)
    model = result.types.get(TYPEOF_PROBE)
    if model is None:
        raise DeclarationError(f"{text!r} is not a single C type name")
    return model


_TYPE_MACRO = re.compile(r"[A-Za-z_]\w*")
_ARRAY_SUFFIX = re.compile(r"(.*?)((?:\s*\[\s*[^\]]*\])+)\s*", re.S)


def _with_dims(item: CType, suffix: str, text: str, defs: Declarations) -> CType:
    """``item`` wrapped in the array dimensions of ``suffix`` (``"[2][3]"``, ``"[]"``)."""
    result = item
    for dim in reversed(re.findall(r"\[\s*([^\]]*)\]", suffix)):
        if not dim.strip():
            result = Array(result, None)
            continue
        try:
            value = eval_macro(dim, lambda n: _constant(defs, n), platform=defs.platform)
        except NotConstant as exc:
            raise DeclarationError(f"array length {dim!r} in {text!r} is not a constant: "
                                   f"{exc}") from None
        if not isinstance(value, int) or value < 0:
            raise DeclarationError(f"array length {dim!r} in {text!r} must be a "
                                   f"non-negative integer")
        result = Array(result, value)
    return result


def _constant(defs: Declarations, name: str):
    if name in defs.constants:
        return defs.constants[name]
    raise NotConstant(f"'{name}' is not a known constant")


# --- entry points --------------------------------------------------------------------

_builtins_cache: dict = {}


def _builtins(platform) -> dict:
    """Built-in names for ``platform``: the standard ones, plus Windows' on Windows."""
    found = _builtins_cache.get(platform.name)
    if found is not None:
        return found
    names = dict(STANDARD_TYPES)
    names.update(platform_types(platform))
    if platform.is_windows:
        pre = preprocess(WINDOWS_DECLARATIONS, filename=_WINDOWS_FILE)
        result = parse(pre, platform=platform, builtins=names,
                       sources={_WINDOWS_FILE: WINDOWS_DECLARATIONS}, filename=_WINDOWS_FILE)
        names.update({k: v for k, v in result.types.items() if " " not in k})
    _builtins_cache[platform.name] = names
    return names


_memo: dict = {}
_memo_lock = threading.Lock()


def cdef(text: str, *, platform: str | None = None, packed: bool | int | None = None,
         cls: type[Declarations] | None = None) -> Declarations:
    """Parse C declarations into :class:`Declarations`.

    Parameters
    ----------
    text
        C declarations: typedefs, structs, unions, enums, prototypes, ``extern``
        variables, ``#define`` constants.  ``#include``/``#define``/``#if`` run
        through the system C preprocessor; ``#pragma pack`` and
        ``__attribute__((packed/aligned))`` are honoured.
    platform
        ``None`` for this machine, ``"windows"`` for Windows x64 sizes and
        layouts (``long`` is 4 bytes, Windows type names built in), or a name
        from :func:`ffikit.cdecl.layout.get_platform`.
    packed
        Default packing for every struct: ``True`` (= 1) or an ``int`` like
        ``#pragma pack(n)``.
    cls
        The :class:`Declarations` subclass to make (a backend's, which knows
        how to build types); model-only by default.

    Raises
    ------
    DeclarationError
        With the file, line, column, the line itself and a hint.

    Examples
    --------
    >>> defs = ffikit.cdef("typedef struct { int id; double score; } Student;")
    >>> defs.sizeof("Student")
    16
    """
    if not isinstance(text, str):
        raise TypeError(f"cdef() takes C text as str, not {type(text).__name__}")
    plat = _layout.get_platform(platform)
    pack = 1 if packed is True else (int(packed) if packed else None)
    cls = cls or Declarations
    key = ("cdef", text, plat.name, pack, cls)
    recipe = (cls, "cdef", (text,), {"platform": platform, "packed": packed})
    return _memoised(key, lambda: _declare(cls, text, plat, pack, "<cdef>", {}, (), None),
                     recipe)


def include(header: str | os.PathLike, *, include_dirs=(), defines: Mapping | None = None,
            cpp: str | None = None, platform: str | None = None,
            cls: type[Declarations] | None = None) -> Declarations:
    """Parse a real header (``"zlib.h"``, or a path) into :class:`Declarations`.

    Functions, variables, enums and ``#define`` constants come from the named
    header and the headers it includes with quotes (``#include "zconf.h"``);
    types come from everything it includes, so every declared function can be
    bound.  ``include_dirs``/``defines``/``cpp`` are passed to the
    preprocessor.

    Raises
    ------
    DeclarationError
        The header was not found (the message lists the include path searched)
        or does not parse.
    """
    header = os.fspath(header)
    plat = _layout.get_platform(platform)
    include_dirs = tuple(os.fspath(d) for d in include_dirs)
    if os.path.sep in header and os.path.exists(header):
        line = f'#include "{os.path.abspath(header)}"'
    else:
        line = f"#include <{header}>"
    cls = cls or Declarations
    key = ("include", header, include_dirs, tuple(sorted((defines or {}).items())), cpp, plat.name,
           cls)
    where = os.path.abspath(header) if line.startswith('#include "') else header
    recipe = (cls, "include", (where,), dict(include_dirs=include_dirs, cpp=cpp,
                                             defines=dict(defines or {}), platform=platform))
    return _memoised(key, lambda: _declare(cls, line + "\n", plat, None, "<include>",
                                           dict(defines or {}), include_dirs, cpp,
                                           own_depth1=True), recipe)


def _memoised(key, make, recipe) -> Declarations:
    found = _memo.get(key)
    if found is not None:
        return found
    result = make()
    result._recipe = recipe  # what rebuilds it in another process (see __reduce__)
    with _memo_lock:
        found = _memo.setdefault(key, result)
        if found is result:
            _recent.append(result)
        return found


# Declarations made so far, newest last: type names used without ``defs=``
# (``ffikit.view(buf, "Student[]")``) resolve against them.
_recent: list[Declarations] = []




@understood("the declarations")  # deep nesting, huge numbers: a DeclarationError too
def _declare(cls, text, plat, pack, filename, defines, include_dirs, cpp, own_depth1=False):
    sources = {filename: text}
    pre = preprocess(text, filename=filename, include_dirs=include_dirs, defines=defines,
                     cpp=cpp, default_pack=pack, force_cpp=own_depth1)
    own = {filename}
    if own_depth1:
        own = directly_included(pre.text, filename)
    own = with_quote_includes(own, include_dirs)
    result = parse(pre, platform=plat, builtins=_builtins(plat), sources=sources,
                   filename=filename)
    constants, skipped, type_macros = header_constants(
        pre.macros, own, result, function_macros=pre.function_macros, platform=plat,
        builtins=_builtins(plat), parse_type=lambda t: _parse_type_name(t, result, plat))
    for name, (value, file) in result.static_constants.items():
        if file in own:
            constants.setdefault(name, value)
    skipped.update(result.skipped_constants)
    defs = cls(result, constants, plat, text, frozenset(own))
    defs.skipped_macros = skipped
    defs.type_macros = type_macros
    return defs


def _rebuild(cls, kind: str, args: tuple, options: dict) -> Declarations:
    """Unpickle: re-declare from the recipe (memoised, so once per process)."""
    make = cdef if kind == "cdef" else include
    return make(*args, cls=cls, **options)


_default_lock = threading.Lock()


def _default_declarations() -> Declarations:
    return cdef("")


def typeof(spec: str | CType | type, defs: Declarations | None = None) -> CType:
    """The model type for ``spec``.

    Without ``defs``, built-in names come first, then the names of every
    ``cdef``/``include`` made so far, the newest first.
    """
    return _owner(spec, defs).typeof(spec)


def _owner(spec, defs: Declarations | None) -> Declarations:
    """The declarations that know ``spec``'s names."""
    if defs is not None:
        return defs
    default = _default_declarations()
    if not isinstance(spec, str):
        return default
    try:
        default.typeof(spec)
        return default
    except DeclarationError as exc:
        for candidate in reversed(_recent):
            if candidate is default:
                continue
            try:
                candidate.typeof(spec)
                return candidate
            except DeclarationError:
                continue
        raise exc from None


# Keep the names used only by type checkers and re-exports referenced.
