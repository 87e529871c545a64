"""Copy a model, swap one of its submodules, build new layers without the global RNG."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def fresh_copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` (modes, hooks, ``requires_grad`` kept) without gradients."""
    new = copy.deepcopy(model)
    for parameter in new.parameters():
        parameter.grad = None
    return new


def set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, module)


def empty_module(cls, *args, dtype, device, **kwargs) -> nn.Module:
    """``cls(*args, **kwargs)`` with uninitialised tensors: its own init would draw from the
    global RNG, which belongs to the caller.  Every tensor must be set afterwards."""
    return cls(*args, **kwargs, device="meta", dtype=dtype).to_empty(device=device)


def default_uniform(shape, fan_in: int, like: torch.Tensor, gen: torch.Generator):
    """PyTorch's default init of Linear and Conv weights and biases, drawn from ``gen``:
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (kaiming_uniform with ``a=sqrt(5)``)."""
    bound = 1.0 / math.sqrt(fan_in)
    draw = torch.empty(shape, dtype=torch.float64).uniform_(-bound, bound, generator=gen)
    return draw.to(device=like.device, dtype=like.dtype)


def replace_parameter(module: nn.Module, name: str, value: torch.Tensor) -> None:
    old = getattr(module, name)
    setattr(module, name, nn.Parameter(value, requires_grad=old.requires_grad))


def reset_batchnorm(module: nn.Module, *, weight: float = 1.0) -> nn.Module:
    """Running mean 0, variance 1, shift 0, scale ``weight`` (``weight=0`` outputs exact zeros
    in train and eval mode)."""
    module.reset_parameters()
    if module.affine:
        with torch.no_grad():
            module.weight.fill_(weight)
    return module
