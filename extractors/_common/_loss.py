"""The checks of a classifier's logits and labels, and its cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["check_outputs", "cross_entropy"]


def check_outputs(out, x: torch.Tensor, y: torch.Tensor) -> None:
    """Model output must be (batch, classes) logits; labels integers in range."""
    if not torch.is_tensor(out) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise ValueError(
            f"expected the model output to be (batch, classes) = ({x.shape[0]}, C) logits, "
            f"got {shape}; make the model return one row of class scores per sample."
        )
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(
            f"expected integer class labels, got dtype {y.dtype}; pass labels as a long tensor."
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"expected one label per sample, shape ({x.shape[0]},), got {tuple(y.shape)}."
        )
    n_classes = out.shape[1]
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"expected labels in [0, {n_classes - 1}] for a model with {n_classes} outputs, "
            f"got labels from {low} to {high}; relabel the classes as 0 ... C-1."
        )


def cross_entropy(out: torch.Tensor, y: torch.Tensor, reduction: str = "mean"):
    return F.cross_entropy(out, y.to(out.device, torch.long), reduction=reduction)
