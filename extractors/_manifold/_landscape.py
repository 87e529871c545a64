"""The loss of an architecture at flat parameter vectors, and the searches over it.

Shared by the three methods of :func:`extractors.manifold_size`: a fixed data
sample, a private copy of the model evaluated with :func:`torch.func.functional_call`
(the package's :class:`~extractors.utils.PointEvaluator`, which re-estimates the
BatchNorm statistics at every evaluated point as :func:`extractors.mode_connectivity`
does), a counter of evaluations, and the geometric line search that finds how far a
step may go while the loss stays under a limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.utils.data import Dataset

from .._common import cross_entropy
from .._evaluator import PointEvaluator
from .._layout import ParameterLayout

__all__ = ["Landscape", "dirichlet_weights", "filter_normalised_direction",
           "geometric_line_search", "relative_noise"]


class Landscape:
    """Mean cross-entropy of the model's architecture on a fixed sample, at any point.

    Parameters
    ----------
    model : torch.nn.Module
        Gives the architecture and the anchor point; not modified (a private copy is
        evaluated).
    sample : Dataset
        The fixed sample (a ``TensorDataset`` of ``(inputs, labels)``, or any dataset
        ``forward`` reads); every loss is measured on all of it.
    batch_size : int
        Mini-batch size of the BatchNorm re-estimate and of training steps.
    device : torch.device
    forward : callable or None, default=None
        The ``forward(model, batch) -> (logits, labels)`` hook (``extractors.utils.BatchFormat``).
    """

    def __init__(self, model, sample: Dataset, batch_size: int, device: torch.device,
                 forward=None):
        self.layout = ParameterLayout(model)
        self.worker = PointEvaluator(model, device, forward)
        self.sample = sample
        self.batch_size = batch_size
        self.device = device
        self.anchor = self.layout.flatten(model, device)
        self.n_evaluations = 0
        self.n_train_steps = 0

    @property
    def anchor_norm(self) -> float:
        return float(self.anchor.double().norm())

    def loss(self, flat: torch.Tensor) -> float:
        """Eval-mode mean loss at ``flat`` after re-estimating BatchNorm there (NaN allowed)."""
        self.n_evaluations += 1
        params = self.layout.unflatten(flat.detach())
        return self.worker.error_and_loss(params, self.sample, self.batch_size)[1]

    def batch(self, indices: torch.Tensor):
        """The sample's batch at ``indices``, on the device."""
        return self.worker.to_device(self.worker.batch_format.gather(self.sample, indices))

    def train_loss(self, flat: torch.Tensor, batch) -> torch.Tensor:
        """Differentiable mini-batch loss at ``flat``: BatchNorm on batch statistics,
        dropout off (the running statistics of the private copy change; every
        evaluation re-estimates them anyway)."""
        self.worker.set_mode(True, batchnorm_only=True)
        return cross_entropy(*self.worker.logits(self.layout.unflatten(flat), batch))


def dirichlet_weights(gen: torch.Generator, n_points: int, n_vertices: int) -> torch.Tensor:
    """``n_points`` float64 rows drawn from Dirichlet(1, ..., 1): normalised Exp(1) draws
    (uniform on the simplex), from ``gen`` on the CPU."""
    uniform = torch.rand((n_points, n_vertices), generator=gen, dtype=torch.float64)
    exponential = -torch.log1p(-uniform)
    return exponential / exponential.sum(dim=1, keepdim=True)


def relative_noise(layout: ParameterLayout, anchor: torch.Tensor, scale: float,
                   gen: torch.Generator) -> torch.Tensor:
    """Gaussian noise whose norm, per parameter tensor, is about ``scale`` times the
    tensor's norm at ``anchor`` (the whole model's RMS stands in for all-zero tensors)."""
    pieces = anchor.split(layout.sizes)
    overall_rms = float(anchor.double().pow(2).mean().sqrt()) or 1.0
    noise = []
    for piece in pieces:
        rms = float(piece.double().pow(2).mean().sqrt()) or overall_rms
        draw = torch.randn(piece.numel(), generator=gen, dtype=torch.float64)
        noise.append(draw * (scale * rms))
    return torch.cat(noise).to(anchor.device, anchor.dtype)


def filter_normalised_direction(layout: ParameterLayout, anchor: torch.Tensor,
                                gen: torch.Generator) -> torch.Tensor:
    """A Gaussian direction with every filter scaled to the norm of the anchor's filter.

    Filter normalisation of Li et al. (2018): for every parameter tensor with two or
    more dimensions, each output unit (row of a ``Linear`` weight, output channel of a
    convolution) gets the norm of the same unit at ``anchor``; one-dimensional tensors
    (biases, BatchNorm scales and shifts) are left out (zero), as in their default.
    """
    pieces = []
    for piece, shape in zip(anchor.split(layout.sizes), layout.shapes, strict=True):
        draw = torch.randn(piece.numel(), generator=gen, dtype=torch.float64)
        if len(shape) < 2:
            pieces.append(torch.zeros_like(draw))
            continue
        rows = draw.view(shape[0], -1)
        target = piece.detach().double().cpu().view(shape[0], -1).norm(dim=1, keepdim=True)
        norms = rows.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
        pieces.append((rows / norms * target).reshape(-1))
    return torch.cat(pieces).to(anchor.device, anchor.dtype)


def geometric_line_search(passes: Callable[[float], bool], start: float, max_doublings: int,
                          max_halvings: int, n_bisections: int) -> float:
    """Largest step ``s`` found with ``passes(s)`` true, searched on a log scale.

    From ``start``: double while the step passes (at most ``max_doublings`` times), or
    halve until it passes (at most ``max_halvings`` times); then ``n_bisections``
    geometric bisections between the last passing and the first failing step.
    Returns the largest passing step seen, capped at ``start · 2**max_doublings``,
    or ``0.0`` when even ``start · 2**-max_halvings`` fails.
    """
    if passes(start):
        low, high = start, None
        for _ in range(max_doublings):
            if not passes(2.0 * low):
                high = 2.0 * low
                break
            low *= 2.0
        if high is None:
            return low
    else:
        low, high = None, start
        for _ in range(max_halvings):
            if passes(0.5 * high):
                low = 0.5 * high
                break
            high *= 0.5
        if low is None:
            return 0.0
    for _ in range(n_bisections):
        middle = math.sqrt(low * high)
        if passes(middle):
            low = middle
        else:
            high = middle
    return low
