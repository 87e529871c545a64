"""The extractors' defaults (the paper's settings), read without importing torch.

The paper's numbers live in one place, ``extractors/_constants.py``, a plain-Python
file. Importing it as ``extractors._constants`` would first run
``extractors/__init__.py``, which imports torch, and ``import md_sklearn`` must not
import torch; so the file is executed here on its own, under a private name. When the
extractors are already imported, their module is used as is.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["EXTRACTOR_CONSTANTS", "extractors_folder"]


def extractors_folder() -> Path:
    """Folder of the ``extractors`` package, found without importing it."""
    spec = importlib.util.find_spec("extractors")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "expected the extractors package installed beside md_sklearn (they ship in one "
            "distribution), got none on the path; reinstall md-sklearn."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _load_constants():
    loaded = sys.modules.get("extractors._constants")
    if loaded is not None:
        return loaded
    path = extractors_folder() / "_constants.py"
    spec = importlib.util.spec_from_file_location("md_sklearn._extractor_constants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The module ``extractors/_constants.py`` (attributes ``HESSIAN_N_SAMPLES``, ...).
EXTRACTOR_CONSTANTS = _load_constants()
