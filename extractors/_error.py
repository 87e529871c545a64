"""Train error and loss of one model on a whole dataset."""

from __future__ import annotations

import math

import torch

from ._common import (
    check_dataset,
    check_forward,
    check_int,
    check_model,
    floating_dtype,
    functional_state,
    preserved_modes,
    resolve_device,
)
from ._results import ErrorLossResult
from .defaults import EVAL_BATCH_SIZE

__all__ = ["error_and_loss"]


def error_and_loss(model, data, *, batch_size=EVAL_BATCH_SIZE, device="auto",
                   forward=None) -> ErrorLossResult:
    """Error in percent and mean cross-entropy of a model on a whole dataset.

    The model is evaluated in eval mode (BatchNorm uses its stored statistics,
    dropout is off) on every sample of ``data``; the caller's model keeps its mode,
    parameters and buffers.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning ``(batch, classes)`` logits.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs, inputs already normalised as the model expects;
        for the paper's ``train_error`` this is exactly the training data the model saw.
    batch_size : int, default=1024
        Samples per forward pass; does not change the result.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

    Returns
    -------
    ErrorLossResult
        ``value`` = ``100 * (1 - accuracy)`` of the argmax predictions, ``loss`` = mean
        cross-entropy, ``n_samples``.

    Raises
    ------
    TypeError
        If ``model`` is not a module or ``data`` not a dataset.
    ValueError
        If the dataset is empty, the output is not ``(batch, classes)``, a label is out
        of range, the loss is not finite, or CUDA is asked for but missing.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import error_and_loss
    >>> model = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = model.weight.copy_(torch.eye(2)); _ = model.bias.zero_()
    >>> data = TensorDataset(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 2.0]]),
    ...                      torch.tensor([0, 1, 1, 1]))
    >>> result = error_and_loss(model, data, device="cpu")
    >>> result.value, round(result.loss, 3), result.n_samples
    (25.0, 0.517, 4)
    """
    check_model(model)
    n = check_dataset(data)
    batches = check_forward(forward)
    batch_size = check_int(batch_size, "batch_size", 1)
    device = resolve_device(device)
    dtype = floating_dtype(model)
    with preserved_modes(model), torch.no_grad():
        model.eval()
        params, buffers = functional_state(model, device)
        state = {**params, **buffers}
        wrong, loss_sum = batches.summed_error_and_loss(
            lambda batch: batches.logits(model, state, batch),
            batches.batches(data, batch_size), dtype, device)
    if not math.isfinite(loss_sum):
        raise ValueError(
            f"expected a finite loss, got {loss_sum}; the model produces non-finite logits "
            "on some samples (check its parameters and the input normalisation)."
        )
    return ErrorLossResult(value=100.0 * wrong / n, loss=loss_sum / n, n_samples=n)
