"""The study's two datasets (no download) and their width-scalable models."""

from __future__ import annotations

import random

import numpy as np

from benchmarks.study._grid import DATASETS, MNIST1D_TRAIN, STUDY_SEED

#: What to install when mnist1d is missing.
STUDY_EXTRA = 'pip install "md-sklearn[study]"'


def check_datasets(names):
    """``names`` as a tuple of known dataset names, in the study's order."""
    if isinstance(names, str):
        names = [n for n in names.split(",") if n]
    names = list(names)
    unknown = [n for n in names if n not in DATASETS]
    if unknown or not names:
        raise ValueError(
            f"expected dataset names among {list(DATASETS)}, got {names!r}; pass e.g. "
            f"--datasets {','.join(DATASETS)}."
        )
    return tuple(n for n in DATASETS if n in names)


def load_mnist1d_data(n_train=MNIST1D_TRAIN):
    """MNIST-1D built locally by ``mnist1d.data.make_dataset()`` (no network).

    The package's default arguments (5,000 signals of length 40, seed 42, 80 %
    train) are used; the first ``n_train`` training signals are kept, the 1,000 test
    signals all. The global ``random``/NumPy generators, which ``make_dataset``
    reseeds, are restored afterwards.

    Parameters
    ----------
    n_train : int, default=2000
        Training signals kept (at most 4,000).

    Returns
    -------
    train, test : torch.utils.data.TensorDataset
        Float32 inputs of shape ``(N, 40)`` and int64 labels in ``0 ... 9``.

    Raises
    ------
    ImportError
        If the ``mnist1d`` package (the ``study`` extra) is not installed.
    """
    import torch
    from torch.utils.data import TensorDataset

    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:
        raise ImportError(
            f"the MNIST-1D collections need the mnist1d package, which is not installed; "
            f"install the study extra with `{STUDY_EXTRA}`."
        ) from error
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(get_dataset_args())  # never get_dataset: it downloads
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)

    def tensors(x, y):
        return TensorDataset(torch.as_tensor(np.asarray(x), dtype=torch.float32),
                             torch.as_tensor(np.asarray(y), dtype=torch.int64))

    return tensors(data["x"][:n_train], data["y"][:n_train]), tensors(data["x_test"],
                                                                       data["y_test"])


def load_dataset(name):
    """``(train, test, build_model)`` of a study dataset."""
    if name == "digits":
        from md_sklearn.collections import load_digits_data
        from md_sklearn.models import small_cnn

        train, test = load_digits_data(random_state=STUDY_SEED)
        return train, test, small_cnn
    if name == "mnist1d":
        from md_sklearn.models import mlp

        train, test = load_mnist1d_data()
        return train, test, mlp
    check_datasets([name])
    raise AssertionError  # pragma: no cover
