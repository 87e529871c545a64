"""Rules of nonlinear maps: elementwise functions (``f'`` and ``f''`` at the forward
value, by torch's own derivatives) and (log-)softmax."""

from __future__ import annotations

import torch
from torch.fx.node import map_aggregate

from ._algebra import total
from ._registry import packet, register, require_only_first_active

__all__: list[str] = []  # the rules are reached through the registry only

aten = torch.ops.aten


_PIECEWISE_LINEAR = (aten.relu, aten.leaky_relu, aten.hardtanh, aten.abs, aten.threshold,
                     aten.clamp, aten.clamp_min, aten.clamp_max)
_SMOOTH = (aten.tanh, aten.sigmoid, aten.exp, aten.log, aten.sqrt, aten.rsqrt, aten.reciprocal,
           aten.gelu, aten.silu, aten.softplus, aten.elu, aten.mish, aten.sin, aten.cos,
           aten.erf, aten.pow, aten.square, aten.hardswish, aten.hardsigmoid, aten.log1p,
           aten.expm1, aten.selu, aten.celu)


@register(*_PIECEWISE_LINEAR, *_SMOOTH)
def _elementwise(node, context):
    """``y = f(x)`` elementwise: ``y' = f'(x) x'``, ``y'' = f'(x) x'' + f''(x) x'²``."""
    require_only_first_active(node, context)
    smooth = packet(node.target) in _SMOOTH
    source = node.args[0]
    rest = map_aggregate(node.args[1:], context.value)
    kwargs = map_aggregate(node.kwargs, context.value)
    with torch.enable_grad():  # f' and f'' at the forward value, by torch's own rules
        x = context.value(source).detach().clone().requires_grad_(True)
        (slope,) = torch.autograd.grad(node.target(x, *rest, **kwargs).sum(), x,
                                       create_graph=smooth)
        curvature = None
        if smooth and slope.requires_grad:
            (curvature,) = torch.autograd.grad(slope.sum(), x)
    slope = slope.detach()

    def elementwise():
        first, second = context.derivative(source)
        return (None if first is None else slope * first,
                total(None if second is None else slope * second,
                      None if curvature is None or first is None else curvature * first.square()))
    return elementwise


@register(aten._log_softmax, aten._softmax)
def _softmax(node, context):
    """``log s = x - logsumexp(x)``: ``(log s)' = x' - E[x']``,
    ``(log s)'' = x'' - E[x''] - Var[x']`` under ``s``; ``s' = s (log s)'`` and
    ``s'' = s ((log s)'' + (log s)'²)``."""
    require_only_first_active(node, context)
    source, dim = node.args[0], node.args[1]
    out = context.value(node)
    log_output = packet(node.target) is aten._log_softmax
    probabilities = out.exp() if log_output else out

    def expect(d):
        return (probabilities * d).sum(dim, keepdim=True)

    def softmax():
        first, second = context.derivative(source)
        log_first = None if first is None else first - expect(first)
        variance = None if first is None else expect(first.square()) - expect(first).square()
        log_second = total(None if second is None else second - expect(second),
                           None if variance is None else -variance)
        if log_output:
            return log_first, log_second
        second_factor = total(log_second, None if log_first is None else log_first.square())
        return (None if log_first is None else out * log_first,
                None if second_factor is None else out * second_factor)
    return softmax
