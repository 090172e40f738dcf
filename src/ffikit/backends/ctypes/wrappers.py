"""Bound C functions: safe argument conversion, returns and error policies.

:func:`bind` turns a ctypes function pointer plus its model declaration into a
plain Python function.  The wrapper is *generated once per C function* (a
small source string run through ``exec``): every parameter gets the one
converter expression its C type needs, so a call does no dispatch on
declaration data.  ``int add(int a, int b)`` becomes, in effect::

    def add(a, b, /):
        if type(a) is not int or not -2147483648 <= a <= 2147483647: a = _slow0(a)
        if type(b) is not int or not -2147483648 <= b <= 2147483647: b = _slow1(b)
        result = _cfunc(a, b)        # ctypes, no argtypes: the GIL is released
        if add.errors is None: return result
        return add.errors(result, add, (a, b))      # a policy, or a parked callback error

Binding (:func:`prepare`) checks the declaration and generates the source;
compiling it (:meth:`Prepared.make`) is most of the cost, so a bound function
compiles its wrapper at its first call (``hasattr(lib, name)`` on a whole
library compiles nothing).

The ctypes function carries no ``argtypes`` (ctypes' own converters are the
slow part of a ctypes call); values that ctypes would pass wrongly without
them (64-bit integers, ``float``, pointers) are wrapped in their ctypes type
by the generated code.  What each parameter accepts is :func:`ffikit.rules.params.param_rule`; the
converters that check it are in :mod:`ffikit.backends.ctypes.converters`.

Buffers reach ``T *`` parameters without a copy: the converter takes a
``memoryview`` of the object, checks contiguity, writability and item type,
and passes the address of its first byte; the memoryview is held until the C
function returns, which also stops a ``bytearray`` being resized meanwhile.

What the declaration promises (:mod:`ffikit.rules.sizes`: array bounds,
``access``/``nonnull``/``format``/``malloc`` attributes, ``sizes=``) adds
lines only to the functions that have it: each size relation becomes one
comparison after the arguments are converted (``if n * 8 > extent >= 0:
raise ...``), so a function without relations runs exactly the code it did.
"""

from __future__ import annotations

import ctypes
import functools
import keyword
from collections.abc import Callable, Mapping

from ffikit import records
from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.buffer_errors import argument_refusal
from ffikit.backends.ctypes.byvalue import (
    by_value_class,
    eightbyte_classes,
    split_position,
    why_not_by_value,
)
from ffikit.backends.ctypes.converters import (
    float_slow,
    function_pointer_converter,
    int_slow,
    pointer_converter,
    struct_slow,
)
from ffikit.backends.ctypes.eightbytes import SYSV_X86_64, registers_before
from ffikit.backends.ctypes.extents import extent
from ffikit.backends.ctypes.fastpaths import cstring_fast_path, pointer_fast_path
from ffikit.backends.ctypes.owned_results import owner
from ffikit.backends.ctypes.result_pins import pin
from ffikit.backends.ctypes.types import ctype_of, to_ctypes
from ffikit.cdecl import model as m
from ffikit.errors import ArgumentError, FFIError
from ffikit.rules.messages import Param
from ffikit.rules.params import param_rule
from ffikit.rules.sizes import cstring_params, param_modes, refusal, relations, user_access

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["bind", "prepare", "Prepared"]

_CODE: dict[str, Any] = {}  # wrapper source -> its compiled code: binding again skips compile()


class _VoidPointerResult(ctypes.c_void_p):
    """``void *`` results stay ctypes objects (a plain c_void_p restype would give int/None)."""


def _split(value: object) -> tuple[ctypes.c_uint64, ctypes.c_double]:
    """An (INTEGER, SSE) struct as the two scalars that travel in the same registers."""
    data = bytes(value)[:16].ljust(16, b"\0")  # type: ignore[call-overload]
    return ctypes.c_uint64.from_buffer_copy(data), ctypes.c_double.from_buffer_copy(data, 8)


# --------------------------------------------------------------------------------------
# generating the wrapper


