"""Train a grid of configurations, save every model, and label the collection."""

import json
import os
from pathlib import Path

import joblib
import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset

from extractors.utils import (
    check_dataset,
    check_int,
    check_real,
    floating_dtype,
    fork_rng_seeded,
    gather,
    iter_batches,
    resolve_device,
    seed_from,
    summed_error_and_loss,
    to_model_input,
)
from md_sklearn._utils._atomic import write_json_atomic, write_text_atomic
from md_sklearn._utils._extras import progress_bar
from md_sklearn.collections._checkpoints import (
    CHECKPOINT_SUFFIXES,
    fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from md_sklearn.collections._checks import (
    check_amounts,
    check_grid,
    check_labels,
    positive_int,
    seed_value,
)
from md_sklearn.collections._constants import (
    CONFIGURATIONS_NAME,
    MEMBERS_NAME,
    MODELS_DIR,
    PAPER_LR,
    PAPER_MOMENTUM,
    PAPER_WEIGHT_DECAY,
)
from md_sklearn.collections._manifest import open_manifest
from md_sklearn.collections._result import Collection
from md_sklearn.collections._subset import (
    check_data_fraction,
    check_epoch_scaling,
    data_amount,
    epochs_for_fraction,
    training_subset,
)
from md_sklearn.collections._train import CHECKPOINTS, train_classifier
from md_sklearn.labels import label_collection

_EVAL_BATCH_SIZE = 1024
_MEMBER_METRICS = ("train_acc", "test_acc", "train_loss", "test_loss")


def build_collection(build_model, train_data, test_data, *, widths, batch_sizes,
                     data_fractions, seeds, output_dir, epochs=30,
                     epoch_scaling="constant_steps", lr=PAPER_LR, momentum=PAPER_MOMENTUM,
                     weight_decay=PAPER_WEIGHT_DECAY, checkpoint="last", label_noise=0.0,
                     random_state=0, n_jobs=None, device="auto", progress=True):
    """Train every configuration of a grid, save each model and label the collection.

    A *configuration* is a (width, batch size, data fraction) triple; it is
    trained once per seed with :func:`train_classifier` (SGD, constant
    learning rate, the paper's recipe by default). The member with seed ``s``
    starts from ``build_model(width)`` built under ``torch.manual_seed(s)``
    and is shuffled with ``random_state=s``; it sees the first
    ``round(data_fraction * len(train_data))`` training samples (as the paper
    used the first ``N`` images), with labels made noisy once for the whole
    collection from ``random_state`` (see :func:`training_subset`).

    The configurations are labelled with
    :func:`md_sklearn.labels.label_collection` on the seed-mean test accuracy,
    which adds the room for improvement of each knob (``rfi_*``) and the
    diagnosis labels ``bs_failure``, ``width_vs_batch``, ``data_vs_batch``.
    The RFI is computed within this grid only, so use at least two values of
    each knob you want labels for.

    **Folder layout** (everything written atomically: a file is either
    complete or absent)::

        output_dir/
            manifest.json         training settings, data fingerprints, grid
            configurations.csv    Collection.table (one row per configuration)
            members.csv           Collection.members (one row per model)
            models/w{width}_bs{batch}_n{data_amount}/
                seed{seed}.json             the member's accuracies and losses
                seed{seed}.safetensors      its state dict (".pt" via torch.save
                                            when safetensors is not installed)

    **Resuming.** A member whose checkpoint file exists is never retrained, so
    an interrupted call finishes by being called again, and a grid can be
    extended (more widths, seeds, ...) into the same folder. The manifest
    records the training settings (epochs and their scaling, optimizer,
    checkpoint rule, label noise and its seed, the number of classes, a
    fingerprint of the training and test data, the parameter count of each
    width); a call whose settings differ raises ``ValueError`` rather than mix
    two recipes in one collection.

    Needs the ``torch`` extra (``pip install md-sklearn[torch]``).

    Parameters
    ----------
    build_model : callable
        ``build_model(width)`` returns a fresh ``torch.nn.Module`` classifier;
        with ``n_jobs > 1`` it must be picklable by joblib (a module-level
        function or a ``functools.partial`` of one).
    train_data : torch.utils.data.Dataset
        The full training set, ``(input, label)`` pairs with clean integer
        labels, inputs as the model expects them; loaded into memory.
    test_data : torch.utils.data.Dataset
        The test set (clean labels) for ``test_acc``.
    widths : sequence of int
        Values passed to ``build_model`` (>= 1, distinct).
    batch_sizes : sequence of int
        SGD batch sizes (>= 1, distinct).
    data_fractions : sequence of float
        Shares of the training set in ``(0, 1]``, each keeping a distinct
        number of samples (>= 2).
    seeds : sequence of int
        One model per seed and configuration (>= 0, distinct; at least 2 for
        connectivity and similarity metrics).
    output_dir : str or os.PathLike
        The collection folder: created if missing; an existing folder must be
        empty or a collection with the same settings.
    epochs : int, default=30
        Epochs on the full training set.
    epoch_scaling : {"constant_steps", "constant_epochs"}, default="constant_steps"
        ``"constant_steps"`` trains a fraction ``f`` for ``round(epochs / f)``
        epochs, so every data amount gets about the same number of SGD steps
        (as the paper's research code); ``"constant_epochs"`` uses ``epochs``.
    lr : float, default=0.05
        Constant learning rate.
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=5e-4
        SGD weight decay.
    checkpoint : {"last", "lowest_train_loss"}, default="last"
        Which weights of each run are saved, see :func:`train_classifier`.
    label_noise : float, default=0.0
        Probability in ``[0, 1]`` that a training label is redrawn uniformly
        over the classes (the paper's noisy collection used 0.1).
    random_state : int, default=0
        Seed of the label noise.
    n_jobs : int or None, default=None
        Models trained in parallel by joblib (``None``: 1 unless inside a
        ``joblib.parallel_config`` context; ``-1``: all cores).
    device : str or torch.device, default="auto"
        Where to train and evaluate; ``"auto"`` picks CUDA when available.
    progress : bool, default=True
        Show a tqdm bar over the models left to train.

    Returns
    -------
    collection : Collection
        ``table`` (configurations with accuracies, RFI and labels),
        ``members`` (one row per model with its checkpoint path),
        ``configurations()``, ``member_paths(...)`` and ``training_data(...)``
        (the exact subset and labels a configuration was trained on).

    Raises
    ------
    TypeError
        If ``build_model`` is not callable or does not return a module, a
        dataset is not a dataset, or an argument has the wrong type.
    ValueError
        If a grid is empty, holds repeats or out-of-range values, a setting
        is out of range, the labels do not fit the model's outputs,
        ``output_dir`` is a non-empty folder that is not a collection, or it
        holds a collection trained with other settings.

    Examples
    --------
    >>> import tempfile
    >>> from md_sklearn.collections import build_collection, load_digits_data
    >>> from md_sklearn.models import small_cnn
    >>> train, test = load_digits_data()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     collection = build_collection(
    ...         small_cnn, train, test, widths=[2, 4], batch_sizes=[32, 128],
    ...         data_fractions=[1.0], seeds=[0, 1], output_dir=folder, epochs=1,
    ...         device="cpu", progress=False)
    ...     first = collection.configurations()[0]
    ...     names = [path.name for path in first.checkpoints]
    >>> collection.table[["width", "bs", "n_models", "bs_failure"]].shape
    (4, 4)
    >>> names
    ['seed0.safetensors', 'seed1.safetensors']
    >>> len(collection.training_data(first.data_fraction)) == first.data_amount == 1347
    True
    """
    if not callable(build_model):
        raise TypeError(
            f"expected build_model to be callable, got {type(build_model).__name__}; pass a "
            "function such that build_model(width) returns a fresh torch.nn.Module."
        )
    n_train = check_dataset(train_data, "train_data")
    check_dataset(test_data, "test_data")
    widths = check_grid(widths, "widths", positive_int)
    batch_sizes = check_grid(batch_sizes, "batch_sizes", positive_int)
    data_fractions = check_grid(data_fractions, "data_fractions", check_data_fraction)
    seeds = check_grid(seeds, "seeds", seed_value)
    amounts = {fraction: data_amount(n_train, fraction) for fraction in data_fractions}
    check_amounts(amounts, n_train)
    epochs = check_int(epochs, "epochs", 1)
    epoch_scaling = check_epoch_scaling(epoch_scaling)
    lr = check_real(lr, "lr", 0.0, strict=True)
    momentum = check_real(momentum, "momentum", 0.0)
    if momentum >= 1.0:
        raise ValueError(f"expected 0 <= momentum < 1, got {momentum}; pass e.g. momentum=0.9.")
    weight_decay = check_real(weight_decay, "weight_decay", 0.0)
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"expected checkpoint to be one of {CHECKPOINTS}, got {checkpoint!r}.")
    label_noise = check_real(label_noise, "label_noise", 0.0, maximum=1.0)
    if random_state is None:
        raise ValueError(
            "expected random_state to be an int, got None; the label noise must be "
            "reproducible, so pass e.g. random_state=0."
        )
    random_state = seed_from(random_state)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", -(os.cpu_count() or 1))
        if n_jobs == 0:
            raise ValueError("expected n_jobs to be a non-zero int or None, got 0; pass 1.")
    device = resolve_device(device)
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(
            f"expected output_dir to be a str or os.PathLike, got {type(output_dir).__name__}."
        )
    output_dir = Path(output_dir)

    train_x, train_y = gather(train_data, torch.arange(n_train))
    test_x, test_y = gather(test_data, torch.arange(len(test_data)))
    parameters, n_classes = _probe_architectures(build_model, widths, test_x[:2])
    settings = {
        "epochs": epochs, "epoch_scaling": epoch_scaling, "lr": lr, "momentum": momentum,
        "weight_decay": weight_decay, "checkpoint": checkpoint, "label_noise": label_noise,
        "random_state": random_state, "n_classes": n_classes,
        "n_train": n_train, "train_fingerprint": fingerprint(train_x, train_y),
        "n_test": len(test_data), "test_fingerprint": fingerprint(test_x, test_y),
    }
    clean_train = TensorDataset(train_x, train_y)
    noisy_train = training_subset(clean_train, 1.0, label_noise=label_noise,
                                  random_state=random_state, n_classes=n_classes)
    check_labels(test_y, n_classes, "test_data")
    test = TensorDataset(test_x, test_y.to(torch.int64))
    checkpoint_format = open_manifest(
        output_dir, settings, parameters,
        {"widths": widths, "batch_sizes": batch_sizes, "data_fractions": data_fractions,
         "seeds": seeds},
    )

    members = []
    for width in widths:
        for batch_size in batch_sizes:
            for fraction in data_fractions:
                for seed in seeds:
                    folder = f"w{width}_bs{batch_size}_n{amounts[fraction]}"
                    relative = Path(MODELS_DIR, folder, f"seed{seed}")
                    members.append({
                        "width": width, "bs": batch_size, "data": fraction,
                        "data_amount": amounts[fraction],
                        "epochs": epochs_for_fraction(epochs, fraction, epoch_scaling),
                        "seed": seed,
                        "checkpoint": relative.with_suffix(
                            CHECKPOINT_SUFFIXES[checkpoint_format]).as_posix(),
                    })
    todo = [m for m in members if not (output_dir / m["checkpoint"]).is_file()]
    recipe = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay,
              "checkpoint": checkpoint}
    jobs = (
        joblib.delayed(_train_member)(build_model, member, noisy_train, test, recipe,
                                      output_dir, checkpoint_format, device)
        for member in todo
    )
    with progress_bar(total=len(todo), wanted=progress and bool(todo), desc="training models",
                      unit="model") as bar:
        for _ in joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
            bar.update()

    for member in members:
        member.update(_member_metrics(build_model, member, noisy_train, test, output_dir,
                                      device))
    member_table = pd.DataFrame(members)
    member_table = member_table[
        ["width", "bs", "data", "data_amount", "epochs", "seed", *_MEMBER_METRICS,
         "checkpoint"]
    ]
    table = _configuration_table(member_table, parameters)
    write_text_atomic(output_dir / MEMBERS_NAME, member_table.to_csv(index=False))
    write_text_atomic(output_dir / CONFIGURATIONS_NAME, table.to_csv(index=False))
    return Collection(table=table, members=member_table, output_dir=output_dir,
                      settings=settings, _train_data=clean_train)


