"""Start-up: import, first calls and big headers, ffikit beside ctypes and cffi's ABI mode.

Run: ``python benchmarks/bench_startup.py``.  Every row is a fresh
interpreter, timed inside the child from before ``import`` to after the last
call; the variants of a group run interleaved, and each row is the median of
the runs.  "warm" runs use a cache filled by an earlier process; "cold" runs
get an empty cache directory each time (so ffikit parses and, under
``backend="compiled"``, compiles).  Python's bytecode is compiled in both
(the warm-up run writes it), as it is for an installed package.  Under ``auto`` nothing waits on the
compiler: the process ends before its background build would be used.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, finish, table  # noqa: E402

TIMED = "import time\n__t = time.perf_counter_ns()\n{body}\nprint(time.perf_counter_ns() - __t)\n"

IMPORTS = {
    "ctypes": "import ctypes",
    "cffi": "import cffi",
    "ffikit": "import ffikit",
}

ZLIB = {
    "ctypes": """
import ctypes
z = ctypes.CDLL("libz.so.1")
z.zlibVersion.restype = ctypes.c_char_p
z.adler32.argtypes = z.crc32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
z.adler32.restype = z.crc32.restype = ctypes.c_ulong
z.zlibVersion(); z.adler32(1, b"abc", 3); z.crc32(0, b"abc", 3)
""",
    "cffi ABI": """
import cffi
ffi = cffi.FFI()
ffi.cdef("const char *zlibVersion(void); unsigned long adler32(unsigned long, const unsigned char *, unsigned int);"
         "unsigned long crc32(unsigned long, const unsigned char *, unsigned int);")
z = ffi.dlopen("libz.so.1")
z.zlibVersion(); z.adler32(1, b"abc", 3); z.crc32(0, b"abc", 3)
""",
    "ffikit auto": """
import ffikit
z = ffikit.load("z", header="zlib.h")
z.zlibVersion(); z.adler32(1, b"abc", 3); z.crc32(0, b"abc", 3)
""",
    "ffikit compiled": """
import ffikit
z = ffikit.load("z", header="zlib.h", backend="compiled")
z.zlibVersion(); z.adler32(1, b"abc", 3); z.crc32(0, b"abc", 3)
""",
    "ffikit auto, cdef text (as cffi's)": """
import ffikit
z = ffikit.load("z", "const char *zlibVersion(void); unsigned long adler32(unsigned long, "
                "const unsigned char *, unsigned int); unsigned long crc32(unsigned long, "
                "const unsigned char *, unsigned int);")
z.zlibVersion(); z.adler32(1, b"abc", 3); z.crc32(0, b"abc", 3)
""",
}

SQLITE = {
    "cffi ABI (cdef of gcc -E text)": """
import cffi
ffi = cffi.FFI()
ffi.cdef(open({cdef!r}).read())
lib = ffi.dlopen("libsqlite3.so.0")
lib.sqlite3_libversion(); lib.sqlite3_libversion_number()
""",
    "ffikit auto": """
import ffikit
lib = ffikit.load("sqlite3", header="sqlite3.h")
lib.sqlite3_libversion(); lib.sqlite3_libversion_number()
""",
}

BIND_ALL = {
    "cffi ABI": """
import cffi, ffikit
names = sorted(n for n in ffikit.include("sqlite3.h").functions)
ffi = cffi.FFI()
ffi.cdef(open({cdef!r}).read())
lib = ffi.dlopen("libsqlite3.so.0")
__t = time.perf_counter_ns()
for n in names:
    getattr(lib, n, None)
""",
    "ctypes (attribute only)": """
import ctypes, ffikit
names = sorted(n for n in ffikit.include("sqlite3.h").functions)
lib = ctypes.CDLL("libsqlite3.so.0")
__t = time.perf_counter_ns()
for n in names:
    getattr(lib, n, None)
""",
    "ffikit ctypes": """
