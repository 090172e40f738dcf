"""C source for a compiled backend module: one ``METH_FASTCALL``-style wrapper per signature shape.

:func:`shape_of` reads a declared function's :class:`~ffikit.rules.params.ParamRule`
for each parameter (the same description the ctypes backend's wrapper
generator reads), with the access modes of :mod:`ffikit.rules.sizes` applied,
and reduces it to a *shape*: the C ABI type of each argument and the fast case
the wrapper handles in C.  The declaration's facts (``FunctionFacts``) stay
data: ``nonnull`` goes into the pointer rule, size relations become the table
:func:`relation_table` gives ``make()`` (checked in C by ``checks.c``), owned
results get their owner maker; a fact this generator does not know, variadics
and structs whose layout needs attributes get a reason string instead and stay
wholly on the ctypes backend.  :func:`generate` writes the module: the runtime
files (``#include``, see :mod:`~ffikit.backends.compiled.runtime`), the struct
definitions, one wrapper per distinct shape, then ``module.c`` and the init
function.

Each wrapper converts its fast case inline, checks the size relations, and
calls the C function through the pointer it was given, with the GIL released;
then it builds the result and judges an ``ffikit.check`` policy in C.  On any
mismatch it calls the ctypes backend's wrapper with the original arguments,
which either converts them (slowly) or raises the one refusal both backends
share.
"""

from __future__ import annotations

import ctypes
import sys

from ffikit import records
from ffikit.backends.compiled import runtime
from ffikit.backends.compiled.classify import CHAR_TARGETS
from ffikit.backends.compiled.cstructs import struct_c
from ffikit.backends.compiled.modindex import shapes_digest
from ffikit.backends.compiled.sizetable import relation_table
from ffikit.backends.ctypes.wrappers import _restype_for, _VoidPointerResult
from ffikit.cachedir import sha256_hex
from ffikit.cdecl import model as m
from ffikit.errors import ArgumentError
from ffikit.rules.params import ParamRule, accepted_formats, param_rule
from ffikit.rules.sizes import param_modes, relations

__all__ = ["shape_of", "generate", "relation_table", "wrapper_source", "KNOWN_RULE_FIELDS", "KNOWN_FACTS",
           "CHAR_TARGETS"]

# ParamRule fields this generator understands; a rule with any other field set
# (a newer rule this C does not implement) keeps the function on the ctypes backend.
KNOWN_RULE_FIELDS = frozenset({
    "kind", "ctype", "lo", "hi", "is_char", "size", "float_max", "const", "pointee",
    "raw_ok", "char_target", "item_kind", "pointee_size", "target_is_pointer", "target_is_struct",
})

_INT_CODES = {"b": (1, True), "B": (1, False), "h": (2, True), "H": (2, False),
              "i": (4, True), "I": (4, False), "l": (ctypes.sizeof(ctypes.c_long), True),
              "L": (ctypes.sizeof(ctypes.c_long), False), "q": (8, True), "Q": (8, False)}
_CData = ctypes.c_int.__mro__[-2]


def _int_c(size: int, signed: bool) -> str:
    return f"{'' if signed else 'u'}int{size * 8}_t"


# FunctionFacts fields the compiled wrapper enforces: ``access`` (size relations, checked
# in C from the table make() is given, and access modes, which set const-ness), ``nonnull``
# (in the pointer rule), ``deallocators`` (owned results: the owner maker runs on the
# result) and ``format`` (a variadic function's: variadics stay on ctypes).  A fact this
# generator does not know keeps the function wholly on the ctypes backend.
KNOWN_FACTS = frozenset({"access", "nonnull", "deallocators", "format"})


def _unknown_facts(ftype: m.FunctionType) -> str | None:
    """Why facts this generator does not implement keep the function in Python."""
    facts = ftype.facts
    names = records.fields(facts) if records.is_record(facts) else ()
    unknown = [name for name in names if name not in KNOWN_FACTS and getattr(facts, name)]
    if unknown:
        return f"its declaration carries facts the compiled backend does not check ({', '.join(unknown)})"
    return None