def _safe_name(name: str | None, index: int, taken: set[str]) -> str:
    if not name or not name.isidentifier() or keyword.iskeyword(name) \
            or name.startswith("_ffk") or name == "__debug__":
        name = f"arg{index + 1}"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _restype_for(result: m.CType) -> type | None:
    r = m.resolve(result)
    if isinstance(r, m.Void):
        return None
    if isinstance(r, (m.Array, m.Complex)):  # vector / complex registers: ctypes has none
        what = "a GCC vector" if isinstance(r, m.Array) else "a complex number"
        raise ArgumentError(f"functions returning C type {result.c_name()} ({what}) "
                            "cannot be called through ctypes")
    if isinstance(r, m.Pointer):
        target = m.resolve(r.target)
        if isinstance(target, m.Primitive) and target.name == "char" and r.const:
            return ctypes.c_char_p  # bytes (a copy) or None
        if isinstance(target, m.Void):
            return _VoidPointerResult
    if isinstance(r, m.Primitive) and r.is_integer and ctypes.sizeof(to_ctypes(r)) > 8:
        raise ArgumentError(f"functions returning {result.c_name()} cannot be called through "
                            "ctypes: libffi has no 128-bit integer type (the result would be "
                            "garbage); return it through a pointer, or split it in a C shim")
    found = ctype_of(result)
    if found is not None and by_value_class(found) is None:
        raise ArgumentError(f"functions returning {result.c_name()} by value cannot be called "
                            f"through ctypes: {why_not_by_value(found)}; return it through "
                            "a pointer instead")
    return found


def _negative_count(where: Param, rels: tuple, value: int) -> ArgumentError:
    buffers = ", ".join(sorted({f"argument {r.buffer + 1}" + (f" '{r.buffer_name}'" if r.buffer_name
                                                            else "") for r in rels
                                if where.index in (r.size, r.factor)}))
    return ArgumentError(f"{where} is {value}, but it counts what C reads or writes through "
                         f"{buffers}: a count cannot be negative (C would take it as a huge "
                         "size, or as nothing); pass 0 or more")


def _register_use(ftype: m.FunctionType, restype: type | None) -> list[tuple[int, int]]:
    """Integer and SSE registers taken before each parameter (x86-64 System V)."""
    kinds: list[tuple[str, tuple[str, ...]]] = []
    for ptype in ftype.params:
        rule = param_rule(ptype)
        if rule.kind == "float":
            kinds.append(("sse" if rule.size in (4, 8) else "stack", ()))
        elif rule.kind == "struct":
            twin = by_value_class(to_ctypes(rule.ctype))
            kinds.append(("struct", eightbyte_classes(twin)))
        else:
            kinds.append(("int", ()))
    hidden = isinstance(restype, type) and issubclass(restype, (ctypes.Structure, ctypes.Union)) \
        and ctypes.sizeof(restype) > 16
    return registers_before(kinds, hidden)


def bind(cfunc: Any, name: str, ftype: m.FunctionType, **options: Any) -> Callable:
    """Make the Python function that calls ``cfunc`` as ``ftype`` declares.

    Parameters
    ----------
    cfunc
        A ctypes foreign function (``CDLL(...)[name]``); its ``argtypes`` are
        cleared and its ``restype`` set from the declaration.
    name
        The C name, used in messages and as the wrapper's ``__name__``.
    ftype
        The model :class:`~ffikit.cdecl.model.FunctionType`.
    encoding
        How ``str`` is encoded for ``const char *`` parameters.
    errors
        The initial error policy (see :data:`check`); also settable later as
        ``wrapper.errors``.
    sizes
        Size relations added by the user for this function:
        ``{"a": "n"}`` (buffer parameter -> size parameter, element count,
        or ``"size * n"``).
    resolve
        Finds a function by name (the deallocator of a declared
        ``malloc (dealloc, i)`` result); without it results are not owned.
    hooks
        ``(on_own, on_release)`` called with each owned result (leak tracking).

    Returns
    -------
    function
        A plain Python function with attributes ``errors`` (the policy, or
        None), ``declaration`` (the C text), ``cfunc`` (the ctypes
        function) and ``relations`` (the size relations it checks).  It
        releases the GIL while C runs, as ctypes' ``CDLL`` does.
    """
    return prepare(cfunc, name, ftype, **options).make()


