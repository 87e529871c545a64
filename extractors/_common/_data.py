"""Reading ``(input, label)`` datasets: random batches, consecutive batches, gathering samples."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, TensorDataset, default_collate

__all__ = ["batch_slices", "gather", "iter_batches", "sample_indices"]


def gather(data: Dataset, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and labels of ``data`` at ``indices`` (CPU long tensor), as two tensors."""
    if isinstance(data, TensorDataset):
        items = tuple(t[indices] for t in data.tensors)
    else:
        items = default_collate([data[int(i)] for i in indices])
    if not isinstance(items, (tuple, list)) or len(items) != 2:
        raise ValueError(
            "expected each sample of data to be an (input, label) pair, got "
            f"{len(items) if isinstance(items, (tuple, list)) else type(items).__name__} "
            "items; use TensorDataset(inputs, labels)."
        )
    x, y = items
    if not torch.is_tensor(y):
        y = torch.as_tensor(y)
    return x, y


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


def iter_batches(data: Dataset, batch_size: int, order: torch.Tensor | None = None,
                 *, merge_singleton: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = len(data)
    order = torch.arange(n) if order is None else order
    if merge_singleton:
        slices = batch_slices(n, batch_size)
    else:
        slices = [slice(i, i + batch_size) for i in range(0, n, batch_size)]
    for s in slices:
        yield gather(data, order[s])
