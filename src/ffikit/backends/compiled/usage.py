"""The usage record: which declared functions a program used, for the next process.

Under ``backend="auto"`` a function runs on ctypes until its compiled wrapper
is built in the background.  A short program often exits before that build
ends (the compiler is killed at exit, nothing half-written stays), so the
record of what it used is written at exit too, not only after a successful
build: the next process reads it at its first bind, imports the module built
for those functions if one is cached, and otherwise starts building it in the
background at once, before its callers ask.

The record lists function *names* only, keyed by every declared name and the
encoding; each name is looked up again in the reading process's
declarations, so a stale or foreign record costs a build, never a wrong
wrapper.  It is a cache entry like the others (verified by its hash, written
atomically, counted in the size bound, removed by ``ffikit cache clear``).
"""

from __future__ import annotations

import atexit
import json
import os
import weakref
from collections.abc import Iterable

from ffikit import forksafe
from ffikit.cachedir import publish, read_entry, sha256_hex, trusted_root
from ffikit.errors import CompileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["usage_file", "read", "write", "remember"]

_pending: weakref.WeakSet = weakref.WeakSet()  # objects with an unwritten usage (record_usage())
_lock = forksafe.Lock()
_hooked: list[bool] = []


def usage_file(names: Iterable[str], encoding: str, *, create: bool = False,
               cache_dir: str | os.PathLike | None = None) -> str:
    """Where the record for a set of declared ``names`` read with ``encoding`` lives, in
    ``cache_dir`` (default: the cache directory in force now).

    Reading creates no cache directory (``create=False``).
    """
    key = "\0".join(sorted(names)) + "\0" + encoding
    return os.path.join(trusted_root(cache_dir, create=create),
                        f"uses-{sha256_hex(key.encode())[:24]}.json")


def read(path: str) -> list[str]:
    """The names recorded in ``path`` ([] when absent, unverified or not a record)."""
    names = (read_entry(path) or {}).get("names")
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def write(path: str, names: list[str]) -> bool:
    """Publish ``names`` as the record at ``path`` (atomically); False if the cache refused it."""
    try:
        publish(path, json.dumps({"names": names}).encode())
    except (CompileError, OSError):
        return False
    return True


def remember(owner: Any) -> None:
    """Have ``owner.record_usage()`` run at interpreter exit (once, unless it ran before)."""
    with _lock:
        _pending.add(owner)
        if not _hooked:
            _hooked.append(True)
            atexit.register(_at_exit)


def _at_exit() -> None:
    """Write every record still unwritten.  Runs before the builder is abandoned; each write
    is a rename of a whole file, so an exit never leaves a partial record."""
    with _lock:
        owners = list(_pending)
        _pending.clear()
    for owner in owners:
        try:
            owner.record_usage()
        except Exception:  # noqa: BLE001, S110 - exit must never show a traceback for a cache entry
            pass
