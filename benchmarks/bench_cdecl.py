"""Parse + map sqlite3.h: cold (fresh process) vs warm (cached in process).

Run: ``python benchmarks/bench_cdecl.py``.  Cold runs each parse in a new
interpreter so no cache helps; warm repeats the call in one process.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, finish, median_ns, table  # noqa: E402

import ffikit  # noqa: E402

COLD = """
import time
t = time.perf_counter_ns()
import ffikit
defs = ffikit.include("sqlite3.h")
for name in list(defs.types):
    try: defs.ctype(name)
    except ffikit.DeclarationError: pass
print(time.perf_counter_ns() - t)
"""


def rows(quick: bool = False) -> list[Row]:
    runs = 3 if quick else 7
    cold = [int(subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                               check=True).stdout) for _ in range(runs)]
    ffikit.include("sqlite3.h")
    warm = median_ns(lambda: ffikit.include("sqlite3.h"), repeats=11 if quick else 31)
    group = "parse+map sqlite3.h"
    return finish([
        Row(group, "cold (new process, incl. import)", statistics.median(cold),
            "cold (new process, incl. import)"),
        Row(group, "warm (in-process cache)", warm, "cold (new process, incl. import)"),
    ])


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
