"""Model state: training flags, dtype, and the parameters and buffers a functional call uses."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

__all__ = ["floating_dtype", "functional_state", "owned_buffers", "preserved_modes", "to_model_input"]


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
