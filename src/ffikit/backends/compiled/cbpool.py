"""C callback pools: per C signature, a generated module of compiled callback slots.

A callback pool (``runtime/cbpool.c``) is a fixed number of C functions of one
signature; each converts its C arguments to Python objects, calls its Python
target and converts the result back (range checks included) in C, with no
Python frame in between, which is what makes a callback from C cheaper than a
ctypes thunk.  No code is made at run time: the slots are compiled once per
signature (cached by :func:`ffikit.build` like every compiled module) and then
lent (a plain callable, for one call of a compiled wrapper) or held (an
``ffikit.callback``); they are never freed.

Signatures it takes: results ``void``, the integer types, ``_Bool``,
``float``, ``double``; arguments those (but ``void``) and ``void *``,
``char``, ``char *`` as ctypes gives them (:func:`codes`).  Anything else --
typed pointers, structs, ``errno``-saving function types -- stays a ctypes
thunk, as does everything when the pool is not built yet or every slot is
taken.  Under ``backend="auto"`` the pool is built in the background
(:mod:`~ffikit.backends.compiled.background`) and callbacks made before it is
ready stay ctypes thunks; ``"compiled"`` (or ``$FFIKIT_BUILD=sync``) builds it
at once; ``"ctypes"`` never uses it.
"""

from __future__ import annotations

import ctypes
import os
import sys
import sysconfig
from pathlib import Path

from ffikit import forksafe
from ffikit.backends.compiled import background
from ffikit.backends.compiled.extload import import_extension
from ffikit.backends.compiled.runtime import RUNTIME_DIR
from ffikit.backends.ctypes import cbhooks
from ffikit.backends.ctypes.callerrors import result_checker
from ffikit.backends.ctypes.types import ctype_int_range
from ffikit.build import build, built
from ffikit.cachedir import sha256_hex
from ffikit.errors import CompileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["codes", "generate", "pool_for", "lend_pool", "POOL_ATTR", "loaded"]

POOL_ATTR = "_ffikit_pool_"  # the capsule a function-pointer class carries (cbpool.h)
SLOTS = 256
_CDECL = ctypes.CFUNCTYPE(None)._flags_  # type: ignore[attr-defined]
_Simple = ctypes.c_int.__mro__[1]

_C_TYPES = {"b": "signed char", "B": "unsigned char", "h": "short", "H": "unsigned short",
            "i": "int", "I": "unsigned int", "l": "long", "L": "unsigned long", "q": "long long",
            "Q": "unsigned long long", "?": "_Bool", "d": "double", "f": "float", "P": "void *",
            "z": "const char *", "c": "char", "v": "void"}
_ARGS = {"b": "PyLong_FromLong", "h": "PyLong_FromLong", "i": "PyLong_FromLong",
         "l": "PyLong_FromLong", "q": "PyLong_FromLongLong", "B": "PyLong_FromUnsignedLong",
         "H": "PyLong_FromUnsignedLong", "I": "PyLong_FromUnsignedLong",
         "L": "PyLong_FromUnsignedLong", "Q": "PyLong_FromUnsignedLongLong", "?": "PyBool_FromLong",
         "d": "PyFloat_FromDouble", "f": "PyFloat_FromDouble", "P": "FFK_CB_PTR", "z": "FFK_CB_STR"}
_INT_RESULTS = "bBhHiIlLqQ?"
_RESULTS = _INT_RESULTS + "dfv"

_modules: dict[tuple, Any] = {}  # signature codes -> loaded pool module
_failed: set[tuple] = set()  # signatures whose pool did not build: ctypes thunks for good
_waiting: dict[tuple, list[type]] = {}  # signature codes -> classes to tag when it is built
_lock = forksafe.Lock()


def _code(t: object, allowed: str) -> str | None:
    if t is None:
        return "v" if "v" in allowed else None
    if isinstance(t, type) and t.__bases__ == (_Simple,):  # exactly a simple type (no subclass)
        code = getattr(t, "_type_", None)
        if isinstance(code, str) and code in allowed:
            return code
    return None


