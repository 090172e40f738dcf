"""How many random examples a test runs: the ordinary suite's count, or ``make fuzz``'s.

``make fuzz`` sets ``$FFIKIT_FUZZ_EXAMPLES``; every randomised test reads it here,
so one variable scales them all the same way.
"""

from __future__ import annotations

import os

VARIABLE = "FFIKIT_FUZZ_EXAMPLES"


def fuzzing() -> bool:
    """True under ``make fuzz`` (the long runs)."""
    return bool(os.environ.get(VARIABLE))


def examples(ordinary: int, *, at_most: int | None = None) -> int:
    """``$FFIKIT_FUZZ_EXAMPLES`` under ``make fuzz`` (capped at ``at_most``), else ``ordinary``."""
    if not fuzzing():
        return ordinary
    count = int(os.environ[VARIABLE])
    return min(count, at_most) if at_most is not None else count
