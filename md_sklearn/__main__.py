"""``python -m md_sklearn``: the same as the ``md-sklearn`` command."""

import sys

from md_sklearn._cli import main

if __name__ == "__main__":
    sys.exit(main())
