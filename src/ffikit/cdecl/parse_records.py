"""Structs, unions and enums from the pycparser AST, with their layout attributes.

The parser's builder (:mod:`ffikit.cdecl.parse`) inherits :class:`RecordBuilder`
for the record types: members, bitfields, anonymous members, ``packed``/
``aligned``/``ms_struct`` on the struct and on each member, enum values, and
the constant expressions array lengths and attributes use.
"""

from __future__ import annotations

import bisect
import re

from pycparser import c_ast

from . import layout as _layout
from .carith import IntType
from .constexpr import Env, NotConstant, eval_node, python_value
from .layout_attributes import LayoutAttributes
from .model import (
    Array,
    Coord,
    Enum,
    Field,
    Primitive,
    StructOrUnion,
    resolve,
)

TYPE_CHECKING = False

__all__ = ["RecordBuilder"]

_BRACE = re.compile(r"[{}]")


def _last_keyword(text: str, at: int) -> int:
    """Where the last ``struct``/``union``/``enum`` starting before ``at`` (+ its length) is,
    or -1.  Looked for near ``at`` first: a word absent there is not searched for back to
    the start of a long text (found there, nothing further back can be later)."""
    for start in (max(at - 256, 0), 0):
        found = max(text.rfind(word, start, at + len(word)) for word in ("struct", "union", "enum"))
        if found >= 0 or start == 0:
            return found
    return -1


