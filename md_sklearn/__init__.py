"""md-sklearn: diagnose why a trained neural network underperforms from its loss landscape.

Importing this package never imports torch; the torch metric code lives in the
separate ``extractors`` package. The layout (one private folder per idea, re-exported
here) is described in ``docs/architecture.rst``.
"""

from md_sklearn import datasets, labels, model_selection
from md_sklearn._featurizer import LandscapeFeaturizer, ModelGroup
from md_sklearn._report import DiagnosisRecord, DiagnosisReport, PathStep, explain
from md_sklearn._tree import (
    PRESET_NAMES,
    PRETRAINED_NAMES,
    Leaf,
    MDTreeClassifier,
    Split,
    bounds_from_data,
    export_text,
    get_hierarchy,
    pretrained,
)
from md_sklearn._utils._version import __version__
from md_sklearn.exceptions import FeatureRangeWarning

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
