"""Argument checks with messages that name the problem and the fix."""

from __future__ import annotations

import numbers

from torch import nn
from torch.utils.data import Dataset

__all__ = ["check_dataset", "check_int", "check_model", "check_real", "check_same_architecture"]


def check_model(model, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"expected {name} to be a torch.nn.Module, got {type(model).__name__}; "
            "pass the trained network itself."
        )
    return model


def check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}; pass a larger {name}.")
    return int(value)


def check_real(value, name: str, minimum: float, *, strict: bool = False,
               maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected {name} to be a real number, got {type(value).__name__}.")
    value = float(value)
    too_small = value <= minimum if strict else value < minimum
    if too_small or (maximum is not None and value > maximum) or value != value:
        bound = f"{'>' if strict else '>='} {minimum}"
        if maximum is not None:
            bound += f" and <= {maximum}"
        raise ValueError(f"expected {name} {bound}, got {value}.")
    return value


def check_dataset(data, name: str = "data") -> int:
    if not isinstance(data, Dataset):
        raise TypeError(
            f"expected {name} to be a torch.utils.data.Dataset, got {type(data).__name__}; "
            "wrap tensors as torch.utils.data.TensorDataset(inputs, labels)."
        )
    try:
        n = len(data)
    except TypeError as exc:
        raise TypeError(f"expected {name} to have a length, got {type(data).__name__}.") from exc
    if n == 0:
        raise ValueError(f"expected a non-empty {name}, got a dataset of 0 samples.")
    return n


def check_same_architecture(models, labels) -> None:
    """Raise ``ValueError`` naming the first parameter (then buffer) that differs."""
    for kind, named in (("parameter", nn.Module.named_parameters),
                        ("buffer", nn.Module.named_buffers)):
        reference = [(n, tuple(t.shape)) for n, t in named(models[0])]
        for model, label in zip(models[1:], labels[1:], strict=True):
            other = [(n, tuple(t.shape)) for n, t in named(model)]
            for (name_a, shape_a), (name_b, shape_b) in zip(reference, other, strict=False):
                if name_a != name_b or shape_a != shape_b:
                    raise ValueError(
                        f"expected models of the same architecture, got {labels[0]} {kind} "
                        f"{name_a!r} of shape {shape_a} but {label} {kind} {name_b!r} of shape "
                        f"{shape_b}; compare models built by the same constructor."
                    )
            if len(reference) != len(other):
                longer, which = ((reference, labels[0]) if len(reference) > len(other)
                                 else (other, label))
                name, shape = longer[min(len(reference), len(other))]
                raise ValueError(
                    f"expected models of the same architecture, got {kind} {name!r} of shape "
                    f"{shape} only in {which}; compare models built by the same constructor."
                )