class RecordBuilder(LayoutAttributes):
    """Builds record types and evaluates constants for the parser's builder."""

    if TYPE_CHECKING:  # set by the builder (ffikit.cdecl.parse._Builder)
        _anonymous: dict[tuple[str, Coord | None], StructOrUnion]
        _const_env: Env

    def struct_type(self, node) -> StructOrUnion:
        kind = "union" if isinstance(node, c_ast.Union) else "struct"
        key = f"{kind} {node.name}" if node.name else None
        existing = self.r.types.get(key) if key else None
        if key is None and node.decls is not None:  # 'typedef struct {...} P, *PP;': one type
            existing = self._anonymous.get((kind, self.coord(node)))
            if existing is not None:
                return existing
        if node.decls is None:
            if existing is None:
                existing = StructOrUnion(kind, node.name, self.coord(node))
                if key:
                    self.r.types[key] = existing
                    self.r.decl_files[key] = getattr(node.coord, "file", None)
            return existing
        if existing is not None and existing.fields is not None:
            here = self.coord(node)
            if here is not None and here == existing.coord:
                return existing  # the same definition met twice (a header read twice)
            raise self.error(f"redefinition of '{kind} {node.name}'", node.coord,
                             hint=f"it was first defined at {existing.coord}")
        st = existing or StructOrUnion(kind, node.name, self.coord(node))
        if key is None:
            self._anonymous[(kind, self.coord(node))] = st
        if key and existing is None:
            self.r.types[key] = st
            self.r.decl_files[key] = getattr(node.coord, "file", None)
        fields = []
        names = set()
        struct_attrs, brace = self.struct_attributes(node)
        packed_struct = any(a.kind == "packed" for a in struct_attrs)
        for member in node.decls:
            if isinstance(member, c_ast.Pragma):
                continue
            if isinstance(member, c_ast.StaticAssert):
                continue
            ftype = self.type_of(member.type)
            bitwidth = None
            if member.bitsize is not None:
                bitwidth = self.const_int(member.bitsize, "bitfield width")
                r = resolve(ftype)
                if not (isinstance(r, Enum) or (isinstance(r, Primitive) and r.is_integer)):
                    raise self.error(f"bitfield '{member.name}' must have an integer type, "
                                     f"not '{ftype.c_name()}'", member.coord)
                width_limit = _layout.sizeof(r, self.platform) * 8
                if bitwidth < 0 or bitwidth > width_limit or (bitwidth == 0 and member.name):
                    raise self.error(
                        f"bitfield '{member.name}' has width {bitwidth}; '{ftype.c_name()}' "
                        f"allows 1..{width_limit} (0 only for an unnamed bitfield)",
                        member.coord)
            if member.name in names:
                raise self.error(f"duplicate member '{member.name}'", member.coord)
            if member.name:
                names.add(member.name)
            r = resolve(ftype)
            if isinstance(r, Array) and r.length is None and member is not node.decls[-1]:
                raise self.error(f"flexible array member '{member.name}' must be last",
                                 member.coord)
            if not r.is_complete and not (isinstance(r, Array) and r.length is None):
                raise self.error(
                    f"member '{member.name}' has incomplete type '{ftype.c_name()}'",
                    member.coord, hint="use a pointer to it, or define it before this struct")
            if member.name is None and bitwidth is None and not isinstance(r, StructOrUnion):
                continue  # 'int;' declares nothing
            attrs = self.member_attributes(member)
            what = f"member '{member.name or '(anonymous)'}'"
            ftype = self.apply_type_attributes(ftype, attrs, member.coord, what)
            aligned = max((self.attr_int(a, member.coord, "alignment") for a in attrs
                           if a.kind == "aligned"), default=None)
            packed = packed_struct or any(a.kind == "packed" for a in attrs)
            fields.append(Field(member.name, ftype, bitwidth, aligned, packed, self.coord(member)))
        self.refuse_unsupported(struct_attrs, node.coord, f"{kind} {node.name or ''}".strip())
        aligned = max((self.attr_int(a, node.coord, "alignment") for a in struct_attrs
                       if a.kind == "aligned"), default=None)
        rules = None
        for a in struct_attrs:
            if a.kind in ("ms_struct", "gcc_struct"):
                rules = "msvc" if a.kind == "ms_struct" else "sysv"
        pack = self.pre.pack_at(brace) if brace is not None else None
        st.complete(fields, pack=pack, aligned=aligned, coord=self.coord(node), rules=rules)
        return st

    def enum_type(self, node: c_ast.Enum) -> Enum:
        key = f"enum {node.name}" if node.name else None
        if node.values is None:
            existing = self.r.types.get(key) if key else None
            if existing is None:
                existing = Enum(node.name, None, self.coord(node))
                if key:
                    self.r.types[key] = existing
            return existing
        members = []
        value = -1
        file = getattr(node.coord, "file", None)
        for item in node.values.enumerators:
            if isinstance(item, c_ast.Pragma):
                continue
            if item.value is not None:
                value = self.const_int(item.value, f"value of enumerator '{item.name}'")
            else:
                value += 1
            if item.name in self.r.enum_values and self.r.enum_values[item.name][0] != value:
                raise self.error(f"redefinition of enumerator '{item.name}'", item.coord)
            members.append((item.name, value))
            self.r.enum_values[item.name] = (value, file)
        existing = self.r.types.get(key) if key else None
        if existing is not None and existing.members is not None:
            if existing.members == tuple(members):
                return existing
            raise self.error(f"redefinition of 'enum {node.name}'", node.coord)
        if existing is not None:
            existing.members = tuple(members)
            enum = existing
        else:
            enum = Enum(node.name, members, self.coord(node))
            if key:
                self.r.types[key] = enum
                self.r.decl_files[key] = file
        enum.packed = any(a.kind == "packed" for a in self.struct_attributes(node)[0])
        self.r.enum_types.append((enum, file))
        return enum

    # --- constants and attributes --------------------------------------------------------
    def const_env(self) -> Env:
        """The names constant expressions here may use: enum members, ``static const``
        values, the types declared so far."""
        env = getattr(self, "_const_env", None)
        if env is None:
            found = self.r  # (not 'self': a builder -> env -> builder cycle kept the
            # preprocessed text and its tables alive until a full collection)

            def lookup(name):
                if name in found.enum_values:
                    return found.enum_values[name][0]
                if name in found.static_constants:
                    return found.static_constants[name][0]
                raise NotConstant(f"'{name}' is not a known constant")

            env = self._const_env = Env(self.platform, lookup, self.r.types, self.builtins)
        return env

    def const_value(self, node, what: str):
        """A constant expression's typed value (a DeclarationError if it is not one)."""
        try:
            return eval_node(node, self.const_env())
        except NotConstant as exc:
            raise self.error(f"{what} is not a constant expression: {exc}",
                             getattr(node, "coord", None)) from None

    def const_int(self, node, what: str) -> int:
        value = self.const_value(node, what)
        if not isinstance(value.type, IntType):
            raise self.error(f"{what} must be an integer, not {python_value(value)!r}",
                             getattr(node, "coord", None))
        return value.value

    def struct_attributes(self, node):
        """Attributes on the struct itself, and the offset of its opening brace."""
        text = self.pre.text
        at = self.pre.offset_of(node.coord)
        if at is None:
            return [], None
        keyword = _last_keyword(text, at)
        brace = text.find("{", at)
        if brace < 0:
            return [], None
        depth, close = 0, None
        for m in _BRACE.finditer(text, brace):  # (the braces only, not every character)
            if m.group() == "{":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    close = m.start()
                    break
        found = list(self.attributes_between(keyword, brace))  # (sorted: then those after '}')
        if close is not None:
            attrs = self.pre.attributes
            for index in range(bisect.bisect_right(self._attribute_offsets, close), len(attrs)):
                attr = attrs[index]
                if text[close + 1:attr.offset].strip():
                    break  # (a later one has this text before it too)
                found.append(attr)
        return found, brace

    def member_attributes(self, member):
        text = self.pre.text
        at = self.pre.offset_of(member.coord)
        if at is None or not self.pre.attributes:
            return []
        start = max(text.rfind(";", 0, at), text.rfind("{", 0, at)) + 1
        end = text.find(";", at)
        if end < 0:
            end = len(text)
        # A nested struct definition's own attributes belong to it, not to this member.
        inner = text.rfind("}", start, at)
        if inner >= 0:
            start = inner + 1
        return self.attributes_between(start, end)
