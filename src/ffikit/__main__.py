"""``python -m ffikit``: the ``ffikit`` command."""

import sys

from ffikit.tools.cli import main

sys.exit(main())
