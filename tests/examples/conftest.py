"""The case study's modules (``imaging``, ``pngcodec``) import from examples/imaging."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "imaging"))
