"""Reference torch architectures: the paper's width-k ResNet-18, a small CNN and an MLP.

This subpackage imports torch; it needs the ``torch`` extra
(``pip install "md-sklearn[torch]"``). ``import md_sklearn`` does not import it.
"""

from md_sklearn._utils._extras import require

require("torch", "md_sklearn.models")

from md_sklearn.models._mlp import MLP, mlp  # noqa: E402
from md_sklearn.models._resnet import BasicBlock, ResNet18Width, resnet18_width  # noqa: E402
from md_sklearn.models._small_cnn import SmallCNN, small_cnn  # noqa: E402

__all__ = ["MLP", "BasicBlock", "ResNet18Width", "SmallCNN", "mlp", "resnet18_width", "small_cnn"]
