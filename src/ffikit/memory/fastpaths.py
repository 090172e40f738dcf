"""The public ``ffikit.view`` and ``ffikit.alloc``: C for their common cases once built.

``ffikit.memory.views.view`` and ``ffikit.memory.owned.alloc`` are the
functions (documented, typed, every check).  What ``ffikit.view`` and
``ffikit.alloc`` name is the compiled backend's C twin of each when its module
is in the build cache (:mod:`ffikit.backends.compiled.fastmem`): it does their
common case in C from the same caches and hands every other call to them.
Type checkers see the Python functions.
"""

from __future__ import annotations

from ffikit.memory import owned, tracking, views
from ffikit.memory.openviews import OPEN_TYPES
from ffikit.memory.owned import Memory

TYPE_CHECKING = False

__all__ = ["view", "alloc"]

if TYPE_CHECKING:
    from ffikit.memory.owned import alloc as alloc
    from ffikit.memory.views import view as view
else:
    from ffikit.backends.compiled.fastmem import fast_functions

    view, alloc = fast_functions(
        views.view, owned.alloc, plain=views._PLAIN_BUFFERS, view_cache=views._fast_cache,
        open_cache=OPEN_TYPES,
        heap_cache=owned.HEAP_FAST, memory_type=Memory, tracking=tracking, heap_max=owned.HEAP_MAX,
        module_name=__name__)
