"""Argument checks shared by the expansion operators."""

from __future__ import annotations

import math
import numbers

from torch import nn

WIDENABLE = (nn.Linear, nn.Conv2d)
"""Layer types whose units :func:`widen` can replicate (Conv2d with ``groups=1``)."""


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        options = " or ".join(repr(c) for c in choices)
        raise ValueError(f"expected {name} to be {options}, got {value!r}.")
    return value


def check_factor(factor) -> float:
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
        raise TypeError(
            f"expected factor to be a real number, got {type(factor).__name__}; "
            "pass e.g. factor=2 to double the width."
        )
    factor = float(factor)
    if not math.isfinite(factor) or factor < 1:
        raise ValueError(
            f"expected factor >= 1 (a finite width multiplier), got {factor}; widen only grows "
            "a layer: pass factor=1.5 for 50 % more units."
        )
    return factor


def widened_width(width: int, factor: float) -> int:
    """``round(factor * width)`` with halves rounded up: ``floor(factor * width + 0.5)``."""
    return max(width, math.floor(factor * width + 0.5))


def check_layer_name(model: nn.Module, name, argument: str) -> nn.Module:
    """The submodule of ``model`` called ``name`` (a key of ``named_modules()``)."""
    if not isinstance(name, str):
        raise TypeError(
            f"expected {argument} to be a module name (str) as in model.named_modules(), "
            f"got {type(name).__name__}."
        )
    modules = dict(model.named_modules())
    if name not in modules:
        layers = [n for n, m in modules.items() if isinstance(m, (*WIDENABLE, nn.ReLU))]
        listed = ", ".join(repr(n) for n in layers[:12]) + (", ..." if len(layers) > 12 else "")
        raise ValueError(
            f"expected {argument} to name a submodule of the model, got {name!r}, which "
            f"model.named_modules() does not contain; its Linear, Conv2d and ReLU layers are "
            f"{listed or 'none'}."
        )
    return modules[name]
