"""``ffikit layout --check``: compare ffikit's struct layouts with the C compiler's.

A probe is compiled with :func:`ffikit.build` that ``#include``s the header
and reports ``sizeof``, ``_Alignof`` and ``offsetof`` of every named member;
for a bitfield, the bytes of a zeroed struct with the field set to all ones
(``-1`` in C, so the compiler's width shows; position and width are both checked).  ffikit's side is
:meth:`Declarations.layout` and the ctypes class of the same type.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from dataclasses import dataclass

from ffikit.build import build
from ffikit.cdecl import model as m
from ffikit.cdecl.layout import int_info
from ffikit.errors import CompileError

__all__ = ["Difference", "check_layouts", "struct_names"]


@dataclass
class Difference:
    type: str
    what: str  # "size", "alignment", "offset of 'f'", "bits of 'f'"
    ffikit: object
    compiler: object

    def __str__(self) -> str:
        return f"{self.type}: {self.what}: ffikit {self.ffikit}, compiler {self.compiler}"


def struct_names(defs) -> list[str]:
    """The complete structs/unions the parsed file itself declares (typedef names preferred)."""
    names, seen = [], set()
    for name, t in defs.types.items():
        r = m.resolve(t)
        if not isinstance(r, m.StructOrUnion) or not r.is_complete or not defs.declares(name):
            continue
        if " " in name and r.typedef_name and r.name is None:
            continue
        if id(r) in seen and " " in name:
            continue
        seen.add(id(r))
        names.append(name)
    return names


def _is_bool(t: m.CType) -> bool:
    r = m.resolve(t)
    return isinstance(r, m.Primitive) and r.name == "_Bool"


def _all_ones(lay_field, t: m.CType, platform) -> int:
    if _is_bool(t):
        return 1
    _size, signed = int_info(t, platform)
    return -1 if signed else (1 << lay_field.bit_width) - 1


def probe_source(defs, include_line: str, names: list[str], tag: str = "") -> str:
    """C text of a probe: ``const char *ffikit_probe<tag>(void)`` reports every fact."""
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <string.h>", include_line,
             "static char out[1 << 22]; static size_t used;",
             "#define P(...) used += snprintf(out + used, sizeof out - used, __VA_ARGS__)",
             f"const char *ffikit_probe{tag}(void) {{", "  used = 0;"]
    for i, name in enumerate(names):
        lay = defs.layout(name)
        lines.append(f'  P("{i} size %zu\\n", sizeof({name}));')
        lines.append(f'  P("{i} align %zu\\n", __alignof__({name}));')
        for f in lay.fields:
            if f.name is None:
                continue
            if f.is_bitfield:
                # -1 is all ones at whatever width the compiler gives the field
                value = 1 if _is_bool(f.type) else -1
                lines.append(f"  {{ {name} v; memset(&v, 0, sizeof v); v.{f.name} = {value}; "
                             f'P("{i} bits {f.name} "); for (size_t k = 0; k < sizeof v; k++) '
                             f'P("%02x", ((unsigned char *)&v)[k]); P("\\n"); }}')
            else:
                lines.append(f'  P("{i} off {f.name} %zu\\n", offsetof({name}, {f.name}));')
    lines += ["  return out;", "}"]
    return "\n".join(lines) + "\n"


def read_probe(text: str) -> dict:
    """``{(index, "size"|"align"|"off"|"bits", member): value}`` from a probe's report."""
    reported: dict[tuple[int, str, str], str] = {}
    for line in text.splitlines():
        parts = line.split(" ")
        if parts[1] in ("size", "align"):
            reported[(int(parts[0]), parts[1], "")] = parts[2]
        else:
            reported[(int(parts[0]), parts[1], parts[2])] = parts[3]
    return reported


def compare(defs, names: list[str], reported: dict) -> list[Difference]:
    """ffikit's layouts *and* ctypes classes of ``names`` against a probe's report."""
    from ffikit.backends.ctypes.types import expressible_alignment

    diffs = []
    for i, name in enumerate(names):
        lay = defs.layout(name)
        size, align = int(reported[(i, "size", "")]), int(reported[(i, "align", "")])
        if size != lay.size:
            diffs.append(Difference(name, "size", lay.size, size))
        if align != lay.alignment:
            diffs.append(Difference(name, "alignment", lay.alignment, align))
        ct = defs.ctype(name)
        if ctypes.sizeof(ct) != size:
            diffs.append(Difference(name, "ctypes size", ctypes.sizeof(ct), size))
        if ctypes.alignment(ct) != expressible_alignment(align):
            diffs.append(Difference(name, "ctypes alignment", ctypes.alignment(ct), align))
        for f in lay.fields:
            if f.name is None:
                continue
            if f.is_bitfield:
                v = ct()
                setattr(v, f.name, _all_ones(f, f.type, defs.platform))
                mine = bytes(v).hex()
                theirs = reported[(i, "bits", f.name)]
                if mine != theirs:
                    diffs.append(Difference(name, f"bits of '{f.name}'", mine, theirs))
            else:
                theirs_off = int(reported[(i, "off", f.name)])
                if theirs_off != f.offset:
                    diffs.append(Difference(name, f"offset of '{f.name}'", f.offset, theirs_off))
    return diffs


def probe_many(sources: dict[str, str], directory: str, *, include_dirs=(),
               cache_dir=None) -> dict[str, str]:
    """Compile one probe per key (``ffikit_probe_<key>``) into one cached library.

    Each source is a separate file, so headers never meet each other; the
    library is cached by content (:func:`ffikit.build`), so a second run only
    loads it.  Returns ``{key: report}``.
    """
    os.makedirs(directory, exist_ok=True)
    paths = []
    for key, text in sorted(sources.items()):
        path = os.path.join(directory, f"probe_{key}.c")
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as fh:
                fh.write(text)
        paths.append(path)
    failed: dict[str, str] = {}
    while True:
        try:
            lib = ctypes.CDLL(build(paths, name="layoutprobes", include_dirs=include_dirs,
                                    flags=["-O0"], cache_dir=cache_dir))
            break
        except CompileError as exc:  # drop the probes the compiler refuses, keep the rest
            bad = {p for p in paths if f"{p}:" in exc.stderr}
            if not bad:
                raise
            for p in bad:
                failed[os.path.basename(p)[6:-2]] = exc.stderr
            paths = [p for p in paths if p not in bad]
    reports = {key: f"error: {failed[key]}" for key in failed}
    for key in sources:
        if key in failed:
            continue
        fn = getattr(lib, f"ffikit_probe_{key}")
        fn.restype = ctypes.c_char_p
        reports[key] = fn().decode()
    return reports


def check_layouts(defs, header: str, names: list[str], *, against: str | None = None,
                  include_dirs=()) -> list[Difference]:
    """Differences between ffikit's layouts of ``names`` and the compiler's."""
    target = os.path.abspath(against or header)
    with open(target, "rb") as f:  # the build cache keys on the probe text: make it
        digest = hashlib.sha256(f.read()).hexdigest()  # change when the header does
    text = f"/* {target} sha256 {digest} */\n" + probe_source(
        defs, f'#include "{target}"', names)
    path = build(text, name="layoutprobe", include_dirs=[os.path.dirname(target), *include_dirs])
    probe = ctypes.CDLL(path).ffikit_probe
    probe.restype = ctypes.c_char_p
    return compare(defs, names, read_probe(probe().decode()))
