"""pycparser AST -> the backend-free model, with source positions for every error."""

from __future__ import annotations

import bisect

from pycparser import c_ast, c_parser

from ..errors import DeclarationError
from . import layout as _layout
from .attributes import bound_facts, declaration_attributes, function_facts
from .constexpr import NotConstant, eval_node, python_value
from .fastlex import LEXER
from .layout_attributes import decay_typedef_array, with_position
from .model import (
    VOID,
    Array,
    Complex,
    Coord,
    CType,
    Enum,
    FunctionDecl,
    FunctionType,
    GlobalVar,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
    Vector,
    Void,
    resolve,
)
from .parse_errors import refuse_huge_literals, source_line, translate, understood
from .parse_records import RecordBuilder
from .parse_result import ParseResult
from .preprocess import Preprocessed

__all__ = ["ParseResult", "parse", "BUILTIN_FILE", "TYPEOF_PROBE"]

BUILTIN_FILE = "<ffikit-builtins>"
TYPEOF_PROBE = "__ffikit_typeof"  # 'void __ffikit_typeof(T);' reads the type name T


class _Builder(RecordBuilder):
    def __init__(self, pre: Preprocessed, platform, builtins: dict, sources: dict,
                 known: ParseResult | None, own_files=frozenset()):
        self.pre = pre
        self.own_files = own_files  # the user's own text: its declarations win
        self.platform = platform
        self.builtins = builtins
        self.sources = sources  # filename -> text, for quoting lines in errors
        self.r = ParseResult()
        self._anonymous: dict = {}  # (kind, coord) -> an anonymous struct already built
        self._builtin_declared: set = set()  # built-in names a header declared the same way
        if known is not None:  # extend earlier declarations (typeof on a Declarations)
            self.r.types.update(known.types)
            self.r.enum_values.update(known.enum_values)

    # --- errors ------------------------------------------------------------------
    def error(self, message: str, coord=None, hint: str | None = None) -> DeclarationError:
        file = getattr(coord, "file", None)
        line = getattr(coord, "line", None)
        column = getattr(coord, "column", None)
        return DeclarationError(message, filename=file, line=line, column=column,
                                source_line=source_line(self.sources, file, line), hint=hint)

    def coord(self, node) -> Coord | None:
        c = getattr(node, "coord", None)
        return Coord(c.file, c.line, c.column) if c is not None else None

    # --- top level -----------------------------------------------------------------
    def run(self, ast: c_ast.FileAST) -> ParseResult:
        for ext in ast.ext:
            file = getattr(ext.coord, "file", None)
            if file == BUILTIN_FILE:
                continue
            if isinstance(ext, c_ast.Typedef):
                self.typedef(ext)
            elif isinstance(ext, c_ast.Decl):
                self.decl(ext)
            elif isinstance(ext, c_ast.FuncDef):
                self.funcdef(ext)
            # StaticAssert, Pragma: nothing to record
        return self.r

    def typedef(self, node: c_ast.Typedef) -> None:
        ctype = self.type_of(node.type)
        name = node.name
        attrs = self.typedef_attributes(node)
        ctype = self.apply_type_attributes(ctype, attrs, node.coord, f"typedef '{name}'")
        aligned = [self.attr_int(a, node.coord, "alignment") for a in attrs
                   if a.kind == "aligned"]
        target = resolve(ctype)
        if isinstance(target, (StructOrUnion, Enum)) and target.name is None \
                and target.typedef_name is None:
            target.typedef_name = name
        if name in self.builtins and name not in self.r.types:
            if self._compatible(self.builtins[name], ctype):
                self._builtin_declared.add(name)
                return
            if name in self._builtin_declared and not self._foreign_system_header(node):
                raise self.error(
                    f"typedef '{name}' conflicts with the built-in '{name}' "
                    f"('{self.builtins[name].c_name()}' vs '{ctype.c_name()}')", node.coord)
            if self._foreign_system_header(node):
                return
            # No header declared the built-in name: this typedef (the user's 'typedef int
            # bool;', <stdio.h>'s complete FILE) is the name's meaning in this text.
        existing = self.r.types.get(name)
        new = Typedef(name, ctype, aligned[-1] if aligned else None)
        if existing is not None and not self._compatible(existing, new):
            raise self.error(
                f"conflicting typedef '{name}': was '{resolve(existing).c_name()}', "
                f"now '{ctype.c_name()}'", node.coord)
        if existing is None:
            self.r.types[name] = new
            self.r.decl_files[name] = node.coord.file if node.coord else None
            self.r.typedef_coords[name] = self.coord(node)

    def _foreign_system_header(self, node) -> bool:
        """True for a system header's typedef when the target is not the host: a
        Linux ``<stdint.h>`` read for ``platform="windows"`` spells ``int64_t`` as
        ``long``; the platform's built-in definition stands."""
        from .layout import host_platform
        from .preprocess import system_include_dirs

        file = getattr(node.coord, "file", None) or ""
        return self.platform != host_platform() and file.startswith(
            tuple(d.rstrip("/") + "/" for d in system_include_dirs()))

    def _compatible(self, a: CType, b: CType) -> bool:
        ra, rb = resolve(a), resolve(b)
        if ra == rb:
            return True
        try:
            if isinstance(ra, Primitive) and isinstance(rb, Primitive):
                if ra.is_integer != rb.is_integer:
                    return False
                if ra.is_integer:
                    return _layout.int_info(ra, self.platform) == _layout.int_info(rb, self.platform)
                return _layout.sizeof(ra, self.platform) == _layout.sizeof(rb, self.platform)
            if isinstance(ra, Pointer) and isinstance(rb, Pointer):
                return True
        except (DeclarationError, TypeError):
            return False
        return False

    def decl(self, node: c_ast.Decl) -> None:
        if node.name == TYPEOF_PROBE and isinstance(node.type, c_ast.FuncDecl):
            params = node.type.args.params if node.type.args is not None else []
            if len(params) == 1 and not isinstance(params[0], c_ast.EllipsisParam):
                # a type name's own type: 'int (*[3])(int)' is an array, not decayed
                self.r.types[TYPEOF_PROBE] = self.type_of(params[0].type)
                return
        if isinstance(node.type, c_ast.FuncDecl):
            ftype = self.function_type(node.type)
            pointers = tuple(i for i, p in enumerate(ftype.params) if isinstance(resolve(p), Pointer))
            facts = function_facts(declaration_attributes(self.pre, self.pre.offset_of(node.coord)),
                                   ftype.facts.access, pointers, len(ftype.params))
            existing = self.r.functions.get(node.name)
            if existing is not None:  # GCC merges the attributes of every declaration
                self.check_redeclaration(existing, ftype, node)
                facts = existing.type.facts.merged(facts)
            ftype = ftype.with_facts(facts)
            self.note_prototype(node)
            file = node.coord.file if node.coord else None
            label = self.asm_label(node)  # a later '__asm__("sym")' redirects (glibc)
            if existing is None or self.wins(node.name, file) or (
                    not any(existing.type.param_names) and any(ftype.param_names)):
                symbol = label or (existing.symbol if existing else None)
                self.r.functions[node.name] = FunctionDecl(node.name, ftype, self.coord(node),
                                                           symbol)
                self.declared_in(node.name, file)
            elif facts != existing.type.facts or (label and label != existing.symbol):
                self.r.functions[node.name] = FunctionDecl(
                    node.name, existing.type.with_facts(facts), existing.coord,
                    label or existing.symbol)
            return
        ctype = self.type_of(node.type)
        if node.name is None:
            return  # 'struct x {...};' or 'enum e {...};': recorded by type_of
        if "static" in node.storage and node.init is not None:
            self.static_constant(node, ctype)
        if "typedef" in node.storage or "static" in node.storage:
            return
        quals = getattr(node.type, "quals", []) or []
        file = node.coord.file if node.coord else None
        if node.name in self.r.variables and not self.wins(node.name, file):
            return
        self.r.variables[node.name] = GlobalVar(node.name, ctype, "const" in quals,
                                                self.coord(node), self.asm_label(node))
        self.declared_in(node.name, file)

    def asm_label(self, node) -> str | None:
        """The ``__asm__("symbol")`` label of a declaration, if it has one."""
        labels = self.pre.asm_labels
        start = self.pre.offset_of(node.coord) if labels else None
        if start is None:
            return None
        end = self.pre.text.find(";", start)
        index = bisect.bisect_left(labels, (start, ""))
        if index < len(labels) and (end < 0 or labels[index][0] < end):
            return labels[index][1] or None
        return None

    def wins(self, name: str, file: str | None) -> bool:
        """Whether a declaration in ``file`` replaces an earlier one of ``name``: the
        user's own text wins over the headers it includes (``fopen`` declared again
        after ``#include <stdio.h>`` is the user's, with the user's names)."""
        return file in self.own_files and self.r.decl_files.get(name) not in self.own_files

    def declared_in(self, name: str, file: str | None) -> None:
        """Record where ``name`` was declared: the first place, or the user's own text."""
        if name not in self.r.decl_files or file in self.own_files:
            self.r.decl_files[name] = file

    def static_constant(self, node: c_ast.Decl, ctype: CType) -> None:
        """``static const int X = 042;``: a constant, converted to its declared type."""
        file = node.coord.file if node.coord else None
        inner = node.type
        while isinstance(inner, c_ast.ArrayDecl):
            inner = inner.type
        if "const" not in (getattr(inner, "quals", None) or []):
            self.r.skipped_constants[node.name] = "a static variable that is not const"
            return
        env = self.const_env()
        try:
            value = eval_node(node.init, env)
            if value.type != "str":
                value = env.arith.convert(value, env.arith.of_model(ctype))
        except (NotConstant, DeclarationError) as exc:
            self.r.skipped_constants[node.name] = str(getattr(exc, "message", exc))
            return
        self.r.static_constants[node.name] = (python_value(value), file)

    def funcdef(self, node: c_ast.FuncDef) -> None:
        # 'static inline' helpers in headers have no exported symbol: not callable.
        if "static" in (node.decl.storage or []) or "inline" in (node.decl.funcspec or []):
            return
        self.decl(node.decl)

    # --- types -----------------------------------------------------------------------
    def type_of(self, node, *, decay: bool = False) -> CType:
        if isinstance(node, c_ast.TypeDecl):
            return self.base_type(node.type, node)
        if isinstance(node, (c_ast.Struct, c_ast.Union, c_ast.Enum)):
            return self.base_type(node, None)
        if isinstance(node, c_ast.Typename):
            return self.type_of(node.type, decay=decay)
        if isinstance(node, c_ast.PtrDecl):
            target = self.type_of(node.type)
            quals = set(getattr(node.type, "quals", None) or [])
            if isinstance(node.type, c_ast.ArrayDecl):
                quals = set()
            return Pointer(target, "const" in quals, "volatile" in quals)
        if isinstance(node, c_ast.ArrayDecl):
            item = self.type_of(node.type)
            length = None
            if node.dim is not None:
                length = self.const_int(node.dim, "array length")
                if length < 0:
                    raise self.error(f"array length {length} is negative", node.dim.coord)
            if decay:
                quals = set(getattr(node.type, "quals", None) or [])
                return Pointer(item, "const" in quals, "volatile" in quals)
            if isinstance(resolve(item), Void):
                raise self.error("array of void", node.coord)
            return Array(item, length)
        if isinstance(node, c_ast.FuncDecl):
            ftype = self.function_type(node)
            return Pointer(ftype) if decay else ftype
        raise self.error(f"unsupported declarator {type(node).__name__}",
                         getattr(node, "coord", None))

    def function_type(self, node: c_ast.FuncDecl) -> FunctionType:
        result = self.type_of(node.type)
        params: list[CType] = []
        names: list[str | None] = []
        variadic = False
        bounds: list = []
        args = node.args.params if node.args is not None else []
        for param in args:
            if isinstance(param, c_ast.EllipsisParam):
                variadic = True
                continue
            if isinstance(param, c_ast.ID):
                raise self.error(f"parameter '{param.name}' has no type (K&R style)",
                                 param.coord, hint="write prototypes: 'int f(int x)'")
            if isinstance(param.type, c_ast.ArrayDecl):
                ptype = self.array_param(param.type, len(params), bounds)
            else:
                ptype = self.type_of(param.type, decay=True)
            if isinstance(resolve(ptype), Void) and len(args) == 1 \
                    and not getattr(param, "name", None):
                break  # f(void), or f(void_t) with 'typedef void void_t'
            ptype = decay_typedef_array(ptype, param)
            if isinstance(resolve(ptype), Void):
                raise self.error("a parameter cannot have type void", param.coord)
            params.append(ptype)
            names.append(getattr(param, "name", None))
        if isinstance(resolve(result), (Array, FunctionType)) \
                and not isinstance(resolve(result), Vector):  # GCC vectors are values
            raise self.error("a function cannot return an array or a function", node.coord)
        return FunctionType(result, params, variadic, names).with_facts(
            function_facts((), bound_facts(bounds, names), (), len(params)))

    def array_param(self, node: c_ast.ArrayDecl, index: int, bounds: list) -> CType:
        """A ``T p[...]`` parameter: the pointer it decays to; its bound joins ``bounds``
        as ``(index, count or parameter name, spelling)``."""
        try:
            item = self.type_of(node.type)
        except DeclarationError:  # 'T m[n][n]': a pointer to T; its size is not one count
            if not isinstance(node.type, c_ast.ArrayDecl):
                raise
            inner = node.type
            while isinstance(inner, c_ast.ArrayDecl):
                inner = inner.type
            return Pointer(self.type_of(inner), "const" in (getattr(inner, "quals", None) or []))
        quals = set(getattr(node.type, "quals", None) or [])
        static = "static " if "static" in (node.dim_quals or []) else ""
        dim = node.dim
        if isinstance(dim, c_ast.ID) and dim.name not in self.r.enum_values:
            bounds.append((index, dim.name, static + dim.name))
        elif dim is not None:
            try:
                count = self.const_int(dim, "array length")
            except DeclarationError:  # 'T p[n * 2]': parsed, but no rule from it
                count = None
            if count is not None and count >= 0:
                bounds.append((index, count, f"{static}{count}"))
        return Pointer(item, "const" in quals, "volatile" in quals)

    def base_type(self, node, decl) -> CType:
        if isinstance(node, c_ast.IdentifierType):
            return self.identifier_type(node.names, node.coord)
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            return self.struct_type(node)
        if isinstance(node, c_ast.Enum):
            return self.enum_type(node)
        raise self.error(f"unsupported type {type(node).__name__}", getattr(node, "coord", None))

    def identifier_type(self, names: list[str], coord) -> CType:
        if "_Complex" in names or "__complex__" in names:
            rest = [n for n in names if n not in ("_Complex", "__complex__")] or ["double"]
            base = self.identifier_type(rest, coord)
            resolved = resolve(base)
            if not (isinstance(resolved, Primitive) and resolved.is_float):
                raise self.error(f"complex type '{' '.join(names)}' is not supported", coord,
                                 hint="only float, double and long double _Complex are")
            return Complex(base)
        words = [n for n in names if n not in ("signed", "unsigned", "short", "long", "int",
                                                "char", "float", "double", "void", "_Bool",
                                                "_Complex", "__complex__")]
        if words:
            if len(names) != 1:
                raise self.error(f"cannot combine {' '.join(names)!r}", coord)
            name = names[0]
            found = self.r.types.get(name) or self.builtins.get(name)
            if found is None:
                raise self.error(
                    f"unknown type name '{name}'", coord,
                    hint="declare it with typedef, or include the header that does")
            return found
        unsigned = "unsigned" in names
        signed = "signed" in names
        longs = names.count("long")
        if "void" in names:
            return VOID
        if "_Bool" in names:
            return Primitive("_Bool")
        if "char" in names:
            return Primitive("unsigned char" if unsigned else "signed char" if signed else "char")
        if "float" in names:
            return Primitive("float")
        if "double" in names:
            return Primitive("long double" if longs else "double")
        prefix = "unsigned " if unsigned else ""
        if "short" in names:
            return Primitive(prefix + "short")
        if longs >= 2:
            return Primitive(prefix + "long long")
        if longs == 1:
            return Primitive(prefix + "long")
        return Primitive(prefix + "int")