def _param_shape(rule: ParamRule) -> tuple | str:
    for name in records.fields(rule):
        if name not in KNOWN_RULE_FIELDS and getattr(rule, name) not in (None, False, 0, (), ""):
            return f"rule field {name!r}"
    if rule.kind == "int":
        if rule.size not in (1, 2, 4, 8):
            return f"{rule.ctype.c_name()} integers"
        if isinstance(rule.ctype, m.Primitive) and rule.ctype.name == "_Bool":
            return ("int", "_Bool", rule.lo, rule.hi)
        if rule.size == 8 and rule.lo == 0:
            return ("u64", "uint64_t")
        return ("int", _int_c(rule.size, rule.lo < 0), rule.lo, rule.hi)
    if rule.kind == "float":
        if rule.size == 8:
            return ("double", "double")
        if rule.size == 4:
            return ("float", "float")
        if ctypes.sizeof(ctypes.c_longdouble) == rule.size:
            return ("ldouble", "long double")
        return f"{rule.ctype.c_name()} (long double of another size)"
    if rule.kind == "pointer":
        target = rule.pointee
        named = target.name if isinstance(target, m.Primitive) else None
        formats = accepted_formats(rule)
        # plain char: a C string, only NUL-free bytes go fast; other character types
        # (wchar_t, ...) always take the slow path (the classifier says so)
        items_of = rule.pointee_size if formats == frozenset() and rule.item_kind is None else 0
        return ("ptr", "void *", bool(rule.const), named == "char",
                None if formats is None else tuple(sorted(formats)), items_of)
    if rule.kind == "function_pointer":
        return ("ptr", "void *", True, False, None, 0)
    if rule.kind == "struct" and isinstance(rule.ctype, m.StructOrUnion):  # always, for "struct"
        definitions: list[str] = []
        tag = struct_c(rule.ctype, definitions)
        if tag is not None:
            return ("struct", tag, tuple(definitions))
        return "struct parameters (bitfields, packing or alignment attributes)"
    return f"{rule.kind} parameters"


def _result_shape(result: m.CType) -> tuple | str:
    try:
        restype = _restype_for(result)
    except ArgumentError:  # vectors, complex numbers: the ctypes backend refuses them at binding
        return f"results of C type {result.c_name()}"
    if restype is None:
        return ("void", "void")
    if restype is ctypes.c_char_p:
        return ("string", "const char *")
    if restype is _VoidPointerResult or issubclass(restype, ctypes._Pointer):
        return ("pointer", "void *")
    if restype is ctypes.c_bool:
        return ("bool", "_Bool")
    if restype is ctypes.c_char:
        return ("char", "char")
    if restype is ctypes.c_double:
        return ("double", "double")
    if restype is ctypes.c_float:
        return ("float", "float")
    if restype is ctypes.c_longdouble and restype is not ctypes.c_double:
        return ("ldouble", "long double")
    if issubclass(restype, (ctypes.Structure, ctypes.Union)):
        definitions: list[str] = []
        tag = struct_c(m.resolve(result), definitions)  # type: ignore[arg-type]
        if tag is not None:
            return ("struct", tag, tuple(definitions))
    code = getattr(restype, "_type_", None)
    if isinstance(code, str) and code in _INT_CODES and restype.__bases__[0] is ctypes._SimpleCData:
        size, signed = _INT_CODES[code]
        return ("int" if signed else "uint", _int_c(size, signed))
    return f"results of C type {result.c_name()}"


def shape_of(name: str, ftype: m.FunctionType) -> tuple | str:
    """The wrapper shape for ``ftype``, or a reason string: why it stays on ctypes."""
    if ftype.variadic:
        return "variadic"
    reason = _unknown_facts(ftype)
    if reason:
        return reason
    params = []
    nonnull = set(ftype.facts.nonnull)
    modes = param_modes(ftype)
    for i, ptype in enumerate(ftype.params):
        rule = param_rule(ptype)
        if rule.kind == "pointer" and i in modes and modes[i] == rule.const:
            rule = records.replace(rule, const=not modes[i])  # an access mode overrides 'const'
        shape = _param_shape(rule)
        if isinstance(shape, str):
            return shape
        if shape[0] == "ptr":  # None / a NULL ctypes pointer: the slow path refuses them
            shape = shape + (i in nonnull,)
        params.append(shape)
    result = _result_shape(ftype.result)
    if isinstance(result, str):
        return result
    table = relation_table(relations(name, ftype), params)
    if isinstance(table, str):
        return table
    return (result, tuple(params))


