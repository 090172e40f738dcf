"""Is an address range of this process mapped, readable and (if asked) writable?

Raw addresses (``ffikit.buffer(address, size)``, pointers read out of memory)
are checked here before ffikit reads or writes through them, so a bogus
address raises :class:`~ffikit.InvalidAddress` instead of killing the process.

Two sources, each used for what it can prove:

* **readable, now**: ``process_vm_readv`` on this process copies one byte of
  every page of the range; the kernel answers ``EFAULT`` for an unmapped or
  ``PROT_NONE`` page instead of faulting.  Fresh on every check.  Above 64
  pages (reading every page would commit untouched memory) only the first and
  last byte are read this way, ``mincore`` proves every page is still mapped,
  and the maps table below vouches for the protection of the rest.
* **writable, now**: ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14+) prefaults
  the pages as a write would, and fails instead of faulting on read-only or
  unmapped pages, without writing anything.  For ranges over 64 pages only the
  first and last page are probed this way (prefaulting a whole large range
  would commit its memory) and the permissions in ``/proc/self/maps`` vouch
  for the rest: a sorted table, cached and re-read whenever it does not vouch
  for a range (reading it costs about 0.3 ms).  :func:`forget` drops it.

Where neither exists (not Linux), nothing can be proved and every check
refuses, naming the ``unsafe=True`` opt-in.
"""

from __future__ import annotations

import bisect
import ctypes
import os
import sys

from ffikit import forksafe
from ffikit.errors import InvalidAddress

__all__ = ["check_range", "forget", "is_readable", "is_writable", "permissions"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_ADDRESS_LIMIT = 1 << (8 * ctypes.sizeof(ctypes.c_void_p))
_MAPS = "/proc/self/maps"
_lock = forksafe.Lock()
_starts: list[int] = []
_table: list[tuple[int, int, str]] = []  # (start, end, perms) sorted by start
_loaded = False


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _vm_reader():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.process_vm_readv
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_ssize_t
    fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p,
                   ctypes.c_ulong, ctypes.c_ulong]
    return fn


_readv = _vm_reader()
_readv_raw = None
if _readv is not None:  # the same function without argtypes: prebuilt arguments go straight in
    _readv_raw = ctypes.CDLL(None, use_errno=True)["process_vm_readv"]
    _readv_raw.restype = ctypes.c_ssize_t
_BATCH = 1024  # IOV_MAX
_scratch = (ctypes.c_char * _BATCH)()
_local = (_IoVec * _BATCH)(*[_IoVec(ctypes.addressof(_scratch) + i, 1) for i in range(_BATCH)])
_remote = (_IoVec * _BATCH)()
_SMALL = 2 * _PAGE
_small_scratch = (ctypes.c_char * _SMALL)()
# The one-range probe, kept cheap: [local iovec, remote iovec] as four machine words
# (set by index, not through ctypes fields) and prebuilt ctypes arguments.
_pair = (_IoVec * 2)(_IoVec(ctypes.addressof(_small_scratch), 0), _IoVec(0, 0))
_one_words = (ctypes.c_size_t * 4).from_buffer(_pair)  # local.base, local.len, remote.base, .len
_one_local_p = ctypes.c_void_p(ctypes.addressof(_pair))
_one_remote_p = ctypes.c_void_p(ctypes.addressof(_pair) + ctypes.sizeof(_IoVec))
_ONE = ctypes.c_ulong(1)
_NO_FLAGS = ctypes.c_ulong(0)
_probe_lock = forksafe.Lock()
_probe_works: bool | None = None
_populate = None  # set below, once the scratch page exists


def is_readable(address: int, size: int) -> bool | None:
    """True if every page of the range can be read now, False if one cannot, None if unknown."""
    global _probe_works
    if _readv_raw is None or _probe_works is False:  # set exactly when _readv is
        return None
    pid = os.getpid()
    if size <= _SMALL:  # one copy of the whole range into scratch memory
        with _probe_lock:
            _one_words[1] = _one_words[3] = size
            _one_words[2] = address
            got = _readv_raw(pid, _one_local_p, _ONE, _one_remote_p, _ONE, _NO_FLAGS)
        if got == size:
            _probe_works = True
            return True
        if got >= 0 or ctypes.get_errno() == 14:
            _probe_works = True
            return False
        _probe_works = False
        return None
    first = address - address % _PAGE
    pages = range(first, address + size, _PAGE)
    if len(pages) > _WHOLE_PROBE:  # reading every page would commit untouched memory
        if _mincore is not None:
            vec = ctypes.create_string_buffer(len(pages))
            if _mincore(first, len(pages) * _PAGE, vec) != 0:
                return False  # ENOMEM: a page of the range is not mapped, now
        ends = is_readable(address, 1), is_readable(address + size - 1, 1)
        return False if False in ends else None  # the maps table vouches for the middle
    with _probe_lock:
        for offset in range(0, len(pages), _BATCH):
            batch = pages[offset:offset + _BATCH]
            for i, page in enumerate(batch):
                _remote[i].base = max(page, address)
                _remote[i].len = 1
            n = len(batch)
            got = _readv(pid, ctypes.addressof(_local), n, ctypes.addressof(_remote), n, 0)
            if got == n:
                continue
            errno = ctypes.get_errno()
            if got >= 0 or errno == 14:  # EFAULT, or a short read: a page is not readable
                _probe_works = True
                return False
            _probe_works = False  # ENOSYS, EPERM (seccomp): fall back to the maps table
            return None
    _probe_works = True
    return True


