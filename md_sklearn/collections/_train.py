"""Train a classifier with the paper's plain SGD recipe, on a copy of the model."""

import copy
import math
import warnings

import torch

from extractors.utils import (
    check_dataset,
    check_int,
    check_model,
    check_outputs,
    check_real,
    cross_entropy,
    floating_dtype,
    fork_rng_seeded,
    generator,
    iter_batches,
    resolve_device,
    seed_from,
    summed_error_and_loss,
    to_model_input,
)
from md_sklearn._utils._extras import progress_bar

CHECKPOINTS = ("last", "lowest_train_loss")
"""The values of ``checkpoint`` that :func:`train_classifier` accepts."""

_EVAL_BATCH_SIZE = 1024


def train_classifier(model, data, *, epochs, batch_size, lr=0.05, momentum=0.9,
                     weight_decay=5e-4, random_state=None, device="auto", progress=False,
                     checkpoint="last"):
    """Train a copy of ``model`` on ``data`` with SGD at a constant learning rate.

    The paper's recipe: mini-batch SGD with momentum and weight decay (on every
    parameter), a constant learning rate, mean cross-entropy, no augmentation,
    the training set reshuffled every epoch. A trailing batch of a single
    sample joins the previous batch (BatchNorm needs two samples). ``model``
    itself is never modified (parameters, buffers, modes and gradients stay as
    they are): a deep copy is trained and returned.

    Training is deterministic for a given ``random_state`` on a given device
    and thread count: the shuffling uses its own generator and any randomness
    inside the model (dropout) draws from torch's global generator seeded with
    ``random_state`` and restored afterwards. The model's initial weights are
    the caller's: seed the model's construction to vary initialisations.

    Needs the ``torch`` extra (``pip install md-sklearn[torch]``).

    Parameters
    ----------
    model : torch.nn.Module
        The network to train, returning ``(batch, classes)`` logits.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs with integer labels in ``0 ... classes - 1``,
        e.g. a ``TensorDataset``.
    epochs : int
        Passes over ``data`` (>= 1).
    batch_size : int
        Samples per SGD step (>= 1).
    lr : float, default=0.05
        Constant learning rate (> 0).
    momentum : float, default=0.9
        SGD momentum, in ``[0, 1)``.
    weight_decay : float, default=5e-4
        L2 penalty coefficient of SGD (>= 0).
    random_state : int or None, default=None
        Seed of the shuffling and of the model's own randomness; ``None``
        draws one from torch's global generator.
    device : str or torch.device, default="auto"
        Where to train; ``"auto"`` picks CUDA when available, else the CPU.
    progress : bool, default=False
        Show a tqdm bar over the epochs with the running training loss.
    checkpoint : {"last", "lowest_train_loss"}, default="last"
        Which weights to return. ``"last"``: those after the final step.
        ``"lowest_train_loss"``: those, among the ends of all epochs, with the
        lowest mean cross-entropy on the whole of ``data`` in eval mode (the
        paper measured the lowest-training-loss checkpoint); this costs one
        extra forward pass over ``data`` per epoch.

    Returns
    -------
    trained : torch.nn.Module
        A trained deep copy of ``model`` in eval mode, on ``device``.

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``data`` not a dataset, or a number has
        the wrong type.
    ValueError
        If a number is out of range, ``checkpoint`` unknown, the device does
        not exist, or the model output or labels do not fit a classifier.

    Warns
    -----
    RuntimeWarning
        If the training loss became NaN or infinite (learning rate too high):
        the returned weights are then not usable.

    Examples
    --------
    >>> import torch
    >>> from md_sklearn.collections import load_digits_data, train_classifier
    >>> from md_sklearn.models import small_cnn
    >>> train, test = load_digits_data()
    >>> _ = torch.manual_seed(0)
    >>> model = small_cnn(4)
    >>> trained = train_classifier(model, train, epochs=2, batch_size=64, random_state=0,
    ...                            device="cpu")
    >>> trained.training, trained is model
    (False, False)
    >>> x, y = test.tensors
    >>> with torch.no_grad():
    ...     accuracy = (trained(x).argmax(1) == y).float().mean().item()
    >>> accuracy > 0.5
    True
    """
    check_model(model)
    n_samples = check_dataset(data)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    lr = check_real(lr, "lr", 0.0, strict=True)
    momentum = check_real(momentum, "momentum", 0.0)
    if momentum >= 1.0:
        raise ValueError(f"expected 0 <= momentum < 1, got {momentum}; pass e.g. momentum=0.9.")
    weight_decay = check_real(weight_decay, "weight_decay", 0.0)
    if checkpoint not in CHECKPOINTS:
        raise ValueError(
            f"expected checkpoint to be one of {CHECKPOINTS}, got {checkpoint!r}."
        )
    seed = seed_from(random_state)
    device = resolve_device(device)

    trained = copy.deepcopy(model).to(device)
    for parameter in trained.parameters():
        parameter.grad = None
    dtype = floating_dtype(trained)
    optimizer = torch.optim.SGD(trained.parameters(), lr=lr, momentum=momentum,
                                weight_decay=weight_decay)
    shuffle = generator(seed)
    best_loss, best_state = math.inf, None
    running_loss = math.nan
    bar = progress_bar(range(epochs), wanted=progress, desc="train", unit="epoch", leave=False)
    with fork_rng_seeded(seed, device):
        for _ in bar:
            trained.train()
            order = torch.randperm(n_samples, generator=shuffle)
            loss_sum, seen = 0.0, 0
            for x, y in iter_batches(data, batch_size, order, merge_singleton=True):
                x, y = to_model_input(x, dtype, device), y.to(device)
                out = trained(x)
                check_outputs(out, x, y)
                loss = cross_entropy(out, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += float(loss.detach()) * y.shape[0]
                seen += y.shape[0]
            running_loss = loss_sum / seen
            bar.set_postfix(loss=f"{running_loss:.4f}")
            if checkpoint == "lowest_train_loss":
                epoch_loss = _eval_loss(trained, data, dtype, device, n_samples)
                if epoch_loss < best_loss or best_state is None:
                    best_loss = epoch_loss
                    best_state = copy.deepcopy(trained.state_dict())
    bar.close()
    if best_state is not None:
        trained.load_state_dict(best_state)
    if not math.isfinite(running_loss):
        warnings.warn(
            f"the training loss became {running_loss}; the returned model is not usable. "
            "Lower the learning rate (lr) or raise the batch size.",
            RuntimeWarning, stacklevel=2,
        )
    for parameter in trained.parameters():
        parameter.grad = None
    return trained.eval()


def _eval_loss(model, data, dtype, device, n_samples):
    """Mean cross-entropy of ``model`` on ``data`` in eval mode (NaN stays NaN)."""
    model.eval()
    with torch.no_grad():
        _, loss_sum = summed_error_and_loss(
            lambda x, y: model(x), iter_batches(data, _EVAL_BATCH_SIZE), dtype, device
        )
    model.train()
    loss = loss_sum / n_samples
    return loss if math.isfinite(loss) else math.inf
