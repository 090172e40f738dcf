"""The ``Declarations`` object and the ``cdef``/``include`` entry points (how one is made: :mod:`.declare`)."""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping, Sequence

from ffikit import forksafe
from ffikit.cdecl import layout as _layout
from ffikit.cdecl.declare import cached_model, declare
from ffikit.cdecl.macro_facts import MacroFacts
from ffikit.cdecl.memo import memoised, recent_declarations
from ffikit.cdecl.model import (
    CastConstant,
    CType,
    FunctionDecl,
    GlobalVar,
    Pointer,
    Typedef,
)
from ffikit.cdecl.parse_result import ParseResult
from ffikit.cdecl.typenames import ARRAY_SUFFIX as _ARRAY_SUFFIX
from ffikit.cdecl.typenames import POINTER_TO_NAME as _POINTER_TO_NAME
from ffikit.cdecl.typenames import TYPE_MACRO as _TYPE_MACRO
from ffikit.cdecl.typenames import builtin_types as _builtins
from ffikit.cdecl.typenames import keywords as _keywords
from ffikit.cdecl.typenames import parse_type_name as _parse_type_name
from ffikit.cdecl.typenames import with_dims as _with_dims
from ffikit.errors import DeclarationError, NotPicklable
from ffikit.lazyre import LazyPattern

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Declarations", "cdef", "include", "typeof"]


