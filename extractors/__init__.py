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

Attributes are loaded on first use (PEP 562), so ``import extractors.defaults`` (the
paper's settings, plain Python) does not import torch.
"""

from __future__ import annotations

import importlib

#: Public name -> private module that defines it.
_LAZY = {
    "cka": "._cka",
    "error_and_loss": "._error",
    "hessian_top_eigenvalue": "._hessian",
    "hessian_trace": "._hessian",
    "linear_barrier": "._connectivity",
    "mode_connectivity": "._connectivity",
    "manifold_size": "._manifold",
    "ManifoldSizeResult": "._manifold",
    "CKAResult": "._results",
    "ErrorLossResult": "._results",
    "HessianEigenvalueResult": "._results",
    "HessianTraceResult": "._results",
    "LinearBarrierResult": "._results",
    "ModeConnectivityResult": "._results",
}
_SUBMODULES = ("defaults", "expansion", "utils")

__all__ = sorted([*_LAZY, "defaults", "expansion", "utils"])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