def _libc_function(name: str, restype: type, argtypes: list):
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_mincore = _libc_function("mincore", ctypes.c_int, [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p])


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    own = ctypes.addressof(_small_scratch)
    page = own - own % _PAGE
    if fn(page, _PAGE, _POPULATE_WRITE) != 0:  # older kernels: unknown advice
        return None
    return fn


_POPULATE_WRITE = 23
_WHOLE_PROBE = 64  # pages


def is_writable(address: int, size: int) -> bool | None:
    """True if the range can be written now, False if not, None if unknown (or only its ends
    were probed: a range of more than 64 pages)."""
    if _populate is None:
        return None
    first = address - address % _PAGE
    end = -(-(address + size) // _PAGE) * _PAGE
    if end - first <= _WHOLE_PROBE * _PAGE:
        return _populate(first, end - first, _POPULATE_WRITE) == 0
    if _populate(first, _PAGE, _POPULATE_WRITE) or _populate(end - _PAGE, _PAGE, _POPULATE_WRITE):
        return False
    return None


def _load() -> None:
    global _loaded, _starts, _table
    table = []
    with open(_MAPS, "rb") as fh:
        for line in fh.read().splitlines():
            fields = line.split(None, 2)
            if len(fields) < 2:
                continue
            lo, _, hi = fields[0].partition(b"-")
            table.append((int(lo, 16), int(hi, 16), fields[1].decode("ascii", "replace")))
    table.sort()
    _table, _starts, _loaded = table, [t[0] for t in table], True


def forget() -> None:
    """Drop the cached mappings: the next check re-reads ``/proc/self/maps``."""
    global _loaded
    _loaded = False


def permissions(address: int, size: int, *, refresh: bool = False) -> str | None:
    """The permissions (``"r"``, ``"w"``, ``"x"`` letters) held by *every* page of the range.

    ``None`` when part of the range is not mapped (or there is no maps table).
    """
    with _lock:
        if refresh or not _loaded:
            try:
                _load()
            except OSError:
                return None
        table, starts = _table, _starts
    i = bisect.bisect_right(starts, address) - 1
    end = address + max(size, 1)
    cursor = address
    common = {"r", "w", "x"}
    while cursor < end:
        if i < 0 or i >= len(table):
            return None
        lo, hi, perms = table[i]
        if not lo <= cursor < hi:
            return None
        common &= set(perms[:3]) - {"-"}
        cursor = hi
        i += 1
    return "".join(sorted(common, key="rwx".index))


def check_range(address: int, size: int, *, write: bool, what: str) -> None:
    """Raise :class:`~ffikit.InvalidAddress` unless ``size`` bytes at ``address`` may be
    read (and, with ``write``, written) without a fault.

    ``what`` starts the message (``"ffikit.buffer"``); the message names the
    range, what is wrong with it and the ``unsafe=True`` opt-in.
    """
    if type(address) is not int:
        if not isinstance(address, int) or isinstance(address, bool):
            raise InvalidAddress(f"{what}: an address is an int, not {type(address).__name__}")
        address = int(address)
    if 0 < address and address + size <= _ADDRESS_LIMIT and 0 < size <= _SMALL and not write \
            and _probe_works and is_readable(address, size):
        return  # the common case, kept short: a small read-only range, readable now
    span = f"{address:#x} (+{size} bytes)" if address >= 0 else f"{address} (+{size} bytes)"
    if address <= 0 or address + size > _ADDRESS_LIMIT:
        why = "NULL" if address == 0 else "outside the address space"
        raise InvalidAddress(f"{what}: address {span} is {why}; nothing can be read there")
    if size <= 0:
        return
    readable = is_readable(address, size)
    if readable is False:
        raise InvalidAddress(
            f"{what}: address {span} is not readable memory of this process (unmapped, "
            "freed, a guard page or protected 'none'); check where the address came from, "
            "or pass unsafe=True if you know better")
    if readable and not write:
        return
    if write:
        writable = is_writable(address, size)
        if writable is False:
            seen = permissions(address, size, refresh=True) or "not mapped"
            if "r" in seen and "w" in seen:  # device memory and the like: madvise cannot
                return                         # prefault them, the kernel's table vouches
            raise InvalidAddress(
                f"{what}: address {span} is read-only memory (protection '{seen}'); ask "
                "for readonly=True, or pass unsafe=True if you know better")
        if writable and readable:
            return
    perms = permissions(address, size)
    if perms is None or "r" not in perms or (write and "w" not in perms):
        perms = permissions(address, size, refresh=True)  # the table may predate the mapping
    if perms is None:
        if readable is None and not os.path.exists(_MAPS):
            raise InvalidAddress(
                f"{what}: ffikit cannot check address {span} on this platform; pass "
                "unsafe=True to use it unchecked")
        raise InvalidAddress(
            f"{what}: address {span} is not (wholly) mapped in this process; check where the "
            "address came from, or pass unsafe=True if you know better")
    if "r" not in perms:
        raise InvalidAddress(f"{what}: address {span} is not readable (protection "
                             f"'{perms or 'none'}'); pass unsafe=True if you know better")
    if write and "w" not in perms:
        raise InvalidAddress(
            f"{what}: address {span} is read-only memory (protection '{perms}'); ask for "
            "readonly=True, or pass unsafe=True if you know better")


_populate = _madvise()