class Declarations(MacroFacts):
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
        Name -> :class:`~ffikit.cdecl.model.FunctionDecl`, for every function
        the text declares, through every header it reaches (``include("math.h")``
        has ``cos``, declared in ``<bits/mathcalls.h>``); :meth:`declares` tells
        the header's own names apart and :meth:`where` says where each is declared.
    variables : dict
        Name -> :class:`~ffikit.cdecl.model.GlobalVar` (``extern`` globals).
    constants : dict
        ``#define`` and ``static const`` constants and enum members, with the values C
        gives them on ``platform`` (int, float, str; ``NULL`` is None; a pointer cast
        such as ``((void *)-1)`` is a typed constant), from every header reached,
        without the noise: macros the compiler predefines, reserved ``__`` names of
        system headers, feature-test macros and include guards (those are in
        :attr:`all_macros`).
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
                 own_files: frozenset, macros: dict | None = None,
                 function_macros: dict | None = None):
        self._result = result
        self._function_macros = function_macros or {}  # name -> ((params, body), file, line)
        self._aliases: dict | None = None
        self.types: dict[str, CType] = result.types
        self.functions: dict[str, FunctionDecl] = result.functions
        self.variables: dict[str, GlobalVar] = result.variables
        self.platform = platform
        self._macros = macros or {}  # name -> (name, body, file, line), as final_macros gives
        self._all_macros: dict | None = None
        self.enums: dict[str, type[enum.IntEnum]] = {}
        self._enum_members: dict[str, enum.IntEnum] = {}
        classes: dict[int, type[enum.IntEnum]] = {}
        for etype, _file in result.enum_types:
            name = etype.name or etype.typedef_name
            if name and etype.members:
                cls = _int_enum(name, etype.members)
                self.enums[name] = classes[id(etype)] = cls
                if etype.typedef_name:  # 'typedef enum tag {...} name_t;': both keys
                    self.enums.setdefault(etype.typedef_name, cls)
                for member in cls:
                    self._enum_members.setdefault(member.name, member)
            for member_name, value in etype.members or ():
                constants.setdefault(member_name, value)
        for alias, t in result.types.items():  # by typedef name too: enums["yaml_event_type_t"]
            while isinstance(t, Typedef) and id(t.type) not in classes:
                t = t.type
            if isinstance(t, Typedef) and " " not in alias:
                self.enums.setdefault(alias, classes[id(t.type)])
        self.constants: Mapping[str, Any] = constants
        self._source = source
        self._own_files = own_files
        self._typeof_cache: dict[str, CType] = {}
        self._lock = forksafe.Lock()

    # --- lookups -----------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("__") or "_result" not in self.__dict__:
            raise AttributeError(name)  # Python's own lookups; or not initialised (unpickling)
        if name.startswith("_") and name not in self.constants:
            raise AttributeError(name)  # '_IOFBF' is a constant; '_x' an attribute it lacks
        t = self.types.get(name) or _builtins(self.platform).get(name) or \
            self.type_macro(name)
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
        import difflib  # (suggestions are made only for a message)

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
        if self._macros:  # '#define PCRE2_SIZE size_t': the macro names its type
            text = _TYPE_MACRO.sub(lambda m: t.c_name() if (t := self.type_macro(m.group(0)))
                                   is not None else m.group(0), text)
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
        stars = _POINTER_TO_NAME.fullmatch(text)
        named = stars and (self.types.get(stars.group(1)) or _builtins(self.platform).get(stars.group(1)))
        if named is not None and text.count("*") <= 3:  # 'T *', 'struct s **': no parsing
            model = named
            for _ in range(text.count("*")):
                model = Pointer(model)
            self._typeof_cache[text] = model
            return model
        lead = re.match(r"\s*(?:(?:const|volatile)\s+)*([A-Za-z_]\w*)", text)
        if lead is not None:
            name = lead.group(1)
            if name not in _keywords() and name not in self.types and \
                    name not in _builtins(self.platform):
                import difflib

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

    def c_declaration(self, name: str) -> str:
        """The function ``name``'s declaration as C text (``"int f(int x)"``), as messages and
        the compiled backend's module index spell it; made once per name (a model read from
        the cache brings every one made)."""
        texts = self.__dict__.setdefault("_c_declarations", {})
        found = texts.get(name)
        if found is None:
            found = texts[name] = self.functions[name].type.c_name(name)
        return found

    def where(self, name: str) -> tuple[str, int | None] | None:
        """``(file, line)`` where ``name`` is declared: a function, variable, type, tag
        (``"struct x"``), ``#define`` or enum member; None when unknown."""
        coord = None
        if name in self.functions:
            coord = self.functions[name].coord
        elif name in self.variables:
            coord = self.variables[name].coord
        elif name in self._macros:
            _name, _body, file, line = self._macros[name]
            return file, line
        elif name in self._result.typedef_coords:
            coord = self._result.typedef_coords[name]
        elif name in self.types:
            coord = getattr(self.types[name], "coord", None)
        elif name in self._result.enum_values:
            coord = next((getattr(e, "coord", None) for e, _f in self._result.enum_types
                          if any(n == name for n, _v in e.members or ())), None)
        if coord is None or coord.file is None:
            return None
        return coord.file, coord.line

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


def _int_enum(name: str, members) -> type[enum.IntEnum]:
    """The IntEnum of a C enum.  Python's enum refuses some names C allows (``_ignore_``,
    ``mro``) and repeated ones: those members stay plain constants (``defs.constants``)."""
    members = list(dict((n, v) for n, v in reversed(list(members))).items())[::-1]  # first wins
    # The functional API makes a class; mypy types a call with a computed name as a member.
    try:
        return enum.IntEnum(name, members, module="ffikit.types")  # type: ignore[return-value]
    except (TypeError, ValueError):
        kept = []
        for member in members:
            try:
                enum.IntEnum(name, [member])
            except (TypeError, ValueError):
                continue
            kept.append(member)
        return enum.IntEnum(name, kept, module="ffikit.types")  # type: ignore[return-value]


# --- entry points --------------------------------------------------------------------

_READS_FILES = LazyPattern(r"#\s*(?:include|include_next|import|embed)\b")


