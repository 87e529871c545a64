"""Reference torch architectures: the paper's width-k ResNet-18 and a small CNN.

This subpackage imports torch; it needs the ``torch`` extra
(``pip install md-sklearn[torch]``). ``import md_sklearn`` does not import it.
"""

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "md_sklearn.models needs PyTorch, which is not installed; "
        "install it with `pip install md-sklearn[torch]` (or see https://pytorch.org)"
    ) from error

from md_sklearn.models._resnet import BasicBlock, ResNet18Width, resnet18_width
from md_sklearn.models._small_cnn import SmallCNN, small_cnn

__all__ = ["BasicBlock", "ResNet18Width", "SmallCNN", "resnet18_width", "small_cnn"]
