"""Rules of products: elementwise products and quotients, convolutions, matrix
products, and eval-mode batch norm (a per-channel affine map)."""

from __future__ import annotations

import torch

from ._algebra import bilinear, expanded, multiply, multiply_into, scaled, total
from ._registry import UnsupportedOperation, packet, register, triple

__all__: list[str] = []  # the rules are reached through the registry only

aten = torch.ops.aten


@register(aten.mul)
def _product(node, context):
    a, b = node.args[0], node.args[1]
    shape = context.value(node).shape

    def product():
        pair = bilinear(multiply, triple(context, a), triple(context, b),
                        accumulate=multiply_into)
        return tuple(expanded(d, shape) for d in pair)
    return product


@register(aten.div)
def _quotient(node, context):
    if node.kwargs.get("rounding_mode") is not None:
        raise UnsupportedOperation(f"{node.target} with rounding (not differentiable)")
    a, b = node.args[0], node.args[1]
    out = context.value(node)
    shape = out.shape

    def quotient():  # y = a / b: y' = (a' - y b') / b, y'' = (a'' - 2 y' b' - y b'') / b
        _, a1, a2 = triple(context, a)
        b0, b1, b2 = triple(context, b)
        first = total(a1, None if b1 is None else -out * b1)
        first = None if first is None else first / b0
        second = total(a2, None if first is None or b1 is None else -2.0 * first * b1,
                       None if b2 is None else -out * b2)
        return (expanded(first, shape), expanded(None if second is None else second / b0, shape))
    return quotient


@register(aten.convolution)
def _convolution(node, context):
    """``conv(x, w) + bias``: bilinear in input and weight, the bias fused into one call."""
    rest = node.args[3:]
    out = context.value(node)
    bias_shape = (1, -1) + (1,) * (out.ndim - 2)

    def convolve(x, w, bias):
        return aten.convolution(x, w, bias, *rest)

    def convolution():
        _, *bias = triple(context, node.args[2])
        pair = bilinear(convolve, triple(context, node.args[0]),
                        triple(context, node.args[1]), extra=bias)
        return tuple(expanded(d.view(bias_shape) if d is not None and d.ndim == 1 else d,
                              out.shape) for d in pair)
    return convolution


@register(aten.mm, aten.bmm)
def _matrix_product(node, context):
    accumulate = torch.addmm if packet(node.target) is aten.mm else torch.baddbmm

    def product(x, y, _):
        return node.target(x, y)

    return lambda: bilinear(product, triple(context, node.args[0]),
                            triple(context, node.args[1]), accumulate=accumulate)


@register(aten.addmm, aten.baddbmm)
def _affine_matrix_product(node, context):
    """``beta · input + alpha · (m1 @ m2)``."""
    beta = node.kwargs.get("beta", 1)
    alpha = node.kwargs.get("alpha", 1)
    fused, product = ((torch.addmm, torch.mm) if packet(node.target) is aten.addmm
                      else (torch.baddbmm, torch.bmm))
    shape = context.value(node).shape

    def scaled_product(x, y, constant):
        if constant is None:
            return product(x, y) if alpha == 1 else alpha * product(x, y)
        return fused(constant, x, y, alpha=alpha)

    def accumulate(result, x, y):
        return fused(result, x, y, alpha=alpha)

    def affine():
        _, *extra = triple(context, node.args[0])
        extra = [d if beta == 1 else scaled(beta, d) for d in extra]
        pair = bilinear(scaled_product, triple(context, node.args[1]), triple(context, node.args[2]),
                        extra=extra, accumulate=accumulate)
        return tuple(expanded(d, shape) for d in pair)
    return affine


@register(aten.native_batch_norm, aten._native_batch_norm_legit_no_training)
def _batch_norm(node, context):
    """Eval-mode batch norm, per channel ``y = x · (s w) + (b - mean · s w)`` with
    ``s = rsqrt(var + eps)``: the coefficients' derivatives are cheap vectors."""
    if packet(node.target) is aten.native_batch_norm:
        x, weight, bias, mean, var, training, _, eps = node.args[:8]
    else:
        x, weight, bias, mean, var, _, eps = node.args[:7]
        training = False
    if training or mean is None:
        raise UnsupportedOperation("batch norm with batch statistics (training mode)")
    if context.active(mean) or context.active(var):
        raise UnsupportedOperation("batch norm with parameter-dependent running statistics")
    x0 = context.value(x)
    shape = (1, -1) + (1,) * (x0.ndim - 2)
    scale = torch.rsqrt(context.value(var) + eps)
    mean0 = context.value(mean).view(shape)

    def batch_norm():
        w0, w1, w2 = triple(context, weight)
        _, b1, b2 = triple(context, bias)
        slope = (scale if w0 is None else scale * w0).view(shape)
        slopes = [None if w is None else (scale * w).view(shape) for w in (w1, w2)]
        shifts = [total(None if sw is None else -mean0 * sw, None if b is None else b.view(shape))
                  for sw, b in zip(slopes, (b1, b2), strict=True)]
        pair = bilinear(multiply, (x0, *context.derivative(x)), (slope, *slopes), extra=shifts,
                        accumulate=multiply_into)
        return (tuple(expanded(d, x0.shape) for d in pair), (None, None), (None, None))
    return batch_norm