def codes(fp_type: type) -> tuple[str, tuple[str, ...]] | None:
    """``(result code, argument codes)`` of a CFUNCTYPE class a pool can serve, else None."""
    if getattr(fp_type, "_flags_", None) != _CDECL:  # errno-saving, stdcall: ctypes thunks
        return None
    result = _code(getattr(fp_type, "_restype_", 0), _RESULTS)
    args = [_code(a, "".join(_ARGS) + "c") for a in getattr(fp_type, "_argtypes_", None) or ()]
    if result is None or None in args or fp_type._argtypes_ is None:  # type: ignore[attr-defined]
        return None
    return result, tuple(args)  # type: ignore[arg-type]


def _limits(code: str) -> str:
    """``lo, hi, unsigned, uhi`` for ffk_cb_int (the ctypes type's range)."""
    t = {c: getattr(ctypes, n) for c, n in (("b", "c_byte"), ("B", "c_ubyte"), ("h", "c_short"),
                                            ("H", "c_ushort"), ("i", "c_int"), ("I", "c_uint"),
                                            ("l", "c_long"), ("L", "c_ulong"), ("q", "c_longlong"),
                                            ("Q", "c_ulonglong"), ("?", "c_bool"))}[code]
    lo, hi = ctype_int_range(t)
    if lo < 0:
        return f"{lo + 1}LL - 1, {hi}LL, 0, 0"
    return f"0, 0, 1, {hi}ULL"


def _arg(code: str, i: int) -> str:
    if code == "c":
        return f"PyBytes_FromStringAndSize(&a{i}, 1)"
    if code == "f":
        return f"PyFloat_FromDouble((double)a{i})"
    return f"{_ARGS[code]}(a{i})"


def generate(sig: tuple[str, tuple[str, ...]], slots: int = SLOTS) -> tuple[str, str]:
    """``(module name, C source)`` of the pool for signature codes ``sig``."""
    result, args = sig
    rc = _C_TYPES[result]
    params = ", ".join(f"{_C_TYPES[a]} a{i}" for i, a in enumerate(args)) or "void"
    names = ", ".join(f"a{i}" for i in range(len(args)))
    n = len(args)
    void = result == "v"
    if void:
        convert, zero, fallback = "ffk_cb_void(&c, res);", "return;", ""
    elif result in "df":
        convert = f"out = ({rc})ffk_cb_double(&c, res, {int(result == 'f')});"
        zero, fallback = "return 0;", f"out = ({rc})s->fb_d;"
    else:
        convert = f"out = ({rc})ffk_cb_int(&c, res, {_limits(result)});"
        zero, fallback = "return 0;", f"out = ({rc})s->fb_i;"
    lines = [
        f"/* {rc} ({params}): {slots} slots */",
        f"#define FFK_CB_SLOTS {slots}",
        '#include "cbpool.c"',
        "",
        "static " + rc,
        f"ffk_cbd(ffk_cbslot *s{', ' if args else ''}{params if args else ''})",
        "{",
        "    ffk_cbcall c;",
        f"    PyObject *argv[{n + 1}], *res;",
        *([] if void else [f"    {rc} out;"]),
        f"    if (!ffk_cb_enter(s, &c)) {zero}",
        "    if (c.fn == NULL) {",
        *([f"        {fallback}"] if fallback else []),
        f"        ffk_cb_released(&c, {int(void)});",
        "        ffk_cb_leave(&c);",
        f"        {'return;' if void else 'return out;'}",
        "    }",
        "    argv[0] = NULL;",
        *(f"    argv[{i + 1}] = {_arg(a, i)};" for i, a in enumerate(args)),
        f"    res = ffk_cb_call(&c, argv + 1, {n});",
        f"    {convert}",
        "    ffk_cb_leave(&c);",
        *([] if void else ["    return out;"]),
        "}",
        "",
    ]
    ret = "" if void else "return "
    for k in range(slots):
        lines.append(f"static {rc} ffk_t{k}({params}) {{ {ret}ffk_cbd(&ffk_slots[{k}]"
                     f"{', ' if args else ''}{names}); }}")
    lines.append(f"static void *const ffk_cb_table[{slots}] = {{")
    lines += [", ".join(f"(void *)ffk_t{k}" for k in range(j, min(j + 8, slots))) + ","
              for j in range(0, slots, 8)]
    lines.append("};")
    body = "\n".join(lines)
    abi = f"/* {sys.implementation.cache_tag} {sys.abiflags} {sys.version} */"
    runtime = b"".join(Path(RUNTIME_DIR, f).read_bytes() for f in ("cbpool.h", "cbpool.c"))
    digest = sha256_hex(abi.encode() + runtime + body.encode())[:16]
    modname = f"_ffikit_cb_{digest}"
    source = "\n".join([abi, body, f"PyMODINIT_FUNC PyInit_{modname}(void);", "PyMODINIT_FUNC",
                        f"PyInit_{modname}(void)", "{",
                        f'    return ffk_cb_init("{modname}", ffk_cb_table);', "}", ""])
    return modname, source


