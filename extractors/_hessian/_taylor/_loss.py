"""The curvature ``vᵀHv`` of the mean cross-entropy from the logits' derivatives along ``v``."""

from __future__ import annotations

import torch

__all__ = ["quadratic_forms"]


def quadratic_forms(logits: torch.Tensor, labels: torch.Tensor, first: torch.Tensor,
                    second: torch.Tensor) -> torch.Tensor:
    """``d²/dt²`` of the mean cross-entropy from the logits' derivatives along a direction.

    With ``p = softmax(z)``, ``L = mean_i CE(z_i, y_i)`` has
    ``L̈ = mean_i [żᵢᵀ (diag pᵢ - pᵢpᵢᵀ) żᵢ + (pᵢ - e_{yᵢ})ᵀ z̈ᵢ]``.
    """
    probabilities = torch.softmax(logits, dim=-1)
    residual = probabilities - torch.nn.functional.one_hot(labels, logits.shape[-1]).to(
        probabilities.dtype)
    spread = (probabilities * first.square()).sum(-1) - (probabilities * first).sum(-1).square()
    return (spread + (residual * second).sum(-1)).mean(-1)
