"""Round trips through pickle into a *fresh* interpreter (a new process, nothing shared)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap


def in_fresh_interpreter(obj: object, code: str, tmp_path, *, protocol: int = 5) -> str:
    """Pickle ``obj`` to a file, run ``code`` in a new Python with it unpickled as ``obj``;
    return what the code printed (stripped).  A failure there fails here, with its stderr."""
    path = os.path.join(str(tmp_path), "payload.pickle")
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=protocol)
    script = "import pickle, sys\nwith open(sys.argv[1], 'rb') as fh:\n    obj = pickle.load(fh)\n"
    script += textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()
