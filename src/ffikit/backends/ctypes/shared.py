"""One ctypes class per C struct/union type in the process.

The key is :func:`ffikit.cdecl.identity.identity`: the same struct reached
from two headers, or by two ``include()`` calls, maps to the class made
first, so a ``struct archive_entry *`` from one :class:`Library` is accepted
by another.  A class made for an opaque struct is completed by the first
complete struct of its tag that arrives.  Callers hold the types module's lock.
"""

from __future__ import annotations

from collections.abc import Callable

from ffikit.cdecl.identity import identity, tag_of
from ffikit.cdecl.layout import Platform
from ffikit.cdecl.model import StructOrUnion

__all__ = ["find", "remember", "forget"]

_classes: dict = {}  # (identity, platform name) -> class
_claimed: set = set()  # classes some complete struct has made (or adopted) its own


def find(t: StructOrUnion, plat: Platform, complete: Callable | bool = False) -> type | None:
    """The class already made for ``t``'s C type, if any.  With ``complete`` (a callable
    giving a class ``t``'s members), a class made for an opaque struct of ``t``'s tag is
    completed and becomes ``t``'s, unless ctypes already froze it (an instance was made)."""
    key = identity(t, plat)
    if key is None:
        return None
    found = _classes.get((key, plat.name))
    if found is not None or t.fields is None or not callable(complete):
        return found
    tag = tag_of(t)
    opaque = _classes.get((tag, plat.name)) if tag else None
    if opaque is None or opaque in _claimed or opaque._ffikit_layout_ is not None:
        return None
    previous, init = opaque._ffikit_type_, opaque.__dict__.get("__init__")
    opaque._ffikit_type_ = t
    try:
        complete(opaque, t, plat)
    except AttributeError:  # '_fields_ is final': this class stays opaque
        opaque._ffikit_type_ = previous
        if init is not None:
            opaque.__init__ = init  # still refuses instances
        _claimed.add(opaque)
        return None
    remember(opaque, t, plat, key)
    return opaque


def remember(cls: type, t: StructOrUnion, plat: Platform, key: tuple | None = None) -> None:
    """Record ``cls`` as the class of ``t``'s C type (and of its tag, if still free)."""
    key = key or identity(t, plat)
    if key is None:
        return
    _classes.setdefault((key, plat.name), cls)
    if t.fields is not None:
        _claimed.add(cls)
    tag = tag_of(t)
    if tag is not None:
        _classes.setdefault((tag, plat.name), cls)


def forget(cls: type) -> None:
    """Drop a class whose members could not be made (no half-built class is shared)."""
    for key in [k for k, v in _classes.items() if v is cls]:
        del _classes[key]
    _claimed.discard(cls)