# --------------------------------------------------------------------------------------
# writing C


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# What each error policy's failure is on the C result ``r``, per result kind
# (ffikit.boundary.policies, compared on the converted result); "0": never fails;
# missing: only the Python policy can tell (it is called).
_FAILS = {
    "int": {"NONZERO": "r != 0", "NEGATIVE": "r < 0", "NULL": "0", "ERRNO": "r == -1"},
    "uint": {"NONZERO": "r != 0", "NEGATIVE": "0", "NULL": "0", "ERRNO": "0"},
    "bool": {"NONZERO": "r != 0", "NEGATIVE": "0", "NULL": "0", "ERRNO": "0"},
    "double": {"NONZERO": "r != 0", "NEGATIVE": "r < 0", "NULL": "0", "ERRNO": "r == -1"},
    "float": {"NONZERO": "r != 0", "NEGATIVE": "r < 0", "NULL": "0", "ERRNO": "r == -1"},
    "ldouble": {"NONZERO": "(double)r != 0", "NEGATIVE": "(double)r < 0", "NULL": "0",
                "ERRNO": "(double)r == -1"},
    "pointer": {"NULL": "r == NULL", "ERRNO": "r == NULL"},
    "string": {"NULL": "r == NULL", "ERRNO": "r == NULL"},
}
_RESULT_VALUES = {
    "string": "ffk_string_result(r)",
    "pointer": "ffk_pointer_result(self, r)",
    "bool": "PyBool_FromLong(r)",
    "char": "PyBytes_FromStringAndSize(&r, 1)",
    "double": "PyFloat_FromDouble(r)",
    "float": "PyFloat_FromDouble((double)r)",
    "ldouble": "PyFloat_FromDouble((double)r)",
    "int": "PyLong_FromLongLong((long long)r)",
    "uint": "PyLong_FromUnsignedLongLong((unsigned long long)r)",
    "struct": "ffk_struct_result(self, &r, sizeof r)",
}


def _policy_switch(rkind: str, n: int) -> list[str]:
    """After the call: no policy, or one C can judge and that passed, returns the result;
    one C judged failed asks the policy for its error; anything else calls the policy."""
    lines = ["    switch (self->policy) {", "    case FFK_POLICY_NONE: return out;"]
    for policy, failed in _FAILS.get(rkind, {}).items():
        lines.append(f"    case FFK_POLICY_{policy}: "
                     + ("return out;" if failed == "0" else
                        f"if (!({failed})) return out; "
                        f"return ffk_failed(self, out, args, {n}, FFK_POLICY_{policy}, errno_space);"))
    lines += ["    default: break;", "    }", f"    return ffk_after(self, out, args, {n});"]
    return lines


