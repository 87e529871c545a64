"""Widen one Linear or Conv2d layer and the layer that consumes it (Net2WiderNet)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._common import check_model, check_real, generator, seed_from
from ._checks import check_choice, check_factor, widened_width
from ._graph import widen_plan
from ._surgery import default_uniform, fresh_copy, replace_parameter

WIDEN_METHODS = ("copy", "zero")


def widen(model, layer, factor, *, method="copy", noise=0.0, random_state=None):
    """Return a copy of ``model`` with more units in one layer, computing the same function.

    The layer named ``layer`` (a ``torch.nn.Linear`` or ``torch.nn.Conv2d``) gets
    ``m = round(factor * n)`` output units (channels) instead of ``n``, halves rounded up
    (``m = floor(factor * n + 0.5)``; e.g. 3 units x 1.5 -> 5, 4 units x 1.1 -> 4).  The
    layer that reads its output -- its *consumer*, the next Linear/Conv2d along the
    forward data flow, found by tracing ``forward`` with :mod:`torch.fx` -- gets the
    matching inputs, and every BatchNorm in between gets the new units' scale, shift and
    running statistics.  Between the layer and its consumer the data may pass through
    BatchNorm1d/2d, elementwise activations, Dropout, 2-D pooling and
    ``flatten(start_dim=1)``.  A Conv2d flattened into a Linear (spatial size ``H x W``)
    is supported: the Linear reads each channel as a block of ``H * W`` consecutive
    inputs, and whole blocks are copied.  This covers ``nn.Sequential`` models and
    :class:`md_sklearn.models.SmallCNN`.

    ``method="copy"`` (Net2WiderNet, Chen et al. 2016): new unit ``j`` copies the
    incoming weights, bias and BatchNorm entries of an existing unit ``g(j)``, and every
    consumer input of unit ``c`` is divided by the number of units that now carry ``c``
    (itself included).  The copies are spread evenly -- each existing unit gets
    ``floor((m - n) / n)`` or one more copies, which ones get the extra copy is drawn
    from ``random_state`` -- so a doubling duplicates every unit.  With ``noise > 0``,
    Gaussian noise of standard deviation ``noise * std(W)`` (``W`` the layer's original
    weight) is added to the incoming weights of the new copies, which changes the
    function slightly; exact copies get identical gradients and never separate under
    training, so some noise (or dropout) is needed for them to learn different features.

    ``method="zero"``: the new units get fresh incoming weights and biases drawn like
    PyTorch's default initialisation, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, a fresh
    BatchNorm entry (scale 1, shift 0, running mean 0, variance 1), and zero consumer
    weights.

    Either way the output is unchanged (up to floating-point rounding) in eval mode and in
    train mode (a copied channel has the same batch statistics as its source), provided
    ``noise=0`` and no Dropout sits between the layer and its consumer in train mode
    (copies draw independent dropout masks).  The new model is a deep copy: the modes,
    ``requires_grad`` flags and every parameter and buffer name are kept, gradients are
    not copied, and ``model`` is not modified.  Attributes other than the layers' sizes
    (e.g. ``SmallCNN.width``) are not updated.

    Parameters
    ----------
    model : torch.nn.Module
        The network; its ``forward`` must be traceable by :func:`torch.fx.symbolic_trace`.
    layer : str
        Name of the layer to widen, as in ``model.named_modules()`` (e.g. ``"features.3"``).
    factor : float
        Width multiplier, >= 1; ``factor=1`` returns an equal copy.
    method : {"copy", "zero"}, default="copy"
        Replicate existing units, or add fresh units with zero outgoing weights.
    noise : float, default=0.0
        Relative standard deviation of the noise added to the copies' incoming weights;
        only with ``method="copy"``.
    random_state : int or None, default=None
        Seed of the choice of units to copy, the noise and the fresh weights; ``None``
        draws a seed from torch's global generator.

    Returns
    -------
    torch.nn.Module
        A new model with ``m`` units in ``layer``.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``, ``layer`` not a str or ``factor`` not a
        real number.
    ValueError
        If ``layer`` names no submodule or one that is not a Linear/Conv2d (grouped
        convolutions included), if it has no consumer (the last layer), if the data flow to
        the consumer is not a single supported chain (a residual addition, a concatenation,
        a reshape ...), if the model cannot be traced, if ``factor < 1``, ``method`` is
        unknown, ``noise < 0``, or ``noise > 0`` with ``method="zero"``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from extractors.expansion import parameter_count, widen
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> wider = widen(model, "0", 2, random_state=0)
    >>> wider[0].out_features, wider[2].in_features
    (6, 6)
    >>> x = torch.randn(5, 4)
    >>> bool((model(x) - wider(x)).abs().max() < 1e-6)
    True
    >>> parameter_count(model), parameter_count(wider)
    (23, 44)
    """
    check_model(model)
    factor = check_factor(factor)
    method = check_choice(method, "method", WIDEN_METHODS)
    noise = check_real(noise, "noise", 0.0)
    if not math.isfinite(noise):
        raise ValueError(f"expected a finite noise >= 0, got {noise}; pass e.g. noise=0.01.")
    if method == "zero" and noise > 0:
        raise ValueError(
            f"expected noise=0 with method='zero', got noise={noise}; new units with zero "
            "outgoing weights need no symmetry breaking: drop noise or use method='copy'."
        )
    seed = seed_from(random_state)
    new_model = fresh_copy(model)
    plan = widen_plan(new_model, layer)
    width = widened_width(plan.width, factor)
    if width == plan.width:
        return new_model
    gen = generator(seed)
    extra = width - plan.width
    rounds = -(-extra // plan.width)
    sources = torch.cat([torch.randperm(plan.width, generator=gen) for _ in range(rounds)])
    index = torch.cat([torch.arange(plan.width), sources[:extra]])
    with torch.no_grad():
        _widen_outputs(new_model.get_submodule(plan.layer), index, method, noise, gen)
        for name in plan.batchnorms:
            _widen_batchnorm(new_model.get_submodule(name), index, method)
        _widen_inputs(new_model.get_submodule(plan.consumer), index, plan.block_size, method)
    return new_model


def _widen_outputs(layer, index, method, noise, gen) -> None:
    n = layer.weight.shape[0]
    weight = layer.weight.detach()
    new_weight = weight[index.to(weight.device)].clone()
    fan_in = weight[0].numel()
    if method == "zero":
        new_weight[n:] = default_uniform(new_weight[n:].shape, fan_in, weight, gen)
    elif noise > 0:
        scale = noise * float(weight.double().std(unbiased=False))
        draw = torch.randn(new_weight[n:].shape, dtype=torch.float64, generator=gen) * scale
        new_weight[n:] += draw.to(weight.device, weight.dtype)
    replace_parameter(layer, "weight", new_weight)
    if layer.bias is not None:
        bias = layer.bias.detach()
        new_bias = bias[index.to(bias.device)].clone()
        if method == "zero":
            new_bias[n:] = default_uniform(new_bias[n:].shape, fan_in, bias, gen)
        replace_parameter(layer, "bias", new_bias)
    if isinstance(layer, nn.Conv2d):
        layer.out_channels = len(index)
    else:
        layer.out_features = len(index)


def _widen_batchnorm(bn, index, method) -> None:
    n = bn.num_features
    fresh = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0}
    for name, value in fresh.items():
        tensor = getattr(bn, name)
        if tensor is None:
            continue
        new = tensor.detach()[index.to(tensor.device)].clone()
        if method == "zero":
            new[n:] = value
        if isinstance(tensor, nn.Parameter):
            replace_parameter(bn, name, new)
        else:
            setattr(bn, name, new)
    bn.num_features = len(index)


def _widen_inputs(consumer, index, block_size, method) -> None:
    weight = consumer.weight.detach()
    n = consumer.in_channels if isinstance(consumer, nn.Conv2d) else weight.shape[1] // block_size
    counts = torch.bincount(index, minlength=n).to(torch.float64)
    if method == "copy":
        share = 1.0 / counts[index]
    else:
        share = torch.cat([torch.ones(n, dtype=torch.float64),
                           torch.zeros(len(index) - n, dtype=torch.float64)])
    columns = (index[:, None] * block_size + torch.arange(block_size)).reshape(-1)
    share = share.repeat_interleave(block_size)
    shape = (1, -1) + (1,) * (weight.ndim - 2)
    share = share.to(weight.device, weight.dtype).view(shape)
    new_weight = weight[:, columns.to(weight.device)] * share
    replace_parameter(consumer, "weight", new_weight)
    if isinstance(consumer, nn.Conv2d):
        consumer.in_channels = len(index)
    else:
        consumer.in_features = len(index) * block_size
