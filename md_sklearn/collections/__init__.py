"""Labelled collections of trained models: train a grid of configurations and label it.

This subpackage imports torch; it needs the ``torch`` extra
(``pip install md-sklearn[torch]``). ``import md_sklearn`` does not import it.
"""

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "md_sklearn.collections needs PyTorch, which is not installed; "
        "install it with `pip install md-sklearn[torch]` (or see https://pytorch.org)"
    ) from error

from md_sklearn.collections._build import build_collection
from md_sklearn.collections._checkpoints import load_checkpoint
from md_sklearn.collections._digits import load_digits_data
from md_sklearn.collections._result import Collection, Configuration
from md_sklearn.collections._subset import training_subset
from md_sklearn.collections._train import train_classifier

__all__ = [
    "Collection",
    "Configuration",
    "build_collection",
    "load_checkpoint",
    "load_digits_data",
    "train_classifier",
    "training_subset",
]
