"""Shared plumbing of the extractors: validation, devices, data, model state."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, TensorDataset, default_collate

_UINT63 = 2**63 - 1


# --- argument checks -------------------------------------------------------------
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


def seed_from(random_state) -> int:
    """Turn ``random_state`` into a seed; ``None`` draws one from torch's global RNG."""
    if random_state is None:
        return int(torch.randint(0, _UINT63, (1,)).item())
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"expected random_state to be None or an int, got {type(random_state).__name__}."
        )
    if not 0 <= random_state <= _UINT63:
        raise ValueError(f"expected 0 <= random_state < 2**63, got {random_state}.")
    return int(random_state)


def generator(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same draws whatever the device."""
    return torch.Generator().manual_seed(seed)


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; checks that CUDA exists when asked."""
    if isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(
                f"expected device to be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
            ) from exc
    if not isinstance(device, torch.device):
        raise TypeError(
            f"expected device to be a str or torch.device, got {type(device).__name__}."
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"expected a device that exists here, got {str(device)!r} but CUDA is not "
            "available; pass device='cpu' or device='auto'."
        )
    return device


# --- data ----------------------------------------------------------------------
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


def gather(data: Dataset, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and labels of ``data`` at ``indices`` (CPU long tensor), as two tensors."""
    if isinstance(data, TensorDataset):
        items = tuple(t[indices] for t in data.tensors)
    else:
        items = default_collate([data[int(i)] for i in indices])
    if not isinstance(items, (tuple, list)) or len(items) != 2:
        raise ValueError(
            "expected each sample of data to be an (input, label) pair, got "
            f"{len(items) if isinstance(items, (tuple, list)) else type(items).__name__} "
            "items; use TensorDataset(inputs, labels)."
        )
    x, y = items
    if not torch.is_tensor(y):
        y = torch.as_tensor(y)
    return x, y


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Consecutive slices of ``batch_size``; a trailing 1-sample slice joins the previous one
    (BatchNorm cannot take batch statistics of one sample)."""
    slices = [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    if len(slices) > 1 and slices[-1].stop - slices[-1].start == 1:
        slices[-2:] = [slice(slices[-2].start, n)]
    return slices


def iter_batches(data: Dataset, batch_size: int, order: torch.Tensor | None = None,
                 *, merge_singleton: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = len(data)
    order = torch.arange(n) if order is None else order
    if merge_singleton:
        slices = batch_slices(n, batch_size)
    else:
        slices = [slice(i, i + batch_size) for i in range(0, n, batch_size)]
    for s in slices:
        yield gather(data, order[s])


# --- models --------------------------------------------------------------------------
@contextlib.contextmanager
def preserved_modes(model: nn.Module):
    """Restore every submodule's ``.training`` flag on exit, whatever happens inside."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training


def floating_dtype(model: nn.Module) -> torch.dtype | None:
    for tensor in model.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return None


def to_model_input(x: torch.Tensor, dtype: torch.dtype | None, device) -> torch.Tensor:
    if dtype is not None and x.is_floating_point() and x.dtype != dtype:
        x = x.to(dtype)
    return x.to(device)


def functional_state(model: nn.Module, device) -> tuple[dict, dict]:
    """Detached parameters and buffers of ``model`` on ``device``.

    Tensors already on ``device`` are shared, not copied: callers must not modify
    them in place (use :func:`owned_buffers` for that).
    """
    params = {n: p.detach().to(device) for n, p in model.named_parameters()}
    buffers = {n: b.detach().to(device) for n, b in model.named_buffers()}
    return params, buffers


def owned_buffers(model: nn.Module, device) -> dict:
    """Copies of the buffers of ``model`` on ``device`` that may be changed in place."""
    return {n: b.detach().to(device, copy=True) for n, b in model.named_buffers()}


def check_outputs(out, x: torch.Tensor, y: torch.Tensor) -> None:
    """Model output must be (batch, classes) logits; labels integers in range."""
    if not torch.is_tensor(out) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise ValueError(
            f"expected the model output to be (batch, classes) = ({x.shape[0]}, C) logits, "
            f"got {shape}; make the model return one row of class scores per sample."
        )
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(
            f"expected integer class labels, got dtype {y.dtype}; pass labels as a long tensor."
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"expected one label per sample, shape ({x.shape[0]},), got {tuple(y.shape)}."
        )
    n_classes = out.shape[1]
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"expected labels in [0, {n_classes - 1}] for a model with {n_classes} outputs, "
            f"got labels from {low} to {high}; relabel the classes as 0 ... C-1."
        )


def forward_logits(model, state: dict, x, y) -> torch.Tensor:
    out = torch.func.functional_call(model, state, (x,))
    check_outputs(out, x, y)
    return out


def cross_entropy(out: torch.Tensor, y: torch.Tensor, reduction: str = "mean"):
    return F.cross_entropy(out, y.to(out.device, torch.long), reduction=reduction)


def summed_error_and_loss(forward, batches, dtype, device) -> tuple[int, float]:
    """Misclassified count and summed cross-entropy of ``forward(x, y) -> logits`` over ``batches``.

    Call under ``torch.no_grad()``; the loss is accumulated in float64.
    """
    wrong, loss_sum = 0, 0.0
    for x, y in batches:
        x, y = to_model_input(x, dtype, device), y.to(device)
        out = forward(x, y)
        loss_sum += float(cross_entropy(out, y, reduction="sum").double())
        wrong += int((out.argmax(dim=1) != y).sum())
    return wrong, loss_sum


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


def fork_rng_seeded(seed: int, device: torch.device):
    """Context that seeds torch's global RNG (dropout, inits) and restores it on exit."""
    devices = [device.index or 0] if device.type == "cuda" else []

    @contextlib.contextmanager
    def _ctx():
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    return _ctx()
