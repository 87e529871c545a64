"""Mode connectivity: a trained quadratic Bezier curve between two models
(:func:`mode_connectivity`), and the straight line between them (:func:`linear_barrier`).

- ``_curve``: the public :func:`mode_connectivity`;
- ``_training``: the curve's training loop and learning-rate schedule;
- ``_linear``: the public :func:`linear_barrier`;
- ``_checks``: the argument checks both share.

Both evaluate the network at flat parameter vectors through the package's shared
:class:`~extractors.utils.ParameterLayout` and :class:`~extractors.utils.PointEvaluator`.
"""

from ._curve import mode_connectivity
from ._linear import linear_barrier
from ._training import garipov_lr_factor, train_curve

__all__ = ["garipov_lr_factor", "linear_barrier", "mode_connectivity", "train_curve"]