class _Variadic(tuple):
    """The arguments of a variadic function's converter, made when its wrapper is."""

    __slots__ = ()


class Prepared:
    """A wrapper :func:`prepare` checked and generated but did not compile yet.

    ``name``, ``declaration``, ``errors`` and ``doc`` (its ``__doc__``) are known at once;
    :meth:`make` compiles the generated source (once per source in a process)
    and returns the function :func:`bind` returns.  Compiling is most of what
    binding costs on the ctypes backend, so a caller that may never call the
    function (``hasattr(lib, name)``, a library bound whole) makes it at the
    first call instead.  Every refusal of the declaration was raised by
    :func:`prepare`: making it raises nothing new.
    """

    __slots__ = ("cfunc", "name", "template", "errors", "declaration", "doc")

    def __init__(self, cfunc: Any, name: str, template: tuple, errors: Callable | None):
        self.cfunc, self.name, self.template, self.errors = cfunc, name, template, errors
        self.declaration = template[3]
        self.doc = f"C function ``{self.declaration}`` (argument conversion per ffikit's boundary rules)."

    def make(self) -> Callable:
        """The wrapper function (a new one each time; see :func:`bind`)."""
        source, env, restype, declaration, shown, rels, self_name, params = self.template
        name, cfunc = self.name, self.cfunc
        code = _CODE.get(source)
        if code is None:
            code = compile(source, f"<ffikit wrapper {name}>", "exec")
            if len(_CODE) > 4096:
                _CODE.clear()
            _CODE[source] = code
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # noqa: S102
        spec = env.get("_ffk_va")
        if type(spec) is _Variadic:  # (the converter's module loads with the first variadic wrapper)
            from ffikit.backends.ctypes.variadic import variadic_converter

            env = {**env, "_ffk_va": variadic_converter(*spec)}
        wrapper = namespace["_ffk_make"](_ffk_cfunc=cfunc, **env)
        wrapper.__name__ = wrapper.__qualname__ = name
        code = wrapper.__code__  # shared by every function of this shape: this one gets its own copy,
        wrapper.__code__ = code.replace(  # naming the C function (tracebacks) and its parameters (help())
            co_name=name, co_varnames=params + code.co_varnames[len(params):])
        wrapper.__doc__ = self.doc
        wrapper.errors = self.errors
        wrapper.declaration = declaration
        wrapper.cfunc = cfunc
        wrapper.source = shown
        wrapper.relations = rels  # the size relations checked before each call (rules.sizes)
        callbacks.register_wrapper(wrapper, self_name)
        return wrapper


def prepare(
    cfunc: Any,
    name: str,
    ftype: m.FunctionType,
    *,
    encoding: str = "utf-8",
    errors: Callable | None = None,
    sizes: Mapping[str, object] | None = None,
    resolve: Callable[[str], Callable] | None = None,
    hooks: tuple[Callable, Callable] | None = None,
) -> Prepared:
    """:func:`bind` up to compiling: every check of the declaration, the generated source,
    ``cfunc``'s ``restype``; :meth:`Prepared.make` finishes it.  The keyword options are
    :func:`bind`'s."""
    if sizes or (resolve is not None and ftype.facts.deallocators):  # per library: not shared
        template = _build_template(name, ftype, encoding, sizes, resolve, hooks)
    else:
        template = _template(name, ftype, encoding)
    cfunc.argtypes = None
    cfunc.restype = template[2]
    return Prepared(cfunc, name, template, errors)


_TEMPLATES: dict[tuple, tuple] = {}  # (id(ftype), name, encoding) -> (ftype, template)


def _template(name: str, ftype: m.FunctionType, encoding: str) -> tuple:
    """``(source, env, restype, declaration, source shown, relations, self name, parameter
    names)``, built once.

    Binding the same declaration again (another ``load`` of the same
    declarations) reuses the converters, the generated source and its code;
    only the ctypes function differs, passed to ``make``.  (Functions with
    ``sizes=`` or owned results are built per library: those depend on it.)
    """
    key = (id(ftype), name, encoding)
    found = _TEMPLATES.get(key)
    if found is not None and found[0] is ftype:
        return found[1]
    template = _build_template(name, ftype, encoding)
    if len(_TEMPLATES) > 4096:
        _TEMPLATES.clear()
    _TEMPLATES[key] = (ftype, template)  # holding ftype keeps its id from being reused
    return template


