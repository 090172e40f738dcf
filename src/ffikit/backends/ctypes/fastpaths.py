"""Inline wrapper source for the common pointer arguments, so most calls skip the converter.

:mod:`ffikit.backends.ctypes.wrappers` generates one Python function per C
function; for a ``T *`` parameter these lines go first: a contiguous buffer
of the right item type passes its address, a ctypes object of a type already
seen goes straight to ctypes, and a NUL-free ``bytes`` is a C string as it
is.  Everything else (None, ``str``, new types, every refusal) takes the full
converter ``_ffk_c{i}``, which gives the same answers more slowly.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.converters import AS_IS, BYREF, ModeCache
from ffikit.backends.ctypes.extents import extent
from ffikit.backends.ctypes.pybuffer import _BUF_OFFSET, PLAIN_TYPES
from ffikit.rules.params import ParamRule, accepted_formats

__all__ = ["pointer_fast_path", "cstring_fast_path"]

_c_void_p = ctypes.c_void_p


def pointer_fast_path(rule: ParamRule, i: int, pname: str, env: dict,
                       sized: bool = False) -> list[str]:
    """Inline source for the common cases: a contiguous buffer of the right item type,
    and ctypes objects of a type already seen (an array of the declared struct, a
    pointer to it), which go straight to ctypes.

    Anything else (None, bytes, str, new types, errors) goes to the full
    converter ``_ffk_c{i}``, which gives the same answers more slowly.  When a
    size relation reads this buffer (``sized``), ``_ffk_e{i}`` is set to the
    bytes it holds (-1: unknown), and ctypes objects take the full converter.
    """
    full = [f"{pname}, _ffk_k{i} = _ffk_c{i}({pname})"]
    fast_extent = ""
    if sized:
        env["_ffk_ext"] = extent
        full = [full[0] + f"; _ffk_e{i} = _ffk_ext(_ffk_k{i})"]
        fast_extent = f"; _ffk_e{i} = _ffk_k{i}.nbytes"
        ctypes_paths = [f"else: {full[0]}"]
    else:
        env[f"_ffk_cm{i}"] = ModeCache(env[f"_ffk_c{i}"])
        env["_ffk_br"] = ctypes.byref
        ctypes_paths = [
            "else:",
            f"    _ffk_m{i} = _ffk_cm{i}[_ffk_t{i}]",
            f"    if _ffk_m{i} == {AS_IS}: pass",
            f"    elif _ffk_m{i} == {BYREF}: {pname} = _ffk_br({pname})",
            f"    else: {full[0]}",
        ]
    if _BUF_OFFSET is None:
        return [f"_ffk_t{i} = _ffk_type({pname})", f"if _ffk_t{i} is None: pass", *ctypes_paths]
    formats = accepted_formats(rule)
    env[f"_ffk_ft{i}"] = PLAIN_TYPES  # shared and live: NumPy joins when it is imported
    env["_ffk_at"] = _c_void_p.from_address  # a c_void_p *over* view.buf: its value is the address
    env["_ffk_id"] = id
    checks = [f"_ffk_k{i}.c_contiguous"]
    if formats == frozenset() and rule.item_kind is None and rule.pointee_size:
        # structs (NumPy structured arrays) and pointers: the converter's item-size rule
        k = f"_ffk_k{i}"
        checks.insert(0, f"{k}.itemsize == {rule.pointee_size} and ({k}.format[:2] == 'T{{' "
                         f"or {k}.format == 'P' or {k}.format[:1] == '&')")
    elif formats is not None:
        env[f"_ffk_fm{i}"] = formats
        checks.insert(0, f"_ffk_k{i}.format in _ffk_fm{i}")
    if not rule.const:
        checks.append(f"not _ffk_k{i}.readonly")
    return [
        f"_ffk_t{i} = _ffk_type({pname})",
        f"if _ffk_t{i} in _ffk_ft{i}:",
        f"    _ffk_k{i} = _ffk_memoryview({pname})",
        f"    if {' and '.join(checks)}: {pname} = _ffk_at(_ffk_id(_ffk_k{i}) + {_BUF_OFFSET})"
        + fast_extent,
        f"    else: {full[0]}",
        *ctypes_paths,
    ]


def cstring_fast_path(rule: ParamRule, i: int, pname: str, env: dict) -> list[str]:
    """Inline source for a C string: NUL-free bytes as they are, a bytearray holding a NUL
    by address; the rest (str, other buffers, errors) through the full converter."""
    full = f"{pname}, _ffk_k{i} = _ffk_c{i}({pname})"
    if not rule.char_target or not rule.const:
        return [full]
    lines = [f"if _ffk_type({pname}) is _ffk_bytes and 0 not in {pname}: _ffk_k{i} = {pname}"]
    if _BUF_OFFSET is not None:
        env["_ffk_at"] = _c_void_p.from_address
        env["_ffk_id"] = id
        lines.append(f"elif _ffk_type({pname}) is _ffk_bytearray and 0 in {pname}: _ffk_k{i} = _ffk_memoryview({pname}); "
                     f"{pname} = _ffk_at(_ffk_id(_ffk_k{i}) + {_BUF_OFFSET})")
    return lines + [f"else: {full}"]
