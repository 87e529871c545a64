"""md-sklearn: diagnose why a trained neural network underperforms from its loss landscape.

Importing this package never imports torch; the torch metric code lives in the
separate ``extractors`` package.
"""

from md_sklearn import datasets, labels, model_selection
from md_sklearn._bounds import bounds_from_data
from md_sklearn._explain import explain
from md_sklearn._export import export_text
from md_sklearn._featurizer import LandscapeFeaturizer
from md_sklearn._groups import ModelGroup
from md_sklearn._hierarchy import Leaf, Split
from md_sklearn._presets import PRESET_NAMES, get_hierarchy
from md_sklearn._pretrained import PRETRAINED_NAMES, pretrained
from md_sklearn._report import DiagnosisRecord, DiagnosisReport, PathStep
from md_sklearn._tree import MDTreeClassifier
from md_sklearn.exceptions import FeatureRangeWarning

__version__ = "0.1.0"

__all__ = [
    "PRESET_NAMES",
    "PRETRAINED_NAMES",
    "DiagnosisRecord",
    "DiagnosisReport",
    "FeatureRangeWarning",
    "LandscapeFeaturizer",
    "Leaf",
    "MDTreeClassifier",
    "ModelGroup",
    "PathStep",
    "Split",
    "__version__",
    "bounds_from_data",
    "datasets",
    "explain",
    "export_text",
    "get_hierarchy",
    "labels",
    "model_selection",
    "pretrained",
]