def _options(modname: str) -> dict:
    flags = ["-O2", "-fvisibility=hidden"]
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]
    return {"name": modname.lstrip("_"), "flags": flags,
            "include_dirs": [sysconfig.get_paths()["include"], RUNTIME_DIR]}


def _load(sig: tuple, compile: bool) -> Any:
    """The pool module for ``sig``: imported from the cache, or built when ``compile``."""
    module = _modules.get(sig)
    if module is not None or sig in _failed:
        return module
    modname, source = generate(sig)
    try:
        path = (build if compile else built)(source, **_options(modname))
    except (CompileError, OSError) as exc:
        _failed.add(sig)
        if not background.exiting():
            import logging

            logging.getLogger("ffikit.backends.compiled").warning(
                "ffikit: building a C callback pool failed; callbacks of this signature stay "
                "ctypes thunks: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return None
    if path is None:
        return None
    with _lock:
        module = _modules.get(sig)
        if module is None:
            module = import_extension(modname, path)
            restype = (None if sig[0] == "v" else ctypes.c_double if sig[0] == "d"
                       else ctypes.c_float if sig[0] == "f" else _restype_of(sig[0]))
            module.setup(*cbhooks.setup_args(result_checker(restype, 0)))
            cbhooks.register_pool(module)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=module.after_fork)
            _modules[sig] = module
        for fp_type in _waiting.pop(sig, ()):
            setattr(fp_type, POOL_ATTR, module.capsule)
    return module


def _restype_of(code: str) -> type:
    for t in (ctypes.c_byte, ctypes.c_ubyte, ctypes.c_short, ctypes.c_ushort, ctypes.c_int,
              ctypes.c_uint, ctypes.c_long, ctypes.c_ulong, ctypes.c_longlong, ctypes.c_ulonglong,
              ctypes.c_bool):
        if t._type_ == code:  # type: ignore[attr-defined]
            return t
    raise KeyError(code)


class _Build:
    """One pool built on the background builder thread."""

    def __init__(self, sig: tuple):
        self.sig = sig

    def build_pending(self) -> None:
        _load(self.sig, compile=True)


def _find(fp_type: type, compile: bool) -> Any:
    sig = codes(fp_type)
    if sig is None:
        return None
    module = _modules.get(sig) or _load(sig, compile=compile)
    if module is not None:
        if getattr(fp_type, POOL_ATTR, None) is not module.capsule:
            setattr(fp_type, POOL_ATTR, module.capsule)
        return module
    if sig in _failed:
        return None
    with _lock:
        first = sig not in _waiting
        waiting = _waiting.setdefault(sig, [])
        if fp_type not in waiting:
            waiting.append(fp_type)
    if first:
        background.schedule(_Build(sig))
    return None


def pool_for(fp_type: type) -> Any:
    """The pool module for a held callback of ``fp_type``, or None (a ctypes thunk).

    The backend chosen as for a library (``$FFIKIT_BACKEND``): ``ctypes`` -- never;
    ``compiled`` -- built now if need be; ``auto`` -- only once built (the build is
    started in the background, never waited for).
    """
    from ffikit.backends.compiled import choose_backend

    try:
        backend, _why, forced = choose_backend()
    except (CompileError, ValueError):
        return None
    if backend != "compiled":
        return None
    return _find(fp_type, compile=forced or background.synchronous())


def lend_pool(fp_type: type) -> None:
    """A compiled wrapper will lend slots for ``fp_type``: have its class carry the pool's
    capsule (now if the pool is built, else once the background build is done)."""
    from ffikit.backends.compiled import choose_backend

    try:
        _backend, _why, forced = choose_backend()
    except (CompileError, ValueError):
        forced = False
    _find(fp_type, compile=forced or background.synchronous())


def loaded() -> dict[tuple, Any]:
    """The pool modules loaded so far, by signature codes (for tests and ``ffikit doctor``)."""
    return dict(_modules)
