"""``method="radius"``: how far random filter-normalised directions stay low-loss."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..defaults import (
    MANIFOLD_MAX_DOUBLINGS,
    MANIFOLD_MAX_HALVINGS,
    MANIFOLD_N_BISECTIONS,
    MANIFOLD_RADIUS_START,
)
from ._landscape import Landscape, filter_normalised_direction, geometric_line_search

__all__ = ["RadiusOutcome", "directional_radii"]


@dataclass(frozen=True)
class RadiusOutcome:
    radii: tuple[float, ...]
    boundary_points: torch.Tensor = field(repr=False)  # (n_directions, P): anchor + radius * direction
    losses: tuple[float, ...]  # at the accepted radius; NaN where the radius is 0


def directional_radii(landscape: Landscape, *, n_directions: int, threshold: float,
                      gen: torch.Generator) -> RadiusOutcome:
    """For each of ``n_directions`` random filter-normalised directions ``d``, the largest
    ``r`` found with ``loss(θ₀ + r d) <= threshold`` (forward passes only)."""
    anchor = landscape.anchor
    radii, points, losses = [], [], []
    for _ in range(n_directions):
        direction = filter_normalised_direction(landscape.layout, anchor, gen)
        if not bool(direction.any()):
            raise ValueError(
                "expected a model with at least one weight of two or more dimensions "
                "(Linear or convolution), got only one-dimensional parameters; use "
                "method='simplex'."
            )
        seen = {}

        def passes(radius: float, direction=direction, seen=seen) -> bool:
            loss = landscape.loss(anchor + radius * direction)
            seen[radius] = loss
            return loss <= threshold  # NaN fails

        radius = geometric_line_search(passes, MANIFOLD_RADIUS_START, MANIFOLD_MAX_DOUBLINGS,
                                       MANIFOLD_MAX_HALVINGS, MANIFOLD_N_BISECTIONS)
        radii.append(radius)
        points.append(anchor + radius * direction)
        losses.append(seen.get(radius, float("nan")))
    return RadiusOutcome(radii=tuple(radii), boundary_points=torch.stack(points),
                         losses=tuple(losses))
