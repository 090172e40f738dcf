"""Side-by-side timing: medians over many repeats, reported as ratios to an anchor.

Each benchmark module exposes ``rows(quick: bool = False) -> list[Row]`` and
runs standalone (``python benchmarks/bench_calls.py``).  Timings are never
asserted in tests; they are measured here and reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


def _steady_state() -> None:
    """Measure what a program meets once an earlier process has run: ffikit.view and
    ffikit.alloc's C module (built in the background by the first process) in the cache."""
    try:
        from ffikit.backends.compiled import fastmem
        from ffikit.backends.compiled.module import available

        if available()[0]:
            fastmem.load(compile=True)
    except Exception as exc:  # noqa: BLE001 - a benchmark of the Python paths is still one
        print(f"harness: no C view/alloc ({exc})")


_steady_state()


@dataclass
class Row:
    group: str          # e.g. "call int add(int,int)"
    name: str           # e.g. "ffikit", "ctypes argtypes"
    ns: float           # median nanoseconds per operation
    anchor: str         # name of the row in the same group this one is compared to
    ratio: float = 0.0  # ns / anchor's ns, filled by finish()
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def median_ns(fn: Callable[[], object], *, repeats: int = 31, target_s: float = 0.002) -> float:
    """Median time of one ``fn()`` call in ns, over ``repeats`` timed batches."""
    number = 1
    while True:  # autorange: batches of at least target_s
        start = time.perf_counter_ns()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter_ns() - start
        if elapsed >= target_s * 1e9 or number >= 1 << 22:
            break
        number *= 2
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter_ns() - start) / number)
    return statistics.median(samples)


def compare(group: str, variants: dict, anchor: str, *, rounds: int = 5,
            repeats: int = 11) -> list[Row]:
    """Time ``variants`` (name -> callable) in interleaved rounds; keep each one's best
    median.  Interleaving spreads background load over every variant alike, so the
    ratios hold up on a busy machine better than back-to-back timing does."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in variants.items():
            ns = median_ns(fn, repeats=repeats, target_s=0.001)
            best[name] = min(best.get(name, ns), ns)
    return [Row(group, name, best[name], anchor) for name in variants]


def finish(rows: list[Row]) -> list[Row]:
    """Fill each row's ratio to its group's anchor row."""
    by_key = {(r.group, r.name): r for r in rows}
    for row in rows:
        anchor = by_key.get((row.group, row.anchor))
        row.ratio = row.ns / anchor.ns if anchor and anchor.ns else float("nan")
    return rows


def table(rows: list[Row]) -> str:
    """A plain-text (also valid Markdown) table of the rows."""
    lines = ["| group | variant | median | vs anchor |", "| --- | --- | ---: | ---: |"]
    for r in rows:
        ns = f"{r.ns / 1e6:,.2f} ms" if r.ns >= 1e6 else f"{r.ns:,.0f} ns"
        ratio = f"{r.ratio:.2f}x {r.anchor}" if r.name != r.anchor else "anchor"
        lines.append(f"| {r.group} | {r.name}{' (' + r.note + ')' if r.note else ''} | {ns} | {ratio} |")
    return "\n".join(lines)
