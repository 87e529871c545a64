"""``method="lmc"``: fine-tune copies from the anchor, then join them by straight lines."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch

from .._common import batch_slices
from ..defaults import MANIFOLD_LMC_POINTS, MANIFOLD_MOMENTUM
from ._landscape import Landscape

__all__ = ["LmcOutcome", "largest_clique", "linear_loss_barrier", "connect_copies"]


@dataclass(frozen=True)
class LmcOutcome:
    copies: torch.Tensor = field(repr=False)  # (n_copies, P)
    losses: tuple[float, ...]  # per copy
    barriers: tuple[float, ...]  # per pair, lexicographic
    connected: tuple[bool, ...]  # per pair
    clique: tuple[int, ...]  # indices of the largest connected clique


def linear_loss_barrier(landscape: Landscape, a: torch.Tensor, b: torch.Tensor,
                        loss_a: float, loss_b: float, points=MANIFOLD_LMC_POINTS) -> float:
    """``max_t [L((1-t) a + t b) - ((1-t) L(a) + t L(b))]`` over ``points`` (0 when a = b)."""
    excess = []
    for t in points:
        loss = landscape.loss(torch.lerp(a, b, t))
        excess.append(loss - (loss_a + t * (loss_b - loss_a)))
    return max(excess)


def largest_clique(n: int, edges: set[tuple[int, int]]) -> tuple[int, ...]:
    """The first (lexicographic) largest set of vertices ``0 … n-1`` all pairwise in ``edges``."""
    for size in range(n, 1, -1):
        for group in itertools.combinations(range(n), size):
            if all(pair in edges for pair in itertools.combinations(group, 2)):
                return group
    return (0,)


def _fine_tune(landscape: Landscape, n_steps: int, lr: float,
               gen: torch.Generator) -> torch.Tensor:
    theta = landscape.anchor.clone().requires_grad_(True)
    if n_steps == 0:
        return theta.detach()
    optimizer = torch.optim.SGD([theta], lr=lr, momentum=MANIFOLD_MOMENTUM)
    n = len(landscape.sample)
    slices, order, position = [], None, 0
    for step in range(n_steps):
        if position == len(slices):
            order = torch.randperm(n, generator=gen)
            slices, position = batch_slices(n, landscape.batch_size), 0
        batch = landscape.batch(order[slices[position]])
        position += 1
        loss = landscape.train_loss(theta, batch)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise ValueError(
                f"expected a finite fine-tuning loss, got {value} at step {step + 1}; "
                "lower lr."
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        landscape.n_train_steps += 1
    return theta.detach()


def connect_copies(landscape: Landscape, *, n_copies: int, n_steps: int, lr: float,
                   rtol: float, atol: float, gen: torch.Generator) -> LmcOutcome:
    """Fine-tune ``n_copies`` copies of the anchor (each its own batch order); a pair is
    connected when its straight-line loss barrier is at most ``rtol · max(L_i, L_j) + atol``."""
    copies = torch.stack([_fine_tune(landscape, n_steps, lr, gen) for _ in range(n_copies)])
    losses = [landscape.loss(c) for c in copies]
    barriers, connected, edges = [], [], set()
    for i, j in itertools.combinations(range(n_copies), 2):
        barrier = linear_loss_barrier(landscape, copies[i], copies[j], losses[i], losses[j])
        ok = barrier <= rtol * max(losses[i], losses[j]) + atol  # NaN fails
        barriers.append(barrier)
        connected.append(ok)
        if ok:
            edges.add((i, j))
    return LmcOutcome(copies=copies, losses=tuple(losses), barriers=tuple(barriers),
                      connected=tuple(connected), clique=largest_clique(n_copies, edges))