import ffikit
lib = ffikit.load("sqlite3", header="sqlite3.h", backend="ctypes")
names = sorted(lib.defs.functions)
__t = time.perf_counter_ns()
for n in names:
    hasattr(lib, n)
""",
    "ffikit auto": """
import ffikit
lib = ffikit.load("sqlite3", header="sqlite3.h")
names = sorted(lib.defs.functions)
__t = time.perf_counter_ns()
for n in names:
    hasattr(lib, n)
""",
}

WAIT = """
for __lib in (globals().get("z"), globals().get("lib")):
    if hasattr(__lib, "wait_compiled"):
        __lib.wait_compiled(600)
"""

RSS = """
{body}
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]))
"""


def sqlite_cdef() -> str:
    """sqlite3.h's own part of ``cc -E`` output, as cffi's ``cdef`` takes it (prepared once)."""
    import re

    raw = subprocess.run(["cc", "-E", "-"], input="#include <sqlite3.h>\n", capture_output=True,
                         text=True, check=True).stdout
    keep, mine = [], False
    for line in raw.splitlines():
        if line.startswith("# "):
            mine = line.split('"')[1].endswith("sqlite3.h")
        elif mine:
            keep.append(line)
    text = re.sub(r"__attribute__\s*\(\(.*?\)\)", "", "\n".join(keep))
    return re.sub(r"\b__extension__\b|\b__restrict\b|\b__inline\b", "", text).replace("va_list", "void *")


def _child(code: str, cache: str) -> int:
    env = dict(os.environ, FFIKIT_CACHE_DIR=cache)
    env.pop("FFIKIT_BACKEND", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode compiled, as an installed package has it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed")
    return int(out.stdout.split()[-1])


def _group(group: str, variants: dict[str, str], runs: int, cache: str, *, cold: tuple = (),
           timed: bool = True) -> list[Row]:
    """Interleaved fresh-process runs; ``cold`` names also run with an empty cache each time."""
    samples: dict[str, list[int]] = {}
    plan = [(name, code, False) for name, code in variants.items()]
    plan += [(f"{name}, empty cache", variants[name], True) for name in cold]
    for name, code, _ in plan:  # warm-up: fills the warm cache and the OS's page cache
        if not name.endswith("empty cache"):  # (and lets background builds finish: a warm cache)
            _child((TIMED.format(body=code) if timed else code) + WAIT, cache)
    for _ in range(runs):
        for name, code, empty in plan:
            with tempfile.TemporaryDirectory(prefix="ffikit-bench-") as fresh:
                where = os.path.join(fresh, "cache") if empty else cache
                samples.setdefault(name, []).append(
                    _child(TIMED.format(body=code) if timed else code, where))
    anchor = next(iter(variants))
    return [Row(group, name, statistics.median(values), anchor) for name, values in samples.items()]


def rows(quick: bool = False) -> list[Row]:
    runs = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="ffikit-bench-") as tmp:
        cache = os.path.join(tmp, "cache")
        cdef = os.path.join(tmp, "sqlite3.cdef")
        Path(cdef).write_text(sqlite_cdef())
        sqlite = {k: v.replace("{cdef!r}", repr(cdef)) for k, v in SQLITE.items()}
        bind_all = {k: v.replace("{cdef!r}", repr(cdef)) for k, v in BIND_ALL.items()}
        found = _group("import", IMPORTS, runs, cache)
        found += _group("3 zlib calls, fresh process", ZLIB, runs, cache,
                        cold=("ffikit auto", "ffikit compiled", "ffikit auto, cdef text (as cffi's)"))
        found += _group("include sqlite3.h + 2 calls, fresh process", sqlite, runs, cache,
                        cold=("ffikit auto",))
        found += _group("bind all sqlite3 functions, in process", bind_all, runs, cache)
        rss = _group("RSS after import (kB, not ns)", {k: RSS.format(body=v) for k, v in IMPORTS.items()},
                     runs, cache, timed=False)
        for row in rss:
            row.note = "kB"
        found += rss
    return finish(found)


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
