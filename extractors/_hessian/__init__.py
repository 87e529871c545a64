"""Curvature of the loss on one random batch: :func:`hessian_trace` (Hutchinson) and
:func:`hessian_top_eigenvalue` (power iteration).

Split as curvlinops splits it, operator apart from estimators:

- ``_operator``: the batch loss as a function of the flat trainable parameters
  (:class:`BatchLoss`) and its Hessian-vector products through :mod:`torch.func`;
- ``_modes``: the torch function modes it runs under (eval-mode batch norm as an
  affine map, a counter of activation sizes);
- ``_probes``: Rademacher probe vectors;
- ``_estimator``: the argument checks and stopping rule both estimators share;
- ``_trace``: the trace estimator; ``_eigenvalue``: the top-eigenvalue estimator;
- ``_taylor``: second-order forward mode, ``vᵀHv`` without a backward pass.

How each is computed and what it costs: ``docs/extractors.rst``.
"""

from ._eigenvalue import hessian_top_eigenvalue
from ._operator import BatchLoss, batch_loss, hvp_function
from ._probes import rademacher_probe, rademacher_probes
from ._trace import hessian_trace

__all__ = ["BatchLoss", "batch_loss", "hessian_top_eigenvalue", "hessian_trace",
           "hvp_function", "rademacher_probe", "rademacher_probes"]
