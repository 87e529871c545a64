"""What the two Hessian estimators share: their argument checks and stopping rule, and
the check of the trace's precision target."""

from __future__ import annotations

import math
import numbers

from .._common import check_dataset, check_int, check_model, check_real, resolve_device, seed_from
from ..defaults import RELATIVE_CHANGE_FLOOR

__all__ = ["check_arguments", "check_target", "relative_change"]


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


def check_target(target_se, target_relative_se):
    """The trace's precision target as ``(kind, level)``, or None for the paper's rule."""
    given = [(kind, name, value) for kind, name, value in (
        ("absolute", "target_se", target_se),
        ("relative", "target_relative_se", target_relative_se)) if value is not None]
    if len(given) > 1:
        raise ValueError(
            "expected at most one of target_se and target_relative_se, got both; pass "
            "target_se for an absolute standard error of the trace, or target_relative_se "
            "for one relative to the trace (the standard error of its log).")
    if not given:
        return None
    kind, name, value = given[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected {name} to be a real number or None, got {type(value).__name__}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"expected {name} to be a finite number > 0, got {value}; pass the standard "
            "error you want the estimate to reach (e.g. 0.02), or None for the paper's "
            "rtol rule.")
    return kind, float(value)
