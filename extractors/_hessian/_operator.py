"""The loss of one batch as a function of the flat trainable parameters, and its
Hessian-vector products.

:func:`batch_loss` draws the batch and builds the closures both estimators use;
:func:`hvp_function` turns it into ``v -> Hv`` with :mod:`torch.func` (reverse over
reverse, the gradient graph built once).  The estimators are in ``_trace`` and
``_eigenvalue``; ``_taylor`` computes ``vᵀHv`` without a backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .._common import (
    BatchFormat,
    check_dataset,
    check_outputs,
    cross_entropy,
    floating_dtype,
    functional_state,
    sample_indices,
)
from ._modes import CountOutputs, EvalBatchNormAsAffine

__all__ = ["BatchLoss", "batch_loss", "hvp_function"]


@dataclass
class BatchLoss:
    """The loss of one batch as a function of the flat trainable parameters."""

    loss: Callable[[torch.Tensor], torch.Tensor]
    logits: Callable[[torch.Tensor], torch.Tensor]
    labels: torch.Tensor
    flat: torch.Tensor
    n_samples: int
    activation_elements: int


def batch_loss(model, data, n_samples, gen, device, batches=None) -> BatchLoss:
    """Set up the Hessian batch drawn with ``gen``; call with the model in eval mode.

    ``batches`` (a :class:`~extractors._common.BatchFormat`, default ``(input, label)``
    pairs) reads the batch and turns it into logits and labels.
    """
    n = check_dataset(data)
    batches = BatchFormat() if batches is None else batches
    dtype = floating_dtype(model)
    batch = batches.to(batches.gather(data, sample_indices(n, n_samples, gen)), dtype, device)
    params, buffers = functional_state(model, device)
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        raise ValueError(
            "expected a model with trainable parameters, got none with requires_grad=True; "
            "unfreeze the parameters whose curvature you want."
        )
    dtypes = {p.dtype for _, p in trainable}
    if len(dtypes) != 1 or not trainable[0][1].is_floating_point():
        raise ValueError(
            f"expected all trainable parameters to share one floating dtype, got {sorted(map(str, dtypes))}; "
            "convert the model with model.float() or model.double()."
        )
    names = [name for name, _ in trainable]
    shapes = [params[name].shape for name in names]
    sizes = [params[name].numel() for name in names]
    constants = {**{k: v for k, v in params.items() if k not in set(names)}, **buffers}
    flat = torch.cat([params[name].reshape(-1) for name in names])
    if batches.custom:  # the labels come from the forward hook
        with torch.no_grad():
            _, y = batches.logits(model, {**params, **buffers}, batch)
    else:
        y = batch[1]

    def logits(theta: torch.Tensor) -> torch.Tensor:
        pieces = theta.split(sizes)
        state = {name: piece.view(shape) for name, piece, shape in zip(names, pieces, shapes, strict=True)}
        state.update(constants)
        return batches.unchecked_logits(model, state, batch)[0]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        with EvalBatchNormAsAffine():
            out = logits(theta)
        check_outputs(out, y, y)
        return cross_entropy(out, y)

    counter = CountOutputs()
    with torch.no_grad(), counter:
        value = float(loss(flat))
    if not math.isfinite(value):
        raise ValueError(
            f"expected a finite loss on the Hessian batch, got {value}; the model produces "
            "non-finite logits (check its parameters and the input normalisation)."
        )
    return BatchLoss(loss, logits, y, flat, int(y.shape[0]), counter.elements)


def hvp_function(problem: BatchLoss):
    """``v -> Hv``: the gradient graph is built once and reused for every product
    (reverse over reverse; the Hessian is symmetric so the VJP is the HVP)."""
    _, vjp = torch.func.vjp(torch.func.grad(problem.loss), problem.flat)
    return lambda v: vjp(v)[0]
