"""scikit-learn's 8x8 handwritten digits as torch datasets, with optional label noise."""

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import TensorDataset

from extractors.utils import check_real, seed_from
from md_sklearn.collections._noise import noisy_labels

DIGITS_N_CLASSES = 10
"""Classes of :func:`sklearn.datasets.load_digits`."""


def load_digits_data(*, test_fraction=0.25, label_noise=0.0, random_state=0):
    """Split the 1,797 digits into standardised train and test ``TensorDataset`` objects.

    The split is stratified and shuffled, so "the first ``N`` training images"
    is a random class-balanced subset. Inputs are float32 images of shape
    ``(N, 1, 8, 8)``, standardised with the mean and standard deviation of all
    training pixels (one scalar each, so the test set never leaks into them);
    labels are int64 class indices in ``0 ... 9``.

    With ``label_noise = p``, each *training* label is independently replaced,
    with probability ``p``, by a label drawn uniformly from the 10 classes (it
    may draw its own class, so about ``0.9 p`` of the labels end up wrong), as
    in the paper's noisy collection. Test labels stay clean. The noise is a
    function of ``random_state`` only: the same call always returns the same
    noisy labels.

    Needs the ``torch`` extra (``pip install md-sklearn[torch]``).

    Parameters
    ----------
    test_fraction : float, default=0.25
        Share of the images held out as the test set, in ``(0, 1)``.
    label_noise : float, default=0.0
        Probability ``p`` in ``[0, 1]`` that a training label is redrawn.
    random_state : int or None, default=0
        Seed of the split and of the label noise; ``None`` draws one from
        torch's global generator.

    Returns
    -------
    train : torch.utils.data.TensorDataset
        ``(inputs, labels)`` of the training split (labels noisy if asked).
    test : torch.utils.data.TensorDataset
        ``(inputs, labels)`` of the test split, clean labels.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``test_fraction`` is not in ``(0, 1)``, ``label_noise`` not in
        ``[0, 1]``, or ``random_state`` is negative.

    Examples
    --------
    >>> from md_sklearn.collections import load_digits_data
    >>> train, test = load_digits_data()
    >>> len(train), len(test)
    (1347, 450)
    >>> x, y = train.tensors
    >>> x.shape, x.dtype, y.dtype
    (torch.Size([1347, 1, 8, 8]), torch.float32, torch.int64)
    >>> round(float(x.mean()), 6), round(float(x.std()), 3)
    (0.0, 1.0)
    >>> noisy, _ = load_digits_data(label_noise=0.1)
    >>> changed = float((noisy.tensors[1] != y).float().mean())
    >>> 0.05 < changed < 0.13
    True
    """
    test_fraction = check_real(test_fraction, "test_fraction", 0.0, strict=True)
    if test_fraction >= 1.0:
        raise ValueError(
            f"expected 0 < test_fraction < 1, got {test_fraction}; pass e.g. test_fraction=0.25."
        )
    label_noise = check_real(label_noise, "label_noise", 0.0, maximum=1.0)
    seed = seed_from(random_state)

    digits = load_digits()
    images = digits.images.astype(np.float32)[:, None, :, :]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype(np.int64), test_size=test_fraction,
        random_state=seed % 2**32, stratify=digits.target,
    )
    mean, std = x_train.mean(), x_train.std()
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    y_train = noisy_labels(y_train, label_noise, seed, DIGITS_N_CLASSES)
    return (
        TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
        TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test)),
    )

