"""``python -m ffikit``: the ``ffikit`` command."""

import sys

from ffikit.tools.cli import main

if __name__ == "__main__":  # importing the module (documentation tools do) runs nothing
    sys.exit(main())
