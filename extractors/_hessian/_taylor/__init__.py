"""Second-order forward (Taylor) mode: the first two derivatives of a network's output
along one direction in parameter space, and the curvature ``vᵀHv`` of the loss from them.

With the cross-entropy on top, ``vᵀHv = d²L/dt²`` is two cheap sums
(:func:`quadratic_forms`) of the logits' pair that :class:`TaylorNetwork` computes in one
sweep: a Hutchinson probe costs one sweep and no backward pass.

The network is traced once with :func:`torch.fx.experimental.proxy_tensor.make_fx`
(after :func:`torch.func.functionalize`, so in-place operations are fine); an operation
on the parameter path that has no rule, or a network that cannot be traced (control
flow on tensor values), raises :class:`UnsupportedOperation`, and the caller falls back
to Hessian-vector products.

- ``_network``: :class:`TaylorNetwork`, the traced graph and its sweep;
- ``_loss``: :func:`quadratic_forms`;
- ``_registry``: the rule table, its :class:`Context` and :class:`UnsupportedOperation`;
- ``_algebra``: arithmetic on derivative pairs (``None`` is an exact zero);
- ``_rules_linear``, ``_rules_products``, ``_rules_nonlinear``: the rules.
"""

from ._loss import quadratic_forms
from ._network import TaylorNetwork
from ._registry import UnsupportedOperation

__all__ = ["TaylorNetwork", "UnsupportedOperation", "quadratic_forms"]
