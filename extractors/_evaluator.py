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

from ._common import BatchFormat, check_forward, floating_dtype, owned_buffers
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
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for batches other than
        ``(input, label)`` pairs (:class:`extractors.utils.BatchFormat`).

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
    batch_format : BatchFormat
        How batches are read and evaluated.
    """

    def __init__(self, model: nn.Module, device: torch.device, forward=None):
        self.module = copy.deepcopy(model).to(device)
        self.module.requires_grad_(False)
        self.device = device
        self.dtype = floating_dtype(self.module)
        self.buffers = owned_buffers(self.module, device)
        self.batchnorms = [(name, m) for name, m in self.module.named_modules()
                           if isinstance(m, _BatchNorm) and m.track_running_stats]
        self.batch_format = (forward if isinstance(forward, BatchFormat)
                             else check_forward(forward))

    def to_device(self, batch):
        """A gathered batch on the copy's device, floating tensors in its dtype."""
        return self.batch_format.to(batch, self.dtype, self.device)

    def logits(self, params: dict, batch, buffers=None):
        """``(logits, labels)`` of a moved ``batch`` at ``params`` (with ``buffers``, default
        the copy's own), checked."""
        state = {**params, **(self.buffers if buffers is None else buffers)}
        return self.batch_format.logits(self.module, state, batch)

    def forward(self, params: dict, x, y, buffers=None):
        """Logits of the input ``x`` (labels ``y``) at ``params``, checked; for ``(input,
        label)`` batches (:meth:`logits` takes any batch)."""
        return self.logits(params, (x, y), buffers)[0]

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
                for batch in self.batch_format.batches(data, batch_size, merge_singleton=True):
                    size = self.batch_format.size(batch)
                    for _, m in self.batchnorms:
                        m.momentum = size / (seen + size)
                    self.logits(params, self.to_device(batch), buffers)
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
            wrong, loss_sum = self.batch_format.summed_error_and_loss(
                lambda batch: self.logits(params, batch, buffers),
                self.batch_format.batches(data, EVAL_BATCH_SIZE), self.dtype, self.device)
        n = len(data)
        return 100.0 * wrong / n, loss_sum / n
