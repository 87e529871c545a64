"""Symmetric label noise: each label redrawn uniformly with a fixed probability."""

import numpy as np


def noisy_labels(labels, label_noise, seed, n_classes):
    """Replace each label with probability ``label_noise`` by a uniform class draw.

    ``labels`` is a 1-d integer array. Both draws come from a generator seeded
    with ``seed`` alone, and every label consumes one draw of each, so the
    noise is a function of ``(seed, label position)``: the labels that change
    at a small ``label_noise`` also change (to the same class) at a larger one,
    and the first ``N`` labels do not depend on how many follow. A redraw may
    give back the original class, so about ``label_noise * (1 - 1 / n_classes)``
    of the labels end up wrong.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, 1])  # stream 1: label noise (stream 0 splits data)
    redraw = rng.random(labels.shape[0]) < label_noise
    replacement = rng.integers(0, n_classes, size=labels.shape[0])
    return np.where(redraw, replacement, labels).astype(np.int64)
