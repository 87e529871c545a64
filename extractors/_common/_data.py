"""Which samples make a batch: one random batch, consecutive slices."""

from __future__ import annotations

import torch

__all__ = ["batch_slices", "sample_indices"]


def sample_indices(n: int, n_samples: int, gen: torch.Generator) -> torch.Tensor:
    """One random batch: ``n_samples`` distinct indices, or all of them when ``n`` is smaller."""
    if n <= n_samples:
        return torch.arange(n)
    return torch.randperm(n, generator=gen)[:n_samples]


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Consecutive slices of ``batch_size``; a trailing 1-sample slice joins the previous one
    (BatchNorm cannot take batch statistics of one sample)."""
    slices = [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    if len(slices) > 1 and slices[-1].stop - slices[-1].start == 1:
        slices[-2:] = [slice(slices[-2].start, n)]
    return slices
