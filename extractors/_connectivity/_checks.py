"""Argument checks shared by :func:`mode_connectivity` and :func:`linear_barrier`."""

from __future__ import annotations

from collections.abc import Sequence

from .._common import check_dataset, check_int, check_model, check_real, check_same_architecture

__all__ = ["check_pair", "check_points"]


def check_points(points) -> tuple[float, ...]:
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence):
        raise TypeError(f"expected points to be a sequence of floats, got {type(points).__name__}.")
    if len(points) == 0:
        raise ValueError("expected at least one point, got an empty sequence; pass e.g. (0.5,).")
    return tuple(check_real(t, "every point", 0.0, maximum=1.0) for t in points)


def check_pair(model_a, model_b, data, batch_size, points):
    check_model(model_a, "model_a")
    check_model(model_b, "model_b")
    check_dataset(data)
    check_same_architecture([model_a, model_b], ["model_a", "model_b"])
    return check_int(batch_size, "batch_size", 1), check_points(points)
