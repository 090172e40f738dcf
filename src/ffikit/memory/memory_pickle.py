"""``ffikit.Memory`` pickles by value: its item type, count and bytes.

Owned memory cannot travel by address (the receiving process has other memory);
what arrives is new memory the receiver owns, holding a copy.  Protected or
freed memory is refused rather than pickled as something it is not.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["reduce_memory"]


def reduce_memory(mem: Any, protocol: int, rebuild: Any) -> tuple:
    """``Memory`` pickles by value: ``(item type, count, bytes)``.

    With pickle protocol 5 the bytes travel as a :class:`pickle.PickleBuffer`
    over the region itself: no copy on the sending side, and none in transit
    where the transport takes out-of-band buffers (``buffer_callback``,
    multiprocessing with protocol 5, Dask); the receiver copies them once into
    memory it owns, through ``rebuild(item type, count, data)``.
    """
    import pickle

    from ffikit.errors import NotPicklable

    mode = mem.protection
    if mode == "freed":
        raise NotPicklable("cannot pickle this ffikit.Memory: it was freed (use after free)")
    if mode != "rw":
        raise NotPicklable(
            f"cannot pickle this ffikit.Memory: its pages are protected {mode!r}, "
            "so the copy could not keep the protection; call protect('rw') first, "
            "or pickle bytes(m.region()) yourself")
    data = mem.region()
    item_size = mem._spec.item_size or 1
    payload = pickle.PickleBuffer(data) if protocol >= 5 else data.tobytes()
    return (rebuild, (mem.ctype, mem.size // item_size, payload))
