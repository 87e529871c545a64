"""md-sklearn: diagnose why a trained neural network underperforms from its loss landscape.

Importing this package never imports torch; the torch metric code lives in the
separate ``extractors`` package.
"""

from md_sklearn import datasets, labels, model_selection
from md_sklearn._export import export_text
from md_sklearn._hierarchy import Leaf, Split
from md_sklearn._presets import PRESET_NAMES, get_hierarchy
from md_sklearn._tree import MDTreeClassifier

__version__ = "0.1.0"

__all__ = [
    "PRESET_NAMES",
    "Leaf",
    "MDTreeClassifier",
    "Split",
    "__version__",
    "datasets",
    "export_text",
    "get_hierarchy",
    "labels",
    "model_selection",
]
