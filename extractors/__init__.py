"""Loss-landscape metrics of trained PyTorch classifiers, on the MD tree paper's scale.

Pure functions that take models and a :class:`torch.utils.data.Dataset` and return
small frozen results (``.value`` plus diagnostics; ``float(result)`` is the value):

- :func:`error_and_loss` -- train error (percent) and loss;
- :func:`hessian_trace`, :func:`hessian_top_eigenvalue` -- curvature on one batch;
- :func:`mode_connectivity` -- peak error along a trained Bezier curve between two
  models; :func:`linear_barrier` -- the straight-line screen;
- :func:`cka` -- output similarity of a group of models;
- :func:`manifold_size` -- size of the low-loss manifold around an (expanded) model.

The subpackage :mod:`extractors.expansion` grows a model wider or deeper while keeping
the function it computes (``widen``, ``deepen``, ``expansion_candidates``).

Defaults follow how the paper measured each metric (``docs/extractors.rst``).  The
package needs only torch and numpy; it never imports scikit-learn or md_sklearn.
"""

from . import expansion
from ._cka import cka
from ._connectivity import linear_barrier, mode_connectivity
from ._error import error_and_loss
from ._hessian import hessian_top_eigenvalue, hessian_trace
from ._manifold import manifold_size
from ._manifold_result import ManifoldSizeResult
from ._results import (
    CKAResult,
    ErrorLossResult,
    HessianEigenvalueResult,
    HessianTraceResult,
    LinearBarrierResult,
    ModeConnectivityResult,
)

__all__ = [
    "CKAResult",
    "ErrorLossResult",
    "HessianEigenvalueResult",
    "HessianTraceResult",
    "LinearBarrierResult",
    "ManifoldSizeResult",
    "ModeConnectivityResult",
    "cka",
    "error_and_loss",
    "expansion",
    "hessian_top_eigenvalue",
    "hessian_trace",
    "linear_barrier",
    "manifold_size",
    "mode_connectivity",
]
