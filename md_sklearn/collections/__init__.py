"""Labelled collections of trained models: train a grid of configurations and label it.

This subpackage imports torch; it needs the ``torch`` extra
(``pip install "md-sklearn[torch]"``). ``import md_sklearn`` does not import it.
"""

from md_sklearn._utils._extras import require

require("torch", "md_sklearn.collections")

from md_sklearn.collections._build import build_collection  # noqa: E402
from md_sklearn.collections._checkpoints import load_checkpoint  # noqa: E402
from md_sklearn.collections._digits import load_digits_data  # noqa: E402
from md_sklearn.collections._result import Collection, Configuration  # noqa: E402
from md_sklearn.collections._subset import training_subset  # noqa: E402
from md_sklearn.collections._train import train_classifier  # noqa: E402

__all__ = [
    "Collection",
    "Configuration",
    "build_collection",
    "load_checkpoint",
    "load_digits_data",
    "train_classifier",
    "training_subset",
]