def _convert(i: int, p: tuple, index: int, recorded: bool, decls: list, convert: list,
             call_args: list, release: list, specs: list) -> None:
    """One argument's conversion (a fast case, or ``goto slow``)."""
    kind = p[0]
    if kind == "int":
        decls.append(f"long long a{i};")
        lo = "LLONG_MIN" if p[2] == -(1 << 63) else f"{p[2]}LL"
        convert.append(f"if (!ffk_int(args[{i}], {lo}, {p[3]}LL, &a{i})) goto slow;")
        if recorded:
            convert.append(f"v[{i}] = a{i};")
        call_args.append(f"({p[1]})a{i}")
    elif kind == "u64":
        decls.append(f"unsigned long long a{i};")
        convert.append(f"if (!ffk_uint64(args[{i}], &a{i})) goto slow;")
        if recorded:
            convert.append(f"v[{i}] = (long long)a{i};")
        call_args.append(f"(uint64_t)a{i}")
    elif kind in ("double", "ldouble"):  # long double: converted as a double (as ctypes does), widened
        decls.append(f"double a{i};")
        convert.append(f"if (!ffk_double(args[{i}], &a{i})) goto slow;")
        call_args.append(f"(long double)a{i}" if kind == "ldouble" else f"a{i}")
    elif kind == "float":
        decls.append(f"float a{i};")
        convert.append(f"if (!ffk_float(args[{i}], &a{i})) goto slow;")
        call_args.append(f"a{i}")
    elif kind == "struct":
        decls.append(f"{p[1]} a{i};")
        convert.append(f"if (ffk_mode(self, {i}, Py_TYPE(args[{i}])) != FFK_ADDRESS) goto slow;")
        convert.append(f"memcpy(&a{i}, *(void **)((char *)args[{i}] + self->bptr), sizeof a{i});")
        call_args.append(f"a{i}")
    else:  # ptr
        _, _, const, cstring, formats, items_of, nonnull = p
        if formats is None:
            fmt = "NULL"
        else:
            specs.append(f"static const char *const ffk_fmt{index}_{i}[] = {{"
                         + "".join(_c_string(f) + ", " for f in formats) + "NULL};")
            fmt = f"ffk_fmt{index}_{i}"
        specs.append(f"static const ffk_pspec ffk_spec{index}_{i} = "
                     f"{{{int(const)}, {int(cstring)}, {fmt}, {items_of}, {int(nonnull)}}};")
        decls.append(f"void *a{i}; Py_buffer b{i}; int h{i} = 0;")
        convert.append(f"if (!ffk_pointer(self, {i}, args[{i}], &ffk_spec{index}_{i}, &a{i}, &b{i}, "
                       f"&h{i}, &v[{i}])) goto slow;")
        call_args.append(f"a{i}")
        release.append(f"if (h{i}) ffk_unhold(h{i}, &b{i});")  # a buffer, or a lent callback slot


def _pinned(build: str, rkind: str, params: tuple) -> list[str]:
    """Build the result; a non-NULL pointer result (not owned: an owned one is a fresh
    allocation) keeps the call's pointer arguments and their exports alive (pins.c)."""
    which = [i for i, p in enumerate(params) if p[0] == "ptr"]
    if rkind != "pointer" or not which:
        return [build]
    return [build, "    if (out != NULL && r != NULL && self->own == Py_None) {",
            f"        static const int which[] = {{{', '.join(map(str, which))}}};",
            f"        Py_buffer *const views[] = {{{', '.join(f'&b{i}' for i in which)}}};",
            f"        int *const helds[] = {{{', '.join(f'&h{i}' for i in which)}}};",
            f"        if (ffk_pin_result(out, args, which, views, helds, {len(which)}) < 0)",
            "            Py_CLEAR(out);",
            "    }"]


