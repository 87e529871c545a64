"""Optional packages: one line naming the extra that installs a missing one, and progress
bars that are simply absent without tqdm.

``pip install md-sklearn`` installs the tree, the published tables and the reports;
measuring your own models needs the ``torch`` extra (torch, tqdm, safetensors) and the
figures the ``plot`` extra (matplotlib).
"""

from __future__ import annotations

import importlib
import importlib.util

__all__ = ["EXTRA_OF", "available", "install_hint", "missing_package", "progress_bar",
           "require"]

#: Optional package -> the extra of md-sklearn that installs it (pyproject.toml).
EXTRA_OF = {"torch": "torch", "tqdm": "torch", "safetensors": "torch", "matplotlib": "plot"}


def install_hint(package: str) -> str:
    """The command that installs ``package`` with md-sklearn: ``pip install "md-sklearn[X]"``."""
    return f'pip install "md-sklearn[{EXTRA_OF[package]}]"'


def missing_package(package: str, needed_by: str) -> ImportError:
    """The one-line error for a missing optional package, naming the extra to install."""
    return ImportError(f"{needed_by} needs {package}, which is not installed; install it with: "
                       f"{install_hint(package)}", name=package)


def available(package: str) -> bool:
    """Whether ``package`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def require(package: str, needed_by: str):
    """The imported ``package``, or :func:`missing_package` when it is not installed.

    An ImportError raised *inside* an installed package (a broken install) is not
    disguised as a missing one.
    """
    try:
        return importlib.import_module(package)
    except ImportError as error:
        if error.name is not None and error.name.split(".")[0] == package.split(".")[0]:
            raise missing_package(package.split(".")[0], needed_by) from error
        raise


def progress_bar(iterable=None, *, wanted: bool = True, **kwargs):
    """A ``tqdm.auto`` bar when wanted and tqdm is installed, else a silent stand-in with the
    same methods used here (iteration, ``update``, ``set_postfix``, context manager)."""
    if wanted and available("tqdm"):
        from tqdm.auto import tqdm

        return tqdm(iterable, **kwargs)
    return _SilentBar(iterable)


class _SilentBar:
    def __init__(self, iterable=None):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        return None

    def set_postfix(self, *args, **kwargs):
        return None

    def close(self):
        return None
