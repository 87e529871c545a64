"""Repository-wide pytest set-up.

The published tables are never part of the repository. Tests and doctests
read them through ``MD_SKLEARN_DATA``; when it is unset and the project's
shared folder is beside the checkout (as in CI), point it there.
"""

import os
from pathlib import Path

_SHARED_TABLES = Path(__file__).resolve().parent.parent / "shared" / "data" / "model_diagnosis"

if "MD_SKLEARN_DATA" not in os.environ and _SHARED_TABLES.is_dir():
    os.environ["MD_SKLEARN_DATA"] = str(_SHARED_TABLES)
