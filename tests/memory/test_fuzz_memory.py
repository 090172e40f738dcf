"""Crash-free fuzz of every allocator: random alloc/view/protect/free/release/reset sequences.

The state machine (``fuzz_memory_child.py``) runs in a child process; it passes
when the child exits normally — no signal, no exception from ffikit that is
not an FFIError.  The CI run is derandomized (the same sequences every time)
and takes about 15 s; ``make fuzz`` runs a larger random one
(``FFIKIT_FUZZ_EXAMPLES``).
"""

import json
import subprocess
import sys
from pathlib import Path

import fuzzscale
from memory_helpers import SAFETY_SOURCE as SOURCE

CHILD = Path(__file__).with_name("fuzz_memory_child.py")


def test_random_sequences_never_crash(cbuild):
    command = [sys.executable, str(CHILD), cbuild(SOURCE, name="safety"), str(fuzzscale.examples(200))]
    proc = subprocess.run(command + (["random"] if fuzzscale.fuzzing() else []), capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    exercised = set(json.loads(proc.stdout.splitlines()[-1]))
    # the sequences reach the states that matter, not just refusals of bad arguments
    assert {"protect none: ok", "protect r: ok", "protect r: MemoryInUse",
            "Memory free: MemoryInUse", "Memory free: ok", "Pool.release: MemoryInUse",
            "Arena.reset: ok", "C writes: ok", "C writes: ProtectedMemory",
            "m[i]: ProtectedMemory", "use export: written", "Block.view: ok",
            "Adopted export: ok"} <= exercised, sorted(exercised)
