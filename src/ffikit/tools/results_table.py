"""``ffikit bench --write``: the measured table goes into a README between two markers,
replacing the previous run's, so the committed figures are always one run's output."""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["write_results", "BEGIN", "END"]

BEGIN = "<!-- ffikit bench results: begin -->"
END = "<!-- ffikit bench results: end -->"


def write_results(path: Path, table: str) -> None:
    """Put ``table`` between the markers of ``path`` (a new section if it has none)."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = (f"{BEGIN}\nMeasured {stamp} by `ffikit bench` (median per operation; "
             f"ratio to the group's anchor).\n\n{table}\n{END}")
    text = path.read_text() if path.exists() else (
        "# Benchmarks\n\nSide-by-side timings: run `make bench` or `ffikit bench` "
        "(`--quick` for a fast pass, `--json` for machine-readable output).\n\n")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    path.write_text(text)