# --- one member ------------------------------------------------------------------
def _train_member(build_model, member, noisy_train, test, recipe, output_dir,
                  checkpoint_format, device):
    """Train, evaluate and save one member; the checkpoint is written last."""
    subset = TensorDataset(*(t[: member["data_amount"]] for t in noisy_train.tensors))
    model = _fresh_model(build_model, member["width"], member["seed"])
    trained = train_classifier(
        model, subset, epochs=member["epochs"], batch_size=member["bs"],
        random_state=member["seed"], device=device, **recipe,
    )
    metrics = _evaluate(trained, subset, test, device)
    path = output_dir / member["checkpoint"]
    write_json_atomic(path.with_suffix(".json"), metrics)
    save_checkpoint(trained, path, checkpoint_format)
    return metrics


def _member_metrics(build_model, member, noisy_train, test, output_dir, device):
    """The saved metrics of a finished member; re-evaluated from its checkpoint if missing."""
    path = output_dir / member["checkpoint"]
    try:
        metrics = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return {name: float(metrics[name]) for name in _MEMBER_METRICS}
    except (OSError, ValueError, KeyError, TypeError):
        model = _fresh_model(build_model, member["width"], member["seed"])
        model.load_state_dict(load_checkpoint(path))
        subset = TensorDataset(*(t[: member["data_amount"]] for t in noisy_train.tensors))
        metrics = _evaluate(model.to(device).eval(), subset, test, device)
        write_json_atomic(path.with_suffix(".json"), metrics)
        return metrics