def _wrapper(index: int, shape: tuple) -> str:
    result, params = shape
    n = len(params)
    decls: list[str] = []
    convert: list[str] = []
    call_args: list[str] = []
    release: list[str] = []
    specs: list[str] = []
    # v[]: what the size relations read (integer values, buffer extents); only wrappers
    # with a pointer parameter can have relations
    recorded = any(p[0] == "ptr" for p in params)
    if recorded:
        decls.append(f"long long v[{n}];")
    for i, p in enumerate(params):
        _convert(i, p, index, recorded, decls, convert, call_args, release, specs)
    if recorded:
        convert.append("if (self->nrels && !ffk_sizes_ok(self, v)) goto slow;")
    rkind, rc = result[0], result[1]
    ptypes = ", ".join(p[1] for p in params) or "void"
    call = f"(({rc} (*)({ptypes}))self->cfn)({', '.join(call_args)})"
    if rkind == "void":
        invoke, value, rdecl = f"    {call};", "Py_NewRef(Py_None)", ""
    else:
        invoke, value, rdecl = f"    r = {call};", _RESULT_VALUES[rkind], f"    {rc} r;"
    lines = specs + [
        f"/* {rc} ({ptypes}) */",
        "static PyObject *",
        f"ffk_w{index}(PyObject *fself, PyObject *const *args, size_t nargsf, PyObject *kwnames)",
        "{",
        "    ffk_func *self = (ffk_func *)fself, *outer;",
        "    PyObject *out;",
        "    int *errno_space;",
        "    ffk_thread *here;",
        *(f"    {d}" for d in decls),
        rdecl,
        f"    if (PyVectorcall_NARGS(nargsf) != {n} || kwnames != NULL)",
        "        return ffk_slow(self, args, nargsf, kwnames);",
        *(f"    {c}" for c in convert),
        "    here = &ffk_here;",
        "    errno_space = ffk_errno_space(here);",
        "    outer = here->current;",
        "    here->current = self;",
        "    Py_BEGIN_ALLOW_THREADS",
        "    FFK_SWAP_ERRNO(errno_space)",
        invoke,
        "    FFK_SWAP_ERRNO(errno_space)",
        "    Py_END_ALLOW_THREADS",
        "    here->current = outer;",
        *_pinned(f"    out = {value};", rkind, params),
        *(f"    {r}" for r in release),
        *_policy_switch(rkind, n),
    ]
    if params:
        lines += [
            "  slow:",
            *(f"    {r}" for r in release),
            "    return ffk_slow(self, args, nargsf, kwnames);",
        ]
    lines.append("}")
    return "\n".join(line for line in lines if line)


def wrapper_source(index: int, shape: tuple) -> str:
    """The C of wrapper ``index`` (of ``shape``) in a module, as :func:`generate` writes it."""
    return _wrapper(index, shape)


def _result_size(result: tuple) -> str:
    return f"sizeof({result[1]})" if result[0] == "struct" else "0"


def generate(shapes: list[tuple]) -> tuple[str, str, list[str]]:
    """``(module name, C source, each wrapper's C)`` for a module with one wrapper per shape.

    The source includes the runtime files (:mod:`~ffikit.backends.compiled.runtime`,
    compiled with ``-I`` its directory) around the wrappers.  The name carries a hash
    of the source, the runtime files and the Python ABI, so a module is only ever
    built once per content and never clashes with another.
    """
    wrappers = [_wrapper(i, s) for i, s in enumerate(shapes)]
    definitions: list[str] = []
    defined: set[str] = set()  # by tag: two structs of one layout (under two names) share it
    for result, params in shapes:
        for part in (result, *params):
            if part[0] == "struct":
                for d in part[2]:
                    if d.split("{", 1)[0] not in defined:
                        defined.add(d.split("{", 1)[0])
                        definitions.append(d)
    tables = "\n".join([
        f"#define FFK_NWRAPPERS {len(shapes)}",
        f'#define FFK_SHAPES "{shapes_digest(shapes)}"',
        "static vectorcallfunc ffk_wrappers[] = {"
        + (", ".join(f"ffk_w{i}" for i in range(len(shapes))) or "NULL") + "};",
        "static const int ffk_nparams[] = {" + (", ".join(str(len(s[1])) for s in shapes) or "0") + "};",
        "static const Py_ssize_t ffk_rsizes[] = {"
        + (", ".join(_result_size(s[0]) for s in shapes) or "0") + "};",
    ])
    body = "\n\n".join(definitions + wrappers)
    abi = f"/* {sys.implementation.cache_tag} {sys.abiflags} {sys.version} */"
    digest = sha256_hex((abi + runtime.digest() + body + tables).encode())[:16]
    modname = f"_ffikit_c_{digest}"
    source = "\n\n".join([
        abi,
        f'#include "{runtime.HEADER}"',
        runtime.includes(runtime.BEFORE_WRAPPERS),
        body,
        tables,
        f'#define FFK_MODNAME "{modname}"',
        runtime.includes(runtime.AFTER_WRAPPERS),
        f"PyMODINIT_FUNC PyInit_{modname}(void);\nPyMODINIT_FUNC\nPyInit_{modname}(void)\n{{\n"
        "    return ffk_init();\n}",
    ])
    return modname, source, wrappers
