"""A pointer result keeps alive the arguments it could point into.

``char *second(char **argv)`` returning ``argv[1]``, ``strchr("text", c)``
or ``memchr(bytearray(...), c, n)`` return a pointer into memory that only
the call's arguments hold: the temporary array ffikit built from a list,
the bytes it encoded from a ``str``, a buffer passed as a temporary.  When
the call returns those are freed and the result dangles (``string(r)``
reads freed memory).  So a non-NULL pointer result of a function with
pointer parameters carries every pointer argument of its call -- as the
caller gave it, as converted for C, and the copies made for it -- for as
long as the result lives.
Checking whether the address really lies inside each argument would cost
more than the call (a ctypes address read is ~0.5 us); holding a reference
costs one attribute store.  A buffer is held with its export, as a pointer
member holds one: while the result lives, a ``bytearray`` it may point into
cannot be resized (which would leave the pointer dangling).
"""

from __future__ import annotations

__all__ = ["pin", "KEEP"]

KEEP = "_ffikit_keep"


def pin(result, originals: tuple, passed: tuple, temporaries: tuple):
    """``result`` (a ctypes pointer), holding the call's pointer arguments unless NULL:
    ``originals`` as given, ``passed`` as converted for C, ``temporaries`` what the
    converters made or exported for the call."""
    if result:
        result._ffikit_keep = (originals, passed, temporaries)
    return result
