"""Every struct and union of hundreds of installed system headers, laid out as gcc does.

The headers are the fixed list in ``system_headers.txt`` (those absent on this
machine are skipped).  Each one goes through ``ffikit.include``; every
complete struct/union tag and typedef it declares is compared with a gcc
probe: ``sizeof``, ``__alignof__``, every member offset, every bitfield's
bytes when set to all ones, and the ctypes class's size and
``ctypes.alignment`` (:func:`ffikit.tools.layoutcheck.compare`).

One probe file per header (headers never meet), compiled together into one
library by :func:`ffikit.build`, cached by content in the user's ffikit
cache: a second run only loads it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import ffikit
from ffikit.build import default_cache_dir
from ffikit.cdecl.preprocess import system_include_dirs
from ffikit.tools.headersweep import gcc_accepts
from ffikit.tools.layoutcheck import compare, probe_many, probe_source, read_probe, struct_names

LIST = Path(__file__).with_name("system_headers.txt")

# ffikit's layout is exact here, but the ctypes class cannot say it: a typedef
# that raises a struct's alignment (``typedef struct {...} T __attribute__((aligned))``)
# shares the struct's class.
CTYPES_TYPEDEF_ALIGNMENT = {("pthread.h", "__pthread_unwind_buf_t")}


def _headers() -> list[str]:
    names = [line.strip() for line in LIST.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    dirs = system_include_dirs()
    return [h for h in names if any(os.path.isfile(os.path.join(d, h)) for d in dirs)]


@pytest.fixture(scope="module")
def checked():
    headers = _headers()
    if len(headers) < 100:
        pytest.skip(f"only {len(headers)} of the listed system headers are installed")
    parsed, sources, refused = {}, {}, []
    for header in headers:
        try:
            defs = ffikit.include(header)
        except ffikit.DeclarationError as exc:
            if gcc_accepts(header)[0]:  # gcc takes it alone: ffikit must too
                refused.append(f"{header}: {exc}")
            continue
        names = struct_names(defs)
        if names:
            key = hashlib.sha1(header.encode()).hexdigest()[:12]
            parsed[key] = (header, defs, names)
            sources[key] = probe_source(defs, f"#include <{header}>", names, f"_{key}")
    cache = str(default_cache_dir())  # not the per-session test cache: reruns only load
    reports = probe_many(sources, os.path.join(cache, "system-layout-probes"), cache_dir=cache)
    return headers, parsed, reports, refused


def test_every_listed_header_parses(checked):
    headers, parsed, _reports, refused = checked
    assert refused == []
    assert len(headers) >= 300 or len(headers) == len(_headers())


def test_every_struct_matches_gcc(checked):
    _headers_, parsed, reports, _refused = checked
    differences, structs = [], 0
    for key, (header, defs, names) in parsed.items():
        report = reports[key]
        if report.startswith("error"):
            continue  # the probe itself did not compile (a header gcc no longer takes)
        facts = read_probe(report)
        for i, name in enumerate(names):
            structs += 1
            mine = {(0, *k[1:]): v for k, v in facts.items() if k[0] == i}
            for d in compare(defs, [name], mine):
                if (header, name) in CTYPES_TYPEDEF_ALIGNMENT and d.what == "ctypes alignment":
                    continue
                differences.append(f"{header}: {d}")
    assert differences == []
    assert structs >= 500