_LEXER_CALLBACKS = ("error_func", "on_lbrace_func", "on_rbrace_func", "type_lookup_func")  # (the
# last three: pycparser 3.0's lexer)


def parse(pre: Preprocessed, *, platform, builtins: dict, sources: dict,
          filename: str = "<cdef>", known: ParseResult | None = None,
          own_files=frozenset()) -> ParseResult:
    """Parse preprocessed text into a :class:`ParseResult` (raises DeclarationError)."""
    refuse_huge_literals(pre)
    typedef_names = sorted(set(builtins) | ({n for n in known.types if " " not in n}
                                            if known else set()))
    prefix = f'# 1 "{BUILTIN_FILE}"\n' + "".join(f"typedef int {n};\n" for n in typedef_names)
    text = prefix + f'# 1 "{filename}"\n' + pre.text if not pre.text.lstrip().startswith("#") \
        else prefix + pre.text
    parser = c_parser.CParser(lexer=LEXER)
    try:
        ast = parser.parse(text, filename)
    except c_parser.ParseError as exc:
        # the typedefs the text declared before the error are types, not unknown names
        declared = {name: None for scope in getattr(parser, "_scope_stack", ())
                    for name, is_type in scope.items() if is_type}
        raise translate(with_position(str(exc), parser), sources, pre,
                        {**builtins, **declared}, known, _KEYWORDS) from None
    except (RecursionError, IndexError, AssertionError, TypeError, ValueError) as exc:
        raise DeclarationError(f"cannot parse the declarations: {exc}") from None
    finally:  # pycparser's parser and lexer refer to each other (the lexer's callbacks are the
        for hook in _LEXER_CALLBACKS:  # parser's methods): a cycle that kept every token
            if hasattr(parser.clex, hook):  # (thousands) alive until the next full collection
                setattr(parser.clex, hook, None)
    with understood("the declarations"):  # e.g. a declarator nested deeper than Python recurses
        return _Builder(pre, platform, builtins, sources, known, own_files).run(ast)


_KEYWORDS = set("""auto break case char const continue default do double else enum extern float
for goto if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while _Bool _Complex _Alignas _Alignof _Atomic _Generic
_Noreturn _Static_assert _Thread_local""".split())
