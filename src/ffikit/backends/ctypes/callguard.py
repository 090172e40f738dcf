"""When a callback from C may run Python: not once the interpreter is exiting, not without C stack.

Two ways a thunk called from C used to take the process down:

* **Interpreter exit.**  A thread started in C keeps calling back while the
  main thread finalises the interpreter; the callback's code (and the
  reporting of its exceptions) then runs against modules being torn down.
  From the moment Python runs its ``atexit`` handlers (after every
  non-daemon Python thread was joined), every thunk's target is
  :func:`after_exit`, which gives C its zero value and counts the call in
  :data:`STATE` (``calls_after_exit``).  The exit handler then waits (up to
  :data:`DRAIN_SECONDS`, the GIL released) for callbacks already running
  (:data:`INFLIGHT`) to return, so none is inside Python when the
  interpreter deletes the other threads' states.  Last, every thunk is
  *sealed* (:func:`seal`): its libffi closure is pointed at a C function that
  returns at once (``sched_yield``), because a C thread that enters a ctypes
  thunk while CPython finalises crashes inside ``PyGILState_Ensure``, before
  any Python runs.  From then on C gets an undefined result from the thunk;
  the process is ending.
* **Recursion through C.**  Python -> C -> Python -> C ... uses C stack on
  every level (about 3 KB with CPython 3.11), and on a thread with a small
  stack the stack runs out long before Python's recursion limit: SIGSEGV.
  When more than :data:`CHECK_FROM` callbacks are running (nested on one
  thread, or on several), a callback first checks the C stack left on its thread (the stack bounds
  from ``pthread_getattr_np``, the stack pointer from ``getcontext`` on
  x86-64 Linux; elsewhere an estimate of 16 KB per level) and, with less than
  :data:`MARGIN` bytes left, raises :class:`~ffikit.CallbackRecursion`
  (parked for the enclosing ffikit call like any callback exception) and C
  gets the callback's ``on_error``.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time

from ffikit import forksafe
from ffikit.cdecl.platforms import host_machine

__all__ = ["STATE", "CHECK_FROM", "MARGIN", "LOCAL", "INFLIGHT", "stack_left", "seal", "drain",
           "after_exit"]

STATE = {"exiting": False, "calls_after_exit": 0}
CHECK_FROM = 4  # nested callbacks on one thread before the stack is checked
MARGIN = 64 * 1024  # C stack a callback needs to run and report an exception
_PER_LEVEL = 16 * 1024  # the estimate where the stack pointer cannot be read
LOCAL = threading.local()  # .stack: this thread's (low address, size), or None


INFLIGHT: list = []  # one item per callback running now, on any thread (append/pop: atomic)
DRAIN_SECONDS = 1.0  # at exit, how long to wait for running callbacks to return


def after_exit(zero: object):
    """The callable every thunk runs from exit on: C gets ``zero``, and the call is counted."""
    def exited(*args: object) -> object:
        STATE["calls_after_exit"] += 1
        return zero
    exited.__qualname__ = "(after interpreter exit)"
    return exited


def drain() -> None:
    """Wait (GIL released) for the callbacks running now, so no thread is inside Python code
    when the interpreter deletes the other threads' states."""
    STATE["exiting"] = True
    deadline = time.monotonic() + DRAIN_SECONDS
    while INFLIGHT and time.monotonic() < deadline:
        time.sleep(0.001)


def _libc_functions():
    if not sys.platform.startswith("linux"):
        return None, None
    try:
        libc = ctypes.CDLL(None)
        getattr_np, getstack = libc.pthread_getattr_np, libc.pthread_attr_getstack
        self_, destroy = libc.pthread_self, libc.pthread_attr_destroy
    except (OSError, AttributeError):
        return None, None
    self_.restype = ctypes.c_ulong
    getattr_np.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
    getstack.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                         ctypes.POINTER(ctypes.c_size_t)]
    destroy.argtypes = [ctypes.c_void_p]

    def bounds() -> tuple[int, int] | None:
        attr = ctypes.create_string_buffer(256)  # pthread_attr_t is 56 bytes on x86-64
        if getattr_np(self_(), attr) != 0:
            return None
        low, size = ctypes.c_void_p(), ctypes.c_size_t()
        try:
            if getstack(attr, ctypes.byref(low), ctypes.byref(size)) != 0:
                return None
        finally:
            destroy(attr)
        return (low.value or 0), size.value

    pointer = None
    if host_machine() in ("x86_64", "amd64"):
        getcontext = getattr(libc, "getcontext", None)
        if getcontext is not None:
            context = ctypes.create_string_buffer(4096)  # ucontext_t: 968 bytes on x86-64

            def pointer() -> int:  # gregs[REG_RSP]: 40 bytes in, register 15 of 8 bytes
                with _context_lock:
                    getcontext(context)
                    return ctypes.c_uint64.from_buffer(context, 40 + 15 * 8).value

    return bounds, pointer


_context_lock = forksafe.Lock()
_bounds, _stack_pointer = _libc_functions()


def stack_left(depth: int) -> int | None:
    """Bytes of C stack left on this thread (an estimate without a stack pointer), or None."""
    found: tuple[int, int] | int | None = getattr(LOCAL, "stack", 0)  # 0: not asked yet
    if found == 0:
        found = LOCAL.stack = _bounds() if _bounds is not None else None
    if not isinstance(found, tuple):  # None: this thread's stack is not known
        return None
    low, size = found
    if _stack_pointer is not None:
        sp = _stack_pointer()
        if low < sp <= low + size:
            return sp - low
    return size - depth * _PER_LEVEL


_VAR_HEAD = 3 * ctypes.sizeof(ctypes.c_void_p)  # CThunkObject: PyObject_VAR_HEAD, then pcl_write
_P = ctypes.sizeof(ctypes.c_void_p)


def _sealer():
    """``thunk -> bool``: point a ctypes thunk's closure at ``sched_yield`` (layout checked)."""
    if not SYSV_CLOSURE:
        return None
    try:
        stub = ctypes.cast(ctypes.CDLL(None).sched_yield, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    read = ctypes.c_void_p.from_address

    def seal_one(thunk: object) -> bool:
        inner = getattr(thunk, "_objects", None) or {}
        cthunk = inner.get("0") if isinstance(inner, dict) else None
        if type(cthunk).__name__ != "CThunkObject":
            return False
        base = id(cthunk)
        closure = read(base + _VAR_HEAD).value
        # ffi_closure on x86-64: 32 bytes of trampoline, then cif, fun, user_data; ctypes
        # puts the thunk's own cif after pcl_write and pcl_exec, and itself as user_data
        if not closure or read(closure + 32).value != base + _VAR_HEAD + 2 * _P \
                or read(closure + 48).value != base:
            return False
        read(closure + 40).value = stub
        return True

    return seal_one


SYSV_CLOSURE = sys.platform.startswith("linux") and host_machine() in ("x86_64", "amd64")
_seal_one = _sealer()


def seal(thunks: list) -> int:
    """Seal every thunk in ``thunks`` (at exit); how many could be sealed.

    Threads already inside a thunk's trampoline (waiting for the GIL) are let
    through first: they return at once (``exiting``); the GIL is released
    until no more of them arrive for two intervals in a row.
    """
    if _seal_one is None or not thunks:
        return 0
    sealed = sum(_seal_one(t) for t in thunks)
    deadline = time.monotonic() + DRAIN_SECONDS
    seen, quiet = -1, 0
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
        count = STATE["calls_after_exit"]
        quiet = quiet + 1 if count == seen else 0
        seen = count
    return sealed
