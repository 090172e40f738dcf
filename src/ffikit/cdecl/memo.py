"""The memo of ``cdef``/``include`` results: the same arguments give the same object.

Bounded (least recently used first out, :data:`MEMO_SIZE`), so a process declaring
many distinct texts (a generator, a fuzzer) does not grow without bound; the
declarations made so far are also listed weakly, newest last, so type names used
without ``defs=`` (``ffikit.view(buf, "Student[]")``) resolve against those alive.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable

from ffikit import forksafe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MEMO_SIZE", "memoised", "recent_declarations"]

# cdef/include results by their arguments, least recently used first.  Parsing the same
# text again returns the same object; the MEMO_SIZE most recently used are kept, so a
# process declaring many distinct texts (a generator, a fuzzer) does not grow without bound.
MEMO_SIZE = 256
_memo: OrderedDict = OrderedDict()
_memo_lock = forksafe.Lock()


def memoised(key: Any, make: Callable[[], Any], recipe: tuple) -> Any:
    found = _memo.get(key)
    if found is not None:
        with _memo_lock:
            if key in _memo:
                _memo.move_to_end(key)  # recently used: evicted last
        return found
    result = make()
    result._recipe = recipe  # what rebuilds it in another process (see __reduce__)
    with _memo_lock:
        found = _memo.setdefault(key, result)
        if found is result:
            while len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
            if len(_recent) >= 2 * MEMO_SIZE and len(_recent) >= 2 * _live_at_prune[0]:
                _recent[:] = [r for r in _recent if r() is not None]  # amortised: O(1) each
                _live_at_prune[0] = len(_recent)
            _recent.append(weakref.ref(result))
        return found


# Declarations made so far, newest last, held weakly: type names used without ``defs=``
# (``ffikit.view(buf, "Student[]")``) resolve against those still alive (held by the
# user, or among the MEMO_SIZE most recently used).
_recent: list[weakref.ref] = []
_live_at_prune = [0]


def recent_declarations() -> list[Any]:
    """The declarations made so far that are still alive, newest first."""
    return [d for d in (r() for r in reversed(list(_recent))) if d is not None]
