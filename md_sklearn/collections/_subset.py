"""The exact training data of one configuration: the first images, with the noisy labels."""

import math
import numbers

import torch
from torch.utils.data import TensorDataset

from extractors.utils import check_dataset, check_int, check_real, gather, seed_from
from md_sklearn.collections._constants import EPOCH_SCALINGS
from md_sklearn.collections._noise import noisy_labels


def data_amount(n_samples, data_fraction):
    """Number of training images a fraction keeps: ``round(data_fraction * n_samples)``."""
    return int(math.floor(data_fraction * n_samples + 0.5))


def check_data_fraction(data_fraction, name="data_fraction"):
    if isinstance(data_fraction, bool) or not isinstance(data_fraction, numbers.Real):
        raise TypeError(
            f"expected {name} to be a real number in (0, 1], got {type(data_fraction).__name__}."
        )
    if not 0.0 < data_fraction <= 1.0:
        raise ValueError(
            f"expected {name} in (0, 1], got {data_fraction}; pass the share of the "
            "training set to use, e.g. 0.5 for its first half."
        )
    return float(data_fraction)


def epochs_for_fraction(epochs, data_fraction, epoch_scaling):
    """Epochs of a configuration: ``epochs`` on the full set, scaled by ``epoch_scaling``.

    ``"constant_steps"`` trains on a fraction ``f`` for ``round(epochs / f)``
    epochs, so every data amount gets about the same number of SGD steps (as
    the paper's research code); ``"constant_epochs"`` keeps ``epochs``.
    """
    if epoch_scaling == "constant_epochs":
        return epochs
    return max(1, int(math.floor(epochs / data_fraction + 0.5)))


def check_epoch_scaling(epoch_scaling):
    if epoch_scaling not in EPOCH_SCALINGS:
        raise ValueError(
            f"expected epoch_scaling to be one of {EPOCH_SCALINGS}, got {epoch_scaling!r}."
        )
    return epoch_scaling


def training_subset(train_data, data_fraction, *, label_noise=0.0, random_state=0,
                    n_classes=None):
    """Return the exact data a configuration of a collection was trained on.

    The label noise is drawn once over the *whole* training set from
    ``random_state`` (see :func:`load_digits_data` for the noise model), then
    the first ``round(data_fraction * len(train_data))`` samples are kept, as
    the paper kept the first ``N`` images. Every configuration of a collection
    therefore sees the same noisy label for the same image, and smaller
    fractions are prefixes of larger ones. Call it with the settings recorded
    in the collection's manifest (or use :meth:`Collection.training_data`).

    The samples are gathered into memory as two tensors.

    Parameters
    ----------
    train_data : torch.utils.data.Dataset
        The full training set, ``(input, label)`` pairs with clean labels.
    data_fraction : float
        Share of the training set to keep, in ``(0, 1]``.
    label_noise : float, default=0.0
        Probability in ``[0, 1]`` that a label is redrawn uniformly.
    random_state : int, default=0
        Seed of the label noise.
    n_classes : int or None, default=None
        Number of classes of the uniform redraw; required when
        ``label_noise > 0`` (a collection records it in its manifest).

    Returns
    -------
    subset : torch.utils.data.TensorDataset
        ``(inputs, labels)`` of the first samples, labels int64.

    Raises
    ------
    TypeError
        If ``train_data`` is not a dataset or an argument has the wrong type.
    ValueError
        If ``data_fraction`` is not in ``(0, 1]`` or keeps fewer than 2 samples,
        ``label_noise`` is not in ``[0, 1]``, ``n_classes`` is missing with
        label noise, or a label is outside ``0 ... n_classes - 1``.

    Examples
    --------
    >>> import torch
    >>> from md_sklearn.collections import load_digits_data, training_subset
    >>> train, _ = load_digits_data()
    >>> half = training_subset(train, 0.5)
    >>> len(half), torch.equal(half.tensors[0], train.tensors[0][:674])
    (674, True)
    >>> noisy = training_subset(train, 1.0, label_noise=0.1, random_state=0, n_classes=10)
    >>> noisy_digits, _ = load_digits_data(label_noise=0.1, random_state=0)
    >>> torch.equal(noisy.tensors[1], noisy_digits.tensors[1])
    True
    """
    n_samples = check_dataset(train_data, "train_data")
    data_fraction = check_data_fraction(data_fraction)
    label_noise = check_real(label_noise, "label_noise", 0.0, maximum=1.0)
    seed = seed_from(random_state)
    if label_noise > 0 and n_classes is None:
        raise ValueError(
            "expected n_classes with label_noise > 0, got n_classes=None; pass the number "
            "of classes of the model (a collection records it in its manifest)."
        )
    if n_classes is not None:
        n_classes = check_int(n_classes, "n_classes", 2)
    n_kept = data_amount(n_samples, data_fraction)
    if n_kept < 2:
        raise ValueError(
            f"expected data_fraction to keep at least 2 of the {n_samples} samples, got "
            f"{n_kept}; pass a larger data_fraction."
        )
    x, y = gather(train_data, torch.arange(n_samples))
    if y.is_floating_point() or y.dtype == torch.bool or y.ndim != 1:
        raise ValueError(
            f"expected one integer class label per sample, got labels of dtype {y.dtype} "
            f"and shape {tuple(y.shape)}; pass labels as a 1-d long tensor."
        )
    y = y.to(torch.int64)
    if n_classes is not None and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(
            f"expected labels in [0, {n_classes - 1}], got labels from {int(y.min())} to "
            f"{int(y.max())}; relabel the classes as 0 ... n_classes - 1."
        )
    if label_noise > 0:
        y = torch.from_numpy(noisy_labels(y.cpu().numpy(), label_noise, seed, n_classes))
    return TensorDataset(x[:n_kept], y[:n_kept])
