"""``method="simplex"``: grow a low-loss simplex from the anchor, one vertex at a time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .._common import batch_slices
from ..defaults import (
    MANIFOLD_INIT_NOISE,
    MANIFOLD_MAX_DOUBLINGS,
    MANIFOLD_MAX_HALVINGS,
    MANIFOLD_MOMENTUM,
    MANIFOLD_N_BISECTIONS,
    MANIFOLD_N_INTERIOR,
    MANIFOLD_POINTS_PER_STEP,
)
from ._landscape import (
    Landscape,
    dirichlet_weights,
    geometric_line_search,
    relative_noise,
)
from ._volume import edges_log_volume, simplex_log_volume

__all__ = ["SimplexOutcome", "grow_simplex"]


@dataclass(frozen=True)
class SimplexOutcome:
    vertices: torch.Tensor = field(repr=False)  # (1 + accepted, P): the anchor first
    worst_losses: tuple[float, ...]  # per accepted vertex
    log_volume: float


def grow_simplex(landscape: Landscape, *, n_vertices: int, threshold: float, n_steps: int,
                 lr: float, volume_weight: float, gen: torch.Generator) -> SimplexOutcome:
    """Add up to ``n_vertices`` vertices to the anchor; stop at the first one rejected.

    Each new vertex starts at the centroid of the current vertices plus relative
    per-tensor noise, is trained (alone) for ``n_steps`` steps to keep random convex
    combinations of all vertices low-loss while ``volume_weight`` times the simplex
    log-volume is maximised, and is then placed on the line from the centroid through
    the trained point at the largest scale whose check points all have a loss of at
    most ``threshold`` (geometric doubling or halving, then bisection).
    """
    vertices = landscape.anchor.unsqueeze(0)
    worst_losses = []
    for _ in range(n_vertices):
        centroid = vertices.mean(dim=0)
        start = centroid + relative_noise(landscape.layout, landscape.anchor,
                                          MANIFOLD_INIT_NOISE, gen)
        trained = _train_vertex(landscape, vertices, start, n_steps, lr, volume_weight, gen)
        accepted = _place_vertex(landscape, vertices, centroid, trained, threshold, gen)
        if accepted is None:
            break
        vertex, worst = accepted
        vertices = torch.cat([vertices, vertex.unsqueeze(0)])
        worst_losses.append(worst)
    return SimplexOutcome(vertices=vertices, worst_losses=tuple(worst_losses),
                          log_volume=simplex_log_volume(vertices))


def _train_vertex(landscape: Landscape, vertices: torch.Tensor, start: torch.Tensor,
                  n_steps: int, lr: float, volume_weight: float,
                  gen: torch.Generator) -> torch.Tensor:
    if n_steps == 0:
        return start
    vertex = start.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([vertex], lr=lr, momentum=MANIFOLD_MOMENTUM)
    n = len(landscape.sample)
    n_existing = vertices.shape[0]
    slices, order, position = [], None, 0
    for step in range(n_steps):
        if position == len(slices):  # a new epoch over the sample
            order = torch.randperm(n, generator=gen)
            slices, position = batch_slices(n, landscape.batch_size), 0
        batch = landscape.batch(order[slices[position]])
        position += 1
        weights = dirichlet_weights(gen, MANIFOLD_POINTS_PER_STEP, n_existing + 1)
        weights = weights.to(landscape.device, vertex.dtype)
        loss = 0.0
        for w in weights:
            theta = w[:-1] @ vertices + w[-1] * vertex
            loss = loss + landscape.train_loss(theta, batch)
        loss = loss / MANIFOLD_POINTS_PER_STEP
        value = float(loss.detach())
        if not math.isfinite(value):
            raise ValueError(
                f"expected a finite loss while training simplex vertex {n_existing}, got "
                f"{value} at step {step + 1}; lower lr or volume_weight."
            )
        edges = torch.cat([vertices[1:], vertex.unsqueeze(0)]) - vertices[:1]
        objective = loss - volume_weight * edges_log_volume(edges)
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()
        landscape.n_train_steps += 1
    return vertex.detach()


def _place_vertex(landscape: Landscape, vertices: torch.Tensor, centroid: torch.Tensor,
                  trained: torch.Tensor, threshold: float, gen: torch.Generator):
    """``(vertex, worst check loss)`` at the largest passing scale, or ``None``."""
    n_existing = vertices.shape[0]
    interior = dirichlet_weights(gen, MANIFOLD_N_INTERIOR, n_existing + 1)
    interior = interior.to(landscape.device, vertices.dtype)
    displacement = trained - centroid
    worst = {}

    def check_points(vertex):
        yield vertex  # the far end fails first: check it first
        for other in vertices:
            yield 0.5 * (vertex + other)
        for w in interior:
            yield w[:-1] @ vertices + w[-1] * vertex

    def passes(scale: float) -> bool:
        vertex = centroid + scale * displacement
        largest = -math.inf
        for point in check_points(vertex):
            loss = landscape.loss(point)
            if not loss <= threshold:  # NaN fails too
                return False
            largest = max(largest, loss)
        worst[scale] = largest
        return True

    scale = geometric_line_search(passes, 1.0, MANIFOLD_MAX_DOUBLINGS, MANIFOLD_MAX_HALVINGS,
                                  MANIFOLD_N_BISECTIONS)
    if scale == 0.0:
        return None
    return centroid + scale * displacement, worst[scale]
