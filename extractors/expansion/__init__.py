"""Function-preserving model expansion: grow a trained network wider or deeper.

- :func:`widen` -- more units in one Linear/Conv2d layer, by copying units and splitting
  their outgoing weights (Net2WiderNet) or by new units with zero outgoing weights;
- :func:`deepen` -- an identity-initialised layer or a zero-initialised
  :class:`ResidualBlock` after a ReLU (Net2DeeperNet);
- :func:`expansion_candidates` -- wider, deeper and equal-size wider-vs-deeper versions
  of one model; :func:`parameter_count` -- its size.

Every operator returns a new model that computes the same function as its input (up to
floating-point rounding, and up to the optional noise on copies) in eval and in train
mode; the input is never modified.  Supported: ``nn.Sequential`` models of Linear/Conv2d
layers with BatchNorm, activations, Dropout, pooling and flatten between them, and
:class:`md_sklearn.models.SmallCNN`.
"""

from ._candidates import expansion_candidates, parameter_count
from ._deepen import ResidualBlock, deepen
from ._widen import widen

__all__ = ["ResidualBlock", "deepen", "expansion_candidates", "parameter_count", "widen"]
