"""Training the middle point of the Bezier curve between two models."""

from __future__ import annotations

import math

import torch

from .._common import batch_slices, cross_entropy
from .._evaluator import PointEvaluator
from .._layout import ParameterLayout
from ..defaults import LR_SCHEDULE_DECAY_UNTIL, LR_SCHEDULE_FINAL_FACTOR, LR_SCHEDULE_FLAT_UNTIL

__all__ = ["garipov_lr_factor", "train_curve"]


def garipov_lr_factor(epoch: int, epochs: int) -> float:
    """Learning-rate factor of Garipov et al. (2018) for 0-based ``epoch``."""
    fraction = epoch / epochs
    if fraction <= LR_SCHEDULE_FLAT_UNTIL:
        return 1.0
    if fraction <= LR_SCHEDULE_DECAY_UNTIL:
        span = LR_SCHEDULE_DECAY_UNTIL - LR_SCHEDULE_FLAT_UNTIL
        return 1.0 - (fraction - LR_SCHEDULE_FLAT_UNTIL) / span * (1.0 - LR_SCHEDULE_FINAL_FACTOR)
    return LR_SCHEDULE_FINAL_FACTOR


def train_curve(worker: PointEvaluator, layout: ParameterLayout, end_a: torch.Tensor,
                middle: torch.Tensor, end_b: torch.Tensor, data, epochs: int, batch_size: int,
                lr: float, momentum: float, weight_decay: float, gen: torch.Generator,
                progress: bool) -> None:
    """Train the middle point ``middle`` of the quadratic Bezier curve in place.

    Per mini-batch of a fresh shuffle (drawn from ``gen``) a ``t ~ U(0, 1)`` is drawn
    and ``CE(θ(t)) + ½ · weight_decay · ||θ(t)||²`` is lowered by SGD with momentum,
    under :func:`garipov_lr_factor`; ``worker`` stays in train mode.  The ends are flat
    vectors of ``layout``; ``middle`` is one too, with ``requires_grad=True``.
    ``epochs=0`` does nothing.  This is the loop of :func:`extractors.mode_connectivity`,
    public in :mod:`extractors.utils` so the benchmarks can time one epoch of it.

    Raises
    ------
    ValueError
        If the training loss becomes non-finite (the message names the epoch and step).
    ImportError
        If ``progress=True`` and ``tqdm`` is not installed.
    """
    if epochs == 0:
        return
    optimizer = torch.optim.SGD([middle], lr=lr, momentum=momentum)
    n = len(data)
    epoch_range = range(epochs)
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError(
                'progress=True needs tqdm, which is not installed; install it with: pip install '
                '"md-sklearn[torch]" (or pip install tqdm), or pass progress=False.'
            ) from exc
        epoch_range = tqdm(epoch_range, desc="curve training", unit="epoch")
    worker.set_mode(True)
    for epoch in epoch_range:
        for group in optimizer.param_groups:
            group["lr"] = lr * garipov_lr_factor(epoch, epochs)
        order = torch.randperm(n, generator=gen)
        for step, part in enumerate(batch_slices(n, batch_size)):
            batch = worker.to_device(worker.batch_format.gather(data, order[part]))
            t = float(torch.rand((), generator=gen))
            with torch.no_grad():
                ends = (1 - t) ** 2 * end_a + t**2 * end_b
            theta = torch.add(ends, middle, alpha=2 * t * (1 - t))
            loss = cross_entropy(*worker.logits(layout.unflatten(theta), batch))
            if weight_decay:
                loss = loss + 0.5 * weight_decay * torch.dot(theta, theta)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise ValueError(
                    f"expected a finite curve-training loss, got {value} at epoch "
                    f"{epoch + 1}, step {step + 1}; lower lr or check the models for inf/NaN."
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
