"""Run a snippet in a fresh interpreter, so a crash fails one test instead of the run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def run_isolated(code: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` (dedented) with this interpreter; ``env`` adds environment variables."""
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **env},
    )


def outcome(setup: str, line: str, **env: str) -> tuple[str, str]:
    """Run ``setup`` then ``line``; return ``(what happened, stderr)``.

    What happened is ``"raised <ffikit error name>"``, ``"returned <repr>"``, or,
    if the process did not finish normally, ``"died <returncode>"``; every
    other exception escapes as a traceback (``"died 1"``).
    """
    code = (
        textwrap.dedent(setup)
        + "\ntry:\n    __value = (" + line + ")\n"
        + "except ffikit.FFIError as __exc:\n    print('OUTCOME raised', type(__exc).__name__)\n"
        + "else:\n    print('OUTCOME returned', repr(__value))\n"
        + "print('ALIVE')\n"
    )
    result = run_isolated(code, **env)
    lines = [x for x in result.stdout.splitlines() if x.startswith("OUTCOME ")]
    if result.returncode != 0 or "ALIVE" not in result.stdout or not lines:
        return f"died {result.returncode}", result.stderr
    return lines[-1][len("OUTCOME "):], result.stderr


def call_outcome(path: str, decls: str, backend: str, line: str, extra: str = "",
                 **load: object) -> tuple[str, str]:
    """:func:`outcome` of ``line`` with ``lib`` loaded from ``path`` (``ctypes``, ``ffikit``
    and ``numpy as np`` imported; ``load`` passed to ``ffikit.load``; ``extra`` run after)."""
    options = "".join(f", {k}={v!r}" for k, v in load.items())
    setup = (f"import ctypes, ffikit\nimport numpy as np\n"
             f"lib = ffikit.load({path!r}, {decls!r}, backend={backend!r}{options})\n"
             + textwrap.dedent(extra))
    return outcome(setup, line)
