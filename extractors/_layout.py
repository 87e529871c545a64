"""Flat parameter vectors: one 1-D tensor for all of a model's parameters, and back.

The curve of :func:`extractors.mode_connectivity`, the straight line of
:func:`extractors.linear_barrier` and the points of :func:`extractors.manifold_size`
are vectors in parameter space; :class:`ParameterLayout` remembers the names and shapes
that turn such a vector into the ``{name: tensor}`` dict
:func:`torch.func.functional_call` takes.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ParameterLayout"]


class ParameterLayout:
    """Names and shapes of a model's parameters, to go between flat vectors and dicts.

    Parameters
    ----------
    model : torch.nn.Module
        Its parameters, in ``named_parameters()`` order, must share one floating dtype.

    Raises
    ------
    ValueError
        If the model has no parameters or they do not share one floating dtype.

    Examples
    --------
    >>> import torch
    >>> from extractors.utils import ParameterLayout
    >>> model = torch.nn.Linear(2, 3)
    >>> layout = ParameterLayout(model)
    >>> flat = layout.flatten(model, "cpu")
    >>> flat.shape, {name: tuple(p.shape) for name, p in layout.unflatten(flat).items()}
    (torch.Size([9]), {'weight': (3, 2), 'bias': (3,)})
    """

    def __init__(self, model: nn.Module):
        named = list(model.named_parameters())
        self.names = [name for name, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        dtypes = {p.dtype for _, p in named}
        if not named or len(dtypes) != 1 or not named[0][1].is_floating_point():
            raise ValueError(
                "expected a model whose parameters share one floating dtype, got "
                f"{sorted(map(str, dtypes)) or 'no parameters'}; convert it with model.float()."
            )

    def flatten(self, model: nn.Module, device) -> torch.Tensor:
        """The model's parameters, detached, as one vector on ``device``."""
        params = dict(model.named_parameters())
        return torch.cat([params[n].detach().reshape(-1).to(device) for n in self.names])

    def unflatten(self, flat: torch.Tensor) -> dict:
        """``{name: view of flat}``: views, so gradients flow back to ``flat``."""
        pieces = flat.split(self.sizes)
        return {n: p.view(s) for n, p, s in zip(self.names, pieces, self.shapes, strict=True)}
