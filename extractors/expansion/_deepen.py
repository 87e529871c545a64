"""Deepen a model: an identity layer or a zero-initialised residual block after a ReLU."""

from __future__ import annotations

import torch
from torch import nn

from .._common import check_model, generator, seed_from
from ._checks import check_choice
from ._graph import activation_site
from ._surgery import default_uniform, empty_module, fresh_copy, reset_batchnorm, set_submodule

DEEPEN_METHODS = ("identity", "residual")


class ResidualBlock(nn.Module):
    """``x + branch(x)``: the block :func:`deepen` inserts with ``method="residual"``.

    Parameters
    ----------
    branch : torch.nn.Module
        The residual branch; it must map its input to a tensor of the same shape.
    """

    def __init__(self, branch):
        super().__init__()
        self.branch = branch

    def forward(self, x):
        """Return ``x + branch(x)``."""
        return x + self.branch(x)


def deepen(model, after_layer, *, method="identity", random_state=None):
    """Return a copy of ``model`` with one more layer after a ReLU, computing the same function.

    Where: ``after_layer`` names an ``nn.ReLU`` module, or a ``Linear``/``Conv2d`` layer
    whose output reaches an ``nn.ReLU`` module through BatchNorm or Dropout only (e.g.
    ``"features.3"`` of :class:`md_sklearn.models.SmallCNN`, whose ReLU is
    ``"features.5"``).  The new layer goes right after that ReLU: the ReLU module at name
    ``r`` is replaced by ``nn.Sequential(relu, *new_modules)``, so the ReLU is then called
    ``r + ".0"`` and every other parameter and buffer keeps its name.  Its size is the
    width ``F`` (features) or ``C`` (channels) of the Linear/Conv2d feeding the ReLU.

    ``method="identity"`` (Net2DeeperNet, Chen et al. 2016) inserts a layer initialised to
    the identity followed by a new ReLU: ``nn.Linear(F, F)`` with weight ``I`` and bias 0
    (``F**2 + F`` parameters), or a 3x3 ``nn.Conv2d(C, C, padding=1)`` whose kernel is 1 at
    the centre of channel ``c -> c`` and 0 elsewhere, bias 0 (``9 * C**2 + C``
    parameters).  Because its input comes out of a ReLU it is >= 0, so ``ReLU(I x) = x``
    exactly.  No BatchNorm is inserted: in train mode a BatchNorm normalises with the
    statistics of each batch and cannot be the identity for every batch, whatever its
    initialisation; the ``"residual"`` block is the deeper option with BatchNorm.

    ``method="residual"`` inserts a :class:`ResidualBlock` ``x + f(x)`` whose branch
    ends in zeros: for a Linear, ``f = Linear(F, F) -> ReLU -> Linear(F, F)`` with the
    last weight and bias 0 (``2 * F**2 + 2 * F`` parameters); for a Conv2d, ``f =
    Conv3x3 -> BatchNorm2d -> ReLU -> Conv3x3 -> BatchNorm2d`` (bias-free convolutions as in
    SmallCNN) with the last BatchNorm's scale and shift 0 (``18 * C**2 + 4 * C``
    parameters).  ``f(x) = 0`` exactly in eval and in train mode, whatever the batch
    statistics.  The other weights get PyTorch's default initialisation
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` drawn from ``random_state``; BatchNorms start
    with running mean 0 and variance 1.

    The output is unchanged in eval and train mode (up to floating-point rounding).  The
    new modules take the ReLU's mode and the feeding layer's dtype and device; the new
    model is a deep copy (gradients not copied) and ``model`` is not modified.  Repeated
    calls can stack layers: after a first insertion, name the ReLU again as ``r + ".0"``.

    Parameters
    ----------
    model : torch.nn.Module
        The network; its ``forward`` must be traceable by :func:`torch.fx.symbolic_trace`.
    after_layer : str
        Name of an ``nn.ReLU`` module or of the Linear/Conv2d it follows, as in
        ``model.named_modules()``.
    method : {"identity", "residual"}, default="identity"
        An identity layer plus ReLU, or a residual block whose branch outputs zero.
    random_state : int or None, default=None
        Seed of the random weights of the residual branch (``"identity"`` draws nothing);
        ``None`` draws a seed from torch's global generator.

    Returns
    -------
    torch.nn.Module
        A new, deeper model.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module`` or ``after_layer`` not a str.
    ValueError
        If ``after_layer`` names no submodule, a module other than ReLU/Linear/Conv2d, a
        layer not followed by an ``nn.ReLU`` module (e.g. the last layer, or a functional
        ``F.relu``), a ReLU that is called more than once in ``forward`` or whose input does
        not come from a Linear/Conv2d; if the model cannot be traced; or if ``method`` is
        unknown.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from extractors.expansion import deepen, parameter_count
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> deeper = deepen(model, "0")
    >>> deeper[1]
    Sequential(
      (0): ReLU()
      (1): Linear(in_features=3, out_features=3, bias=True)
      (2): ReLU()
    )
    >>> x = torch.randn(5, 4)
    >>> torch.equal(model(x), deeper(x))
    True
    >>> parameter_count(deeper) - parameter_count(model)
    12
    """
    check_model(model)
    method = check_choice(method, "method", DEEPEN_METHODS)
    seed = seed_from(random_state) if method == "residual" else None
    new_model = fresh_copy(model)
    site = activation_site(new_model, after_layer)
    relu = new_model.get_submodule(site.relu)
    producer = new_model.get_submodule(site.producer)
    like = producer.weight.detach()
    conv = isinstance(producer, nn.Conv2d)
    with torch.no_grad():
        if method == "identity":
            new_modules = [_identity_layer(site.width, conv, like), nn.ReLU()]
        else:
            new_modules = [_zero_residual(site.width, conv, like, generator(seed))]
    block = nn.Sequential(relu, *new_modules)
    block.train(relu.training)
    set_submodule(new_model, site.relu, block)
    return new_model