def _build_template(name: str, ftype: m.FunctionType, encoding: str,
                    sizes: Mapping[str, object] | None = None,
                    resolve: Callable[[str], Callable] | None = None,
                    hooks: tuple[Callable, Callable] | None = None) -> tuple:
    restype = _restype_for(ftype.result)  # first: a result ctypes cannot carry is refused as such
    # Everything the generated code uses is an '_ffk_' name (builtins included), and
    # no C name may start with '_ffk': a parameter or function called 'type',
    # 'memoryview', 'int' or 'len' shadows nothing.
    env: dict[str, Any] = {
        "_ffk_cfunc": None,  # each bind passes its own
        "_ffk_type": type, "_ffk_int": int, "_ffk_float": float,
        "_ffk_memoryview": memoryview, "_ffk_bytes": bytes, "_ffk_bytearray": bytearray,
    }
    taken: set[str] = set()
    shown = [_safe_name(n, i, taken) for i, n in enumerate(ftype.param_names)]
    # The source names no parameter and not the function: one compiled code object serves
    # every function of the same shape, and bind() renames the parameters in its copy.
    pnames = [f"_ffk_x{i}" for i in range(len(shown))]
    body: list[str] = []
    facts = ftype.facts
    extra = user_access(name, ftype, sizes) if sizes else ()
    rels = relations(name, ftype, extra)
    modes = param_modes(ftype, extra)
    cstrings = cstring_params(ftype, extra)
    nonnull = set(facts.nonnull)
    size_params = {i for r in rels for i in (r.size, r.factor) if i is not None}
    sized_buffers = {r.buffer for r in rels}
    registers: list | None = None  # registers in use before each parameter, when needed
    split: dict[str, str] = {}  # struct parameter -> the two scalars that carry it
    for i, (ptype, pname) in enumerate(zip(ftype.params, pnames)):
        where = Param(name, i, ftype.param_names[i], ptype)
        rule = param_rule(ptype)
        r = rule.ctype
        if rule.kind == "int":
            ct = to_ctypes(r)
            if rule.size > 8:
                raise ArgumentError(f"{where}: parameters of C type {ptype.c_name()} cannot be "
                                    "passed through ctypes: libffi has no 128-bit integer type "
                                    "(C would receive an address); pass it through a pointer, "
                                    "or split it in a C shim")
            lo, hi = rule.lo, rule.hi
            env[f"_ffk_s{i}"] = int_slow(where, lo, hi, ct is ctypes.c_char)
            check = f"if _ffk_type({pname}) is not _ffk_int or not {lo} <= {pname} <= {hi}: {pname} = _ffk_s{i}({pname})"
            body.append(check)
            if i in size_params:
                body.append(f"_ffk_n{i} = {pname}")
            if ct is ctypes.c_char:
                body.append(f"{pname} = _ffk_t{i}({pname} & 0xFF)")
                env[f"_ffk_t{i}"] = ctypes.c_ubyte
            elif ctypes.sizeof(ct) > ctypes.sizeof(ctypes.c_int) or ct is ctypes.c_wchar:
                env[f"_ffk_t{i}"] = ct if ct is not ctypes.c_wchar else ctypes.c_int32
                body.append(f"{pname} = _ffk_t{i}({pname})")
        elif rule.kind == "float":
            ct = to_ctypes(r)
            if ct is ctypes.c_double:  # ctypes passes no float without argtypes: wrap it
                env[f"_ffk_s{i}"] = float_slow(where, None)
                env[f"_ffk_t{i}"] = ct
                body.append(f"{pname} = _ffk_t{i}({pname} if _ffk_type({pname}) is _ffk_float else _ffk_s{i}({pname}))")
            else:
                env[f"_ffk_s{i}"] = float_slow(where, ct)
                body.append(f"{pname} = _ffk_s{i}({pname})")
        elif rule.kind == "function_pointer":
            env[f"_ffk_c{i}"] = function_pointer_converter(where, to_ctypes(r), nonnull=i in nonnull)
            body.append(f"{pname}, _ffk_k{i} = _ffk_c{i}({pname})")
        elif rule.kind == "pointer":
            if i in modes and modes[i] == rule.const:  # an access mode overrides 'const'
                rule = records.replace(rule, const=not modes[i])
            env[f"_ffk_c{i}"] = pointer_converter(where, encoding, rule, nonnull=i in nonnull,
                                                  cstring=i in cstrings)
            if i in cstrings:
                body += cstring_fast_path(rule, i, pname, env)
                if i in sized_buffers:  # 'access (read_only, i)' alone: one item, still a C string
                    env["_ffk_ext"] = extent
                    body.append(f"_ffk_e{i} = _ffk_ext(_ffk_k{i})")
            else:
                body += pointer_fast_path(rule, i, pname, env, sized=i in sized_buffers)
        elif rule.kind == "struct":
            st = to_ctypes(r)
            twin = by_value_class(st)
            if twin is None:
                raise ArgumentError(
                    f"{where}: {ptype.c_name()} is passed by value, and {why_not_by_value(st)}; "
                    "declare the parameter as a pointer, or pass it from a C shim")
            env[f"_ffk_t{i}"] = st
            env[f"_ffk_s{i}"] = struct_slow(where, st)
            body.append(f"if _ffk_type({pname}) is not _ffk_t{i}: {pname} = _ffk_s{i}({pname})")
            if split_position(twin) and not ftype.variadic and SYSV_X86_64:
                if registers is None:
                    registers = _register_use(ftype, restype)
                if registers[i][0] == 5 and registers[i][1] < 8:  # libffi's last-register bug
                    env[f"_ffk_sp{i}"] = _split
                    body.append(f"_ffk_p{i}, _ffk_q{i} = _ffk_sp{i}({pname})")
                    split[pname] = f"_ffk_p{i}, _ffk_q{i}"
                    continue
            if twin is not st and issubclass(twin, (ctypes.Structure, ctypes.Union)):
                # the same bytes, in a class libffi classifies as C does
                env[f"_ffk_v{i}"] = twin.from_buffer_copy
                body.append(f"{pname} = _ffk_v{i}({pname})")
        else:
            raise ArgumentError(f"{where}: parameters of C type {ptype.c_name()} are not supported")
    signed_counts = sorted({i for i in size_params if param_rule(ftype.params[i]).lo < 0})
    for i in signed_counts:  # a count C reads as negative: no buffer is right for it
        env[f"_ffk_ng{i}"] = functools.partial(_negative_count, Param(
            name, i, ftype.param_names[i], ftype.params[i]), rels)
        body.append(f"if _ffk_n{i} < 0: raise _ffk_ng{i}(_ffk_n{i})")
    for k, rel in enumerate(rels):  # sizes: checked after every argument is converted
        env[f"_ffk_z{k}"] = functools.partial(refusal, rel)
        b = rel.buffer
        if rel.size is None:
            body.append(f"if {rel.needed(None)} > _ffk_e{b} >= 0: raise _ffk_z{k}(None, _ffk_e{b})")
        else:
            need = f"_ffk_n{rel.size}" + (f" * {rel.unit}" if rel.unit != 1 else "")
            factor = "None"
            if rel.factor is not None:  # 'size * n': both non-negative, or nothing is needed
                factor = f"_ffk_n{rel.factor}"
                need = f"_ffk_max({need}, 0) * _ffk_max({factor}, 0)"
                env["_ffk_max"] = max
            body.append(f"if {need} > _ffk_e{b} >= 0: "
                        f"raise _ffk_z{k}(_ffk_n{rel.size}, _ffk_e{b}, {factor})")
    if facts.refused:  # no argument makes the call safe: refused before any conversion
        env["_ffk_refused"] = functools.partial(ArgumentError, facts.refused)
        body.insert(0, "raise _ffk_refused()")
    pointers = [p for p, t in zip(pnames, ftype.params) if param_rule(t).kind == "pointer"]
    call_args = ", ".join(split.get(p, p) for p in pnames)
    policy_args = ", ".join(pnames)
    signature = ", ".join(pnames) + (", /" if pnames else "")
    if ftype.variadic:
        fmt = facts.format if facts.format and facts.format[1] < len(pnames) else None
        env["_ffk_va"] = _Variadic((name, len(pnames), encoding, fmt))  # made with the wrapper
        signature += (", " if signature else "") + "*_ffk_extra"
        body.append(f"_ffk_vargs, _ffk_kv = _ffk_va(_ffk_extra{', ' + pnames[fmt[1]] if fmt else ''})")
        call_args += (", " if call_args else "") + "*_ffk_vargs"
        policy_args += (", " if policy_args else "") + "*_ffk_vargs"
    fn_name = "_ffk_function"  # never a parameter's name: 'int x(int x)' must see itself
    args_tuple = f"({policy_args},)" if policy_args else "()"
    result_line = f"        _ffk_result = _ffk_cfunc({call_args})"
    twin = by_value_class(restype) if isinstance(restype, type) else restype
    if twin is not restype and isinstance(restype, type) and \
            issubclass(restype, (ctypes.Structure, ctypes.Union)):  # a struct result: libffi
        # fills the twin, users get their class
        env["_ffk_rv"] = restype.from_buffer_copy
        restype = twin
        result_line = f"        _ffk_result = _ffk_rv(_ffk_cfunc({call_args}))"
    if facts.deallocators and resolve is not None and isinstance(m.resolve(ftype.result), m.Pointer):
        env["_ffk_own"] = owner(name, facts.deallocators, resolve, hooks)
        result_line = f"        _ffk_result = _ffk_own(_ffk_cfunc({call_args}))"
    elif pointers and isinstance(restype, type) and issubclass(restype, (_VoidPointerResult, ctypes._Pointer)):
        env["_ffk_pin"] = pin  # a result pointing into an argument keeps it alive
        pinned = [f"_ffk_k{i}" for i, t in enumerate(ftype.params) if param_rule(t).kind == "pointer"]
        body.insert(0, f"_ffk_orig = ({', '.join(pointers)},); {' = '.join(pinned)} = None")
        result_line = (f"        _ffk_result = _ffk_pin(_ffk_cfunc({call_args}), _ffk_orig, "
                       f"({', '.join(pointers)},), ({', '.join(pinned)},))")
    keeps = [f"_ffk_k{i}" for i, p in enumerate(ftype.params)  # what the call held alive:
             if param_rule(p).kind in ("pointer", "function_pointer")]  # a parked error's
    # traceback keeps this frame, and an owned pointer's lease must not outlive the call
    if body:  # a released memoryview, a closed mmap: an ffikit error naming the argument
        env["_ffk_FFIError"], env["_ffk_refuse_arg"] = FFIError, argument_refusal
        env["_ffk_name"], env["_ffk_pnames"] = name, tuple(ftype.param_names)
        body = ["try:", *(f"    {line}" for line in body), "except _ffk_FFIError: raise",
                "except (ValueError, OverflowError) as _ffk_exc: raise _ffk_refuse_arg("
                f"_ffk_exc, _ffk_name, _ffk_pnames, ({''.join(p + ', ' for p in pnames)})) from None"]
    lines = [f"def _ffk_make({', '.join(env)}):", f"    def {fn_name}({signature}):"]
    lines += [f"        {line}" for line in body]
    lines += [
        result_line,
        f"        _ffk_policy = {fn_name}.errors",
        "        if _ffk_policy is None: return _ffk_result",
        *([f"        {' = '.join(keeps)} = None  # leases end here, not with a traceback"]
          if keeps else []),
        f"        return _ffk_policy(_ffk_result, {fn_name}, {args_tuple})",
        f"    return {fn_name}",
    ]
    source = "\n".join(lines)
    del env["_ffk_cfunc"]
    declaration = ftype.c_name(name) + ";"
    return source, env, restype, declaration, _shown(source, name, shown), rels, fn_name, tuple(shown)


def _shown(source: str, name: str, params: list[str]) -> str:
    """The wrapper's source as users read it (``wrapper.source``): its own names in place."""
    for i in reversed(range(len(params))):  # _ffk_x10 before _ffk_x1
        source = source.replace(f"_ffk_x{i}", params[i])
    if name.isidentifier() and not keyword.iskeyword(name) and name not in params:
        source = source.replace("_ffk_function", name)
    return source
