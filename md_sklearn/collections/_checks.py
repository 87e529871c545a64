"""Argument checks of build_collection: grids, data amounts, labels."""

import numbers

import torch

from extractors.utils import check_int, seed_from


def check_labels(labels, n_classes, name):
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.ndim != 1:
        raise ValueError(
            f"expected one integer class label per sample in {name}, got dtype {labels.dtype} "
            f"and shape {tuple(labels.shape)}; pass labels as a 1-d long tensor."
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"expected {name} labels in [0, {n_classes - 1}] for a model with {n_classes} "
            f"outputs, got labels from {low} to {high}; relabel the classes as 0 ... C-1."
        )


def check_grid(values, name, check):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") \
            or not hasattr(values, "__len__"):
        raise TypeError(
            f"expected {name} to be a list of values, got {type(values).__name__}; "
            f"pass e.g. {name}=[...] even for a single value."
        )
    checked = [check(value, name) for value in values]
    if not checked:
        raise ValueError(f"expected at least one value in {name}, got an empty sequence.")
    if len(set(checked)) != len(checked):
        repeated = sorted({v for v in checked if checked.count(v) > 1})
        raise ValueError(f"expected distinct values in {name}, got repeats of {repeated}.")
    return sorted(checked)


def positive_int(value, name):
    return check_int(value, f"each of {name}", 1)


def seed_value(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected each of {name} to be an int, got {type(value).__name__}.")
    return seed_from(int(value))


def check_amounts(amounts, n_train):
    for fraction, amount in amounts.items():
        if amount < 2:
            raise ValueError(
                f"expected each data fraction to keep at least 2 of the {n_train} training "
                f"samples, got {amount} for {fraction}; pass a larger data fraction."
            )
    if len(set(amounts.values())) != len(amounts):
        raise ValueError(
            f"expected data fractions that keep distinct numbers of samples, got {amounts} "
            f"for {n_train} training samples; drop the repeats."
        )