def _layer(width: int, conv: bool, like: torch.Tensor, *, bias: bool) -> nn.Module:
    if conv:
        return empty_module(nn.Conv2d, width, width, 3, padding=1, bias=bias,
                            dtype=like.dtype, device=like.device)
    return empty_module(nn.Linear, width, width, bias=bias, dtype=like.dtype, device=like.device)


def _identity_layer(width: int, conv: bool, like: torch.Tensor) -> nn.Module:
    layer = _layer(width, conv, like, bias=True)
    layer.weight.zero_()
    layer.bias.zero_()
    channels = torch.arange(width)
    if conv:
        layer.weight[channels, channels, 1, 1] = 1.0
    else:
        layer.weight[channels, channels] = 1.0
    return layer


def _random_layer(width, conv, like, gen, *, bias: bool) -> nn.Module:
    layer = _layer(width, conv, like, bias=bias)
    fan_in = layer.weight[0].numel()
    layer.weight.copy_(default_uniform(layer.weight.shape, fan_in, like, gen))
    if bias:
        layer.bias.copy_(default_uniform(layer.bias.shape, fan_in, like, gen))
    return layer


def _zero_residual(width: int, conv: bool, like: torch.Tensor, gen) -> ResidualBlock:
    if not conv:
        first = _random_layer(width, conv, like, gen, bias=True)
        last = _layer(width, conv, like, bias=True)
        last.weight.zero_()
        last.bias.zero_()
        return ResidualBlock(nn.Sequential(first, nn.ReLU(), last))

    def batchnorm(weight):
        bn = empty_module(nn.BatchNorm2d, width, dtype=like.dtype, device=like.device)
        return reset_batchnorm(bn, weight=weight)

    return ResidualBlock(nn.Sequential(
        _random_layer(width, conv, like, gen, bias=False), batchnorm(1.0), nn.ReLU(),
        _random_layer(width, conv, like, gen, bias=False), batchnorm(0.0)))
