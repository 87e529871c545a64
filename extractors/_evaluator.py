"""A private copy of a model's architecture, evaluated at any parameter point.

Shared by mode connectivity (curve training and the points on the curve), the linear
barrier and the manifold-size landscape: the network runs through
:func:`torch.func.functional_call` with the parameters it is given, and the BatchNorm
running statistics can be re-estimated exactly at those parameters before the
eval-mode error is measured (see ``docs/extractors.rst``, *Mode connectivity*).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ._common import (
    floating_dtype,
    forward_logits,
    iter_batches,
    owned_buffers,
    summed_error_and_loss,
    to_model_input,
)
from .defaults import EVAL_BATCH_SIZE

__all__ = ["PointEvaluator"]


class PointEvaluator:
    """A private copy of the architecture on which every parameter point is evaluated.

    Parameters
    ----------
    model : torch.nn.Module
        Gives the architecture, the buffers and the dtype; not modified (a deep copy is
        moved to ``device`` and frozen).
    device : torch.device
        Where the copy lives.

    Attributes
    ----------
    module : torch.nn.Module
        The private copy (``requires_grad=False``).
    device : torch.device
    dtype : torch.dtype or None
        The copy's floating dtype; inputs are cast to it.
    buffers : dict
        The copy's own buffers (running statistics), used when none are passed.
    batchnorms : list of (str, torch.nn.Module)
        The BatchNorm layers that track running statistics.
    """

    def __init__(self, model: nn.Module, device: torch.device):
        self.module = copy.deepcopy(model).to(device)
        self.module.requires_grad_(False)
        self.device = device
        self.dtype = floating_dtype(self.module)
        self.buffers = owned_buffers(self.module, device)
        self.batchnorms = [(name, m) for name, m in self.module.named_modules()
                           if isinstance(m, _BatchNorm) and m.track_running_stats]

    def forward(self, params: dict, x, y, buffers=None):
        """Logits at ``params`` (with ``buffers``, default the copy's own), checked."""
        state = {**params, **(self.buffers if buffers is None else buffers)}
        return forward_logits(self.module, state, x, y)

    def set_mode(self, train: bool, batchnorm_only: bool = False) -> None:
        """Train or eval mode; with ``batchnorm_only`` only BatchNorm layers switch."""
        self.module.train(train and not batchnorm_only)
        if batchnorm_only:
            for _, m in self.batchnorms:
                m.train(train)

    def reestimated_buffers(self, params: dict, data, batch_size: int) -> dict:
        """Buffers whose BatchNorm statistics are the exact averages over ``data`` at ``params``.

        One pass in train mode (BatchNorm layers only; dropout stays off), each batch
        weighted by its size, as in Garipov et al.'s ``update_bn``.
        """
        buffers = {n: b.clone() for n, b in self.buffers.items()}
        if not self.batchnorms:
            return buffers
        if len(data) < 2:
            raise ValueError(
                "expected at least 2 samples to re-estimate the BatchNorm statistics, got 1; "
                "pass the whole training set."
            )
        for name, _ in self.batchnorms:
            prefix = f"{name}." if name else ""
            buffers[prefix + "running_mean"].zero_()
            buffers[prefix + "running_var"].fill_(1.0)
            buffers[prefix + "num_batches_tracked"].zero_()
        momenta = [m.momentum for _, m in self.batchnorms]
        seen = 0
        try:
            self.set_mode(True, batchnorm_only=True)
            with torch.no_grad():
                for x, y in iter_batches(data, batch_size, merge_singleton=True):
                    size = x.shape[0]
                    for _, m in self.batchnorms:
                        m.momentum = size / (seen + size)
                    self.forward(params, to_model_input(x, self.dtype, self.device),
                                 y.to(self.device), buffers)
                    seen += size
        finally:
            for (_, m), momentum in zip(self.batchnorms, momenta, strict=True):
                m.momentum = momentum
        return buffers

    def error_and_loss(self, params: dict, data, batch_size: int) -> tuple[float, float]:
        """Eval-mode train error (percent) and mean loss at ``params`` over all of ``data``,
        after re-estimating the BatchNorm statistics there."""
        buffers = self.reestimated_buffers(params, data, batch_size)
        self.set_mode(False)
        with torch.no_grad():
            wrong, loss_sum = summed_error_and_loss(
                lambda x, y: self.forward(params, x, y, buffers),
                iter_batches(data, EVAL_BATCH_SIZE), self.dtype, self.device)
        n = len(data)
        return 100.0 * wrong / n, loss_sum / n