def _fresh_model(build_model, width, seed):
    with fork_rng_seeded(seed, torch.device("cpu")):
        model = build_model(width)
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"expected build_model({width}) to return a torch.nn.Module, got "
            f"{type(model).__name__}."
        )
    return model


def _evaluate(model, train, test, device):
    """Accuracies (percent) and mean cross-entropies on the seen training data and the test set."""
    dtype = floating_dtype(model)
    metrics = {}
    with torch.no_grad():
        for name, data in (("train", train), ("test", test)):
            wrong, loss_sum = summed_error_and_loss(
                lambda x, y: model(x), iter_batches(data, _EVAL_BATCH_SIZE), dtype, device
            )
            metrics[f"{name}_acc"] = 100.0 * (1.0 - wrong / len(data))
            metrics[f"{name}_loss"] = loss_sum / len(data)
    return metrics


# --- tables ------------------------------------------------------------------------
def _configuration_table(member_table, parameters):
    knobs = ["width", "bs", "data", "data_amount", "epochs"]
    grouped = member_table.groupby(knobs, sort=True)
    table = grouped.agg(
        n_models=("seed", "size"), test_acc=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"), train_acc=("train_acc", "mean"),
        train_loss=("train_loss", "mean"), test_loss=("test_loss", "mean"),
    ).reset_index()
    table.insert(5, "para_amount", table["width"].map(parameters).astype("int64"))
    return label_collection(table, width="width", batch_size="bs", data="data",
                            accuracy="test_acc")


def _probe_architectures(build_model, widths, sample_inputs):
    """Parameter count of each width and the number of classes (model outputs)."""
    parameters, n_classes = {}, None
    for width in widths:
        model = _fresh_model(build_model, width, 0)
        parameters[width] = sum(p.numel() for p in model.parameters())
        if n_classes is None:
            x = to_model_input(sample_inputs, floating_dtype(model), torch.device("cpu"))
            with torch.no_grad():
                out = model.eval()(x)
            if not torch.is_tensor(out) or out.ndim != 2 or out.shape[1] < 2:
                shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
                raise ValueError(
                    f"expected build_model({width}) to return (batch, classes) logits with at "
                    f"least 2 classes, got output {shape}; make the model a classifier."
                )
            n_classes = int(out.shape[1])
    return parameters, n_classes
