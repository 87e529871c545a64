"""What the two Hessian estimators share: their argument checks and stopping rule."""

from __future__ import annotations

from .._common import check_dataset, check_int, check_model, check_real, resolve_device, seed_from
from ..defaults import RELATIVE_CHANGE_FLOOR

__all__ = ["check_arguments", "relative_change"]


def relative_change(new: float, old: float) -> float:
    """``|new - old| / (|old| + 1e-6)``: the change that stops both estimators."""
    return abs(new - old) / (abs(old) + RELATIVE_CHANGE_FLOOR)


def check_arguments(model, data, n_samples, count, count_name, rtol, random_state, device):
    check_model(model)
    check_dataset(data)
    n_samples = check_int(n_samples, "n_samples", 1)
    count = check_int(count, count_name, 1)
    rtol = check_real(rtol, "rtol", 0.0)
    return n_samples, count, rtol, seed_from(random_state), resolve_device(device)
