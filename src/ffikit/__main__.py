"""``python -m ffikit``: the ``ffikit`` command."""

import sys

from .cli import main

sys.exit(main())
