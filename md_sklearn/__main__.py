"""``python -m md_sklearn``: the same as the ``md-sklearn`` command."""

import sys

from md_sklearn._cli._main import main

if __name__ == "__main__":
    sys.exit(main())
