"""Tiny model groups on a few hundred digits, shared by the featurizer and cache tests."""

import contextlib
import functools

import torch
from torch.utils.data import TensorDataset

from md_sklearn import ModelGroup
from md_sklearn.collections import load_digits_data, train_classifier
from md_sklearn.models import small_cnn

#: Cheap per-metric options: every metric runs in a fraction of a second per group.
FAST = dict(device="cpu", random_state=0, progress=False, hessian_n_samples=64,
            hessian_max_probes=6, curve_epochs=2, curve_batch_size=64, cka_n_batches=2,
            cka_batch_size=64)

N_TRAIN = 300
N_EVAL = 120


@functools.lru_cache(maxsize=1)
def digits():
    """``(train, eval)``: the first 300 training and 120 test digits."""
    train, test = load_digits_data(random_state=0)
    x, y = train.tensors
    xt, yt = test.tensors
    return TensorDataset(x[:N_TRAIN], y[:N_TRAIN]), TensorDataset(xt[:N_EVAL], yt[:N_EVAL])


def build_cnn():
    """The members' architecture (a top-level function, so workers can unpickle it)."""
    return small_cnn(2)


@functools.cache
def trained_cnn(epochs, seed):
    """small_cnn(2) trained ``epochs`` epochs on the 300 digits (0 = the initialisation)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build_cnn()
    if epochs:
        with torch_threads(1):  # the same weights whatever the machine's thread count
            model = train_classifier(model, digits()[0], epochs=epochs, batch_size=64,
                                     random_state=seed, device="cpu")
    return model.eval()


def cnn_group(name, epochs, seeds=(0, 1), **kwargs):
    """A group of in-memory CNNs trained alike from different seeds."""
    return ModelGroup([trained_cnn(epochs, s) for s in seeds], digits()[0], name=name, **kwargs)


def saved_group(folder, name, epochs, seeds=(0, 1), suffix=".pt", **kwargs):
    """The same group with its members saved as state-dict checkpoints in ``folder``."""
    paths = []
    for seed in seeds:
        path = folder / f"{name}-seed{seed}{suffix}"
        state = trained_cnn(epochs, seed).state_dict()
        if suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in state.items()}, str(path))
        else:
            torch.save(state, path)
        paths.append(path)
    return ModelGroup(paths, digits()[0], build_model=build_cnn, name=name, **kwargs)


@contextlib.contextmanager
def torch_threads(n):
    """Run with ``n`` intra-op threads (workers of n_jobs=2 on 2 cores use one each), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