def cdef(text: str, *, platform: str | None = None, packed: bool | int | None = None,
         cls: type[Declarations] | None = None) -> Declarations:
    """Parse C declarations into :class:`Declarations`.

    The same arguments give the same object while it is among the
    ``MEMO_SIZE`` (256) most recently used results (``include`` too); older
    ones are dropped from the memo, and freed once nothing else holds them.

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

    def make() -> Declarations:
        return declare(cls, text, plat, pack, "<cdef>", {}, (), None)

    if "__has_include" in text:  # asks whether files exist: no input the cache could watch
        return memoised(key, make, recipe)
    # The model is cached as an include's is (the files #include reads are its inputs); text
    # that reads none depends on nothing else (the compiler's identity, for #if on its
    # predefined macros, is in the key).
    standalone = _READS_FILES.search(text) is None
    return memoised(key, lambda: cached_model(("cdef", text, pack, plat.name), cls, plat, make,
                                              standalone=standalone), recipe)


def include(header: str | os.PathLike | Sequence[str | os.PathLike], *, include_dirs=(),
            defines: Mapping | None = None, cpp: str | None = None,
            platform: str | None = None,
            cls: type[Declarations] | None = None) -> Declarations:
    """Parse a real header (``"zlib.h"``, or a path), or several, into :class:`Declarations`.

    Functions, variables, types, enums and ``#define`` constants come from
    every header the preprocessor reads (``include("math.h")`` has ``cos``,
    which glibc declares in ``<bits/mathcalls.h>``), without the macros that
    are noise (see :attr:`Declarations.constants`); :meth:`Declarations.declares`
    tells the named headers' own names (and those of the headers they include
    with quotes) apart, :meth:`Declarations.where` gives each name's file and
    line.  A list (``["archive.h", "archive_entry.h"]``) is one translation
    unit, the headers included in that order.  ``include_dirs``/``defines``/
    ``cpp`` are passed to the preprocessor.

    Raises
    ------
    DeclarationError
        The header was not found (the message lists the include path searched)
        or does not parse.
    """
    single = isinstance(header, (str, os.PathLike))
    given = [header] if single else list(header)  # type: ignore[arg-type]
    headers = [os.fspath(h) for h in given if isinstance(h, (str, os.PathLike))]
    if not headers or len(headers) != len(given) or not all(
            isinstance(h, str) and h.strip() for h in headers):
        raise TypeError("include() takes a header name or path, or a non-empty list of them")
    plat = _layout.get_platform(platform)
    include_dirs = tuple(os.fspath(d) for d in include_dirs)
    where = [os.path.abspath(h) if os.path.sep in h and os.path.exists(h) else h for h in headers]
    text = "".join(f'#include "{w}"\n' if os.path.isabs(w) and w != h else f"#include <{h}>\n"
                   for h, w in zip(headers, where))
    cls = cls or Declarations
    key = ("include", tuple(headers), include_dirs, tuple(sorted((defines or {}).items())), cpp,
           plat.name, cls)
    recipe = (cls, "include", (where[0] if single else where,),
              dict(include_dirs=include_dirs, cpp=cpp, defines=dict(defines or {}),
                   platform=platform))

    def make() -> Declarations:
        return declare(cls, text, plat, None, "<include>", dict(defines or {}), include_dirs,
                        cpp, own_depth1=True, named=where)

    parts = (text, tuple(map(os.path.abspath, include_dirs)), key[3], cpp, plat.name)
    return memoised(key, lambda: cached_model(parts, cls, plat, make), recipe)


def _rebuild(cls, kind: str, args: tuple, options: dict) -> Declarations:
    """Unpickle: re-declare from the recipe (memoised, so once per process)."""
    make = cdef if kind == "cdef" else include
    return make(*args, cls=cls, **options)


_default_lock = forksafe.Lock()


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
        for candidate in recent_declarations():
            if candidate is default:
                continue
            try:
                candidate.typeof(spec)
                return candidate
            except DeclarationError:
                continue
        raise exc from None


# Keep the names used only by type checkers and re-exports referenced.
