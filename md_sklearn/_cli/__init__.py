"""The command line (``md-sklearn``): not imported by the library."""

from md_sklearn._cli._main import main

__all__ = ["main"]
