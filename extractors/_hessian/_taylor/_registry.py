"""Second-order forward rules, one per family of aten operations.

A rule sees one node of the traced graph through a :class:`Context` and returns a
closure that maps the derivatives of the node's inputs to the node's own pair
``(first, second)`` (``None`` stands for an exact zero, so inputs that do not depend on
the parameters cost nothing).  What does not depend on the direction (the forward
values, ``f'`` and ``f''`` of elementwise operations, max-pooling indices) is computed
when the rule is built; the closure runs once per direction.  Nothing is changed in
place, so the closures also run under :func:`torch.func.vmap`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch.fx.node import map_aggregate

__all__ = ["Context", "UnsupportedOperation", "rule_for"]

aten = torch.ops.aten


class UnsupportedOperation(RuntimeError):
    """An operation on the parameter path has no second-order forward rule here."""


class Context(NamedTuple):
    """What a rule may read: ``value(arg)`` the forward value of a node (constants pass
    through), ``derivative(arg)`` its pair during a sweep, ``active(arg)`` whether it
    depends on the parameters."""

    value: Callable
    derivative: Callable
    active: Callable


# --- small helpers ------------------------------------------------------------------------
def _total(*terms):
    """Sum of the terms that are not ``None`` (``None`` stands for an exact zero)."""
    present = [term for term in terms if term is not None]
    if not present:
        return None
    result = present[0]
    for term in present[1:]:
        result = result + term
    return result


def _scaled(scale, term):
    return None if term is None else scale * term


def _scaled_operands(scale, x, y):
    """``(scale·x, y)`` or ``(x, scale·y)``, scaling the smaller operand."""
    if not torch.is_tensor(y) or (torch.is_tensor(x) and x.numel() > y.numel()):
        return x, scale * y
    return scale * x, y


def _bilinear(product, a, b, extra=(None, None), accumulate=None):
    """Derivatives of ``product(a, b) + c`` for a product linear in each argument.

    ``a`` and ``b`` are ``(value, first, second)``; ``(ab)'' = a''b + 2a'b' + ab''``.
    ``product(x, y, c)`` returns ``x·y + c`` (``c`` may be ``None``), ``extra`` holds
    ``(c', c'')`` and ``accumulate(out, x, y)`` returns ``out + x·y`` (default: a product
    and a sum).  Nothing is changed in place, so the rule also runs under ``vmap``.
    """
    a0, a1, a2 = a
    b0, b1, b2 = b

    def combine(terms, constant):
        result = None
        for x, y, scale in terms:
            if x is None or y is None:
                continue
            if scale != 1.0:
                x, y = _scaled_operands(scale, x, y)
            if result is None:
                result = product(x, y, constant)
                constant = None
            elif accumulate is not None:
                result = accumulate(result, x, y)
            else:
                result = result + product(x, y, None)
        return constant if result is None else result

    return (combine(((a1, b0, 1.0), (a0, b1, 1.0)), extra[0]),
            combine(((a2, b0, 1.0), (a1, b1, 2.0), (a0, b2, 1.0)), extra[1]))


def _multiply(x, y, constant):
    if constant is None or not (torch.is_tensor(x) and torch.is_tensor(y)):
        return _total(x * y, constant)
    return torch.addcmul(constant, x, y)


def _multiply_into(out, x, y):
    return torch.addcmul(out, x, y) if torch.is_tensor(x) and torch.is_tensor(y) else out + x * y


def _expanded(term, shape):
    if term is None or term.shape == shape:
        return term
    return term.expand(shape)


def _linear_map(function, pair):
    """The same linear map applied to both derivatives."""
    first, second = pair
    return (None if first is None else function(first),
            None if second is None else function(second))


# --- rules ------------------------------------------------------------------------------------
_RULES: dict = {}


def _register(*packets):
    def decorate(builder):
        for packet in packets:
            _RULES[packet] = builder
        return builder
    return decorate


def _packet(target):
    return getattr(target, "overloadpacket", target)


def _is_node(arg) -> bool:
    return isinstance(arg, torch.fx.Node)


def rule_for(node: torch.fx.Node, context: Context) -> Callable[[], tuple]:
    """The per-direction closure of ``node``, or :class:`UnsupportedOperation`."""
    builder = _RULES.get(_packet(node.target))
    if builder is None:
        raise UnsupportedOperation(f"no second-order forward rule for {node.target}")
    return builder(node, context)


def _triple(context: Context, arg):
    """``(value, first, second)`` of an argument; ``None`` stays ``None``."""
    if arg is None:
        return (None, None, None)
    if not _is_node(arg):
        return (arg, None, None)
    return (context.value(arg), *context.derivative(arg))


def _require_only_first_active(node, context: Context):
    others = [a for a in (*node.args[1:], *node.kwargs.values()) if _is_node(a)]
    if not context.active(node.args[0]) or any(map(context.active, others)):
        raise UnsupportedOperation(
            f"{node.target} whose other arguments depend on the parameters")


@_register(aten.detach)
def _stopped(node, context):
    return lambda: (None, None)


@_register(
    aten.view, aten._unsafe_view, aten.reshape, aten.t, aten.permute, aten.transpose,
    aten.expand, aten.squeeze, aten.unsqueeze, aten.clone, aten.slice, aten.select,
    aten.mean, aten.sum, aten.avg_pool1d, aten.avg_pool2d, aten.avg_pool3d,
    aten._adaptive_avg_pool2d, aten._adaptive_avg_pool3d, aten.adaptive_avg_pool1d,
    aten.neg, aten.alias, aten.flatten, aten.unflatten, aten._to_copy, aten.index_select,
    aten.index, aten.gather, aten.embedding, aten.repeat, aten.roll, aten.flip, aten.narrow,
    aten.view_copy, aten.permute_copy, aten.t_copy, aten.transpose_copy, aten.expand_copy,
    aten.squeeze_copy, aten.unsqueeze_copy, aten.slice_copy, aten.select_copy,
    aten.contiguous, aten.pixel_shuffle, aten.pixel_unshuffle, aten.channel_shuffle,
    aten.upsample_nearest1d, aten.upsample_nearest2d, aten.upsample_nearest3d,
    aten.upsample_bilinear2d, aten.upsample_linear1d, aten._upsample_nearest_exact2d)
def _linear(node, context):
    """An operation linear in its first argument: the same map on both derivatives."""
    _require_only_first_active(node, context)
    source = node.args[0]
    rest = map_aggregate(node.args[1:], context.value)
    kwargs = map_aggregate(node.kwargs, context.value)
    return lambda: _linear_map(lambda d: node.target(d, *rest, **kwargs),
                               context.derivative(source))


@_register(aten.constant_pad_nd)
def _padded(node, context):
    _require_only_first_active(node, context)
    source, padding = node.args[0], node.args[1]
    # the pad value belongs to the function value only: derivatives are padded with zeros
    return lambda: _linear_map(lambda d: aten.constant_pad_nd(d, padding, 0.0),
                               context.derivative(source))


@_register(aten.split, aten.split_with_sizes, aten.unbind, aten.chunk)
def _split(node, context):
    _require_only_first_active(node, context)
    source, rest = node.args[0], node.args[1:]
    count = len(context.value(node))

    def pieces(d):
        return [None] * count if d is None else node.target(d, *rest, **node.kwargs)

    def split():
        first, second = context.derivative(source)
        return tuple(zip(pieces(first), pieces(second), strict=True))
    return split


@_register(aten.cat, aten.stack)
def _stacked(node, context):
    parts, rest = node.args[0], node.args[1:]

    def stacked():
        pairs = [context.derivative(p) for p in parts]
        result = []
        for order in (0, 1):
            if all(pair[order] is None for pair in pairs):
                result.append(None)
                continue
            pieces = [torch.zeros_like(context.value(p)) if pair[order] is None else pair[order]
                      for pair, p in zip(pairs, parts, strict=True)]
            result.append(node.target(pieces, *rest, **node.kwargs))
        return tuple(result)
    return stacked


@_register(aten.add, aten.sub, aten.rsub)
def _summed(node, context):
    a, b = node.args[0], node.args[1]
    alpha = node.kwargs.get("alpha", node.args[2] if len(node.args) > 2 else 1)
    sign_a, sign_b = {aten.add: (1, alpha), aten.sub: (1, -alpha),
                      aten.rsub: (-alpha, 1)}[_packet(node.target)]
    shape = context.value(node).shape

    def scaled(sign, term):
        return term if sign == 1 else _scaled(sign, term)

    def summed():
        pa, pb = context.derivative(a), context.derivative(b)
        return tuple(_expanded(_total(scaled(sign_a, pa[k]), scaled(sign_b, pb[k])), shape)
                     for k in (0, 1))
    return summed


@_register(aten.mul)
def _product(node, context):
    a, b = node.args[0], node.args[1]
    shape = context.value(node).shape

    def product():
        pair = _bilinear(_multiply, _triple(context, a), _triple(context, b),
                         accumulate=_multiply_into)
        return tuple(_expanded(d, shape) for d in pair)
    return product


@_register(aten.div)
def _quotient(node, context):
    if node.kwargs.get("rounding_mode") is not None:
        raise UnsupportedOperation(f"{node.target} with rounding (not differentiable)")
    a, b = node.args[0], node.args[1]
    out = context.value(node)
    shape = out.shape

    def quotient():  # y = a / b: y' = (a' - y b') / b, y'' = (a'' - 2 y' b' - y b'') / b
        _, a1, a2 = _triple(context, a)
        b0, b1, b2 = _triple(context, b)
        first = _total(a1, None if b1 is None else -out * b1)
        first = None if first is None else first / b0
        second = _total(a2, None if first is None or b1 is None else -2.0 * first * b1,
                        None if b2 is None else -out * b2)
        return (_expanded(first, shape), _expanded(None if second is None else second / b0, shape))
    return quotient


@_register(aten.convolution)
def _convolution(node, context):
    """``conv(x, w) + bias``: bilinear in input and weight, the bias fused into one call."""
    rest = node.args[3:]
    out = context.value(node)
    bias_shape = (1, -1) + (1,) * (out.ndim - 2)

    def convolve(x, w, bias):
        return aten.convolution(x, w, bias, *rest)

    def convolution():
        _, *bias = _triple(context, node.args[2])
        pair = _bilinear(convolve, _triple(context, node.args[0]),
                         _triple(context, node.args[1]), extra=bias)
        return tuple(_expanded(d.view(bias_shape) if d is not None and d.ndim == 1 else d,
                               out.shape) for d in pair)
    return convolution


@_register(aten.mm, aten.bmm)
def _matrix_product(node, context):
    accumulate = torch.addmm if _packet(node.target) is aten.mm else torch.baddbmm

    def product(x, y, _):
        return node.target(x, y)

    return lambda: _bilinear(product, _triple(context, node.args[0]),
                             _triple(context, node.args[1]), accumulate=accumulate)


@_register(aten.addmm, aten.baddbmm)
def _affine_matrix_product(node, context):
    """``beta · input + alpha · (m1 @ m2)``."""
    beta = node.kwargs.get("beta", 1)
    alpha = node.kwargs.get("alpha", 1)
    fused, product = ((torch.addmm, torch.mm) if _packet(node.target) is aten.addmm
                      else (torch.baddbmm, torch.bmm))
    shape = context.value(node).shape

    def multiply(x, y, constant):
        if constant is None:
            return product(x, y) if alpha == 1 else alpha * product(x, y)
        return fused(constant, x, y, alpha=alpha)

    def accumulate(result, x, y):
        return fused(result, x, y, alpha=alpha)

    def affine():
        _, *extra = _triple(context, node.args[0])
        extra = [d if beta == 1 else _scaled(beta, d) for d in extra]
        pair = _bilinear(multiply, _triple(context, node.args[1]), _triple(context, node.args[2]),
                         extra=extra, accumulate=accumulate)
        return tuple(_expanded(d, shape) for d in pair)
    return affine


@_register(aten.where)
def _where(node, context):
    condition, a, b = node.args[:3]
    if context.active(condition):
        raise UnsupportedOperation("where with a parameter-dependent condition")
    out = context.value(node)

    def where():
        pa, pb = context.derivative(a), context.derivative(b)
        return tuple(None if pa[k] is None and pb[k] is None else
                     torch.where(context.value(condition),
                                 torch.zeros_like(out) if pa[k] is None else pa[k],
                                 torch.zeros_like(out) if pb[k] is None else pb[k])
                     for k in (0, 1))
    return where


_PIECEWISE_LINEAR = (aten.relu, aten.leaky_relu, aten.hardtanh, aten.abs, aten.threshold,
                     aten.clamp, aten.clamp_min, aten.clamp_max)
_SMOOTH = (aten.tanh, aten.sigmoid, aten.exp, aten.log, aten.sqrt, aten.rsqrt, aten.reciprocal,
           aten.gelu, aten.silu, aten.softplus, aten.elu, aten.mish, aten.sin, aten.cos,
           aten.erf, aten.pow, aten.square, aten.hardswish, aten.hardsigmoid, aten.log1p,
           aten.expm1, aten.selu, aten.celu)


@_register(*_PIECEWISE_LINEAR, *_SMOOTH)
def _elementwise(node, context):
    """``y = f(x)`` elementwise: ``y' = f'(x) x'``, ``y'' = f'(x) x'' + f''(x) x'²``."""
    _require_only_first_active(node, context)
    smooth = _packet(node.target) in _SMOOTH
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
                _total(None if second is None else slope * second,
                       None if curvature is None or first is None else curvature * first.square()))
    return elementwise


@_register(aten.max_pool2d_with_indices, aten.max_pool3d_with_indices,
           aten.adaptive_max_pool2d, aten.adaptive_max_pool3d)
def _max_pool(node, context):
    """Piecewise linear: the derivatives are gathered at the maxima of the forward pass."""
    _require_only_first_active(node, context)
    source = node.args[0]
    pooled, indices = context.value(node)
    spatial = 3 if _packet(node.target) in (aten.max_pool3d_with_indices,
                                            aten.adaptive_max_pool3d) else 2
    flat_indices = indices.flatten(start_dim=-spatial)

    def pick(d):
        return d.flatten(start_dim=-spatial).gather(-1, flat_indices).view(pooled.shape)

    return lambda: (_linear_map(pick, context.derivative(source)), (None, None))


@_register(aten.native_batch_norm, aten._native_batch_norm_legit_no_training)
def _batch_norm(node, context):
    """Eval-mode batch norm, per channel ``y = x · (s w) + (b - mean · s w)`` with
    ``s = rsqrt(var + eps)``: the coefficients' derivatives are cheap vectors."""
    if _packet(node.target) is aten.native_batch_norm:
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
        w0, w1, w2 = _triple(context, weight)
        _, b1, b2 = _triple(context, bias)
        slope = (scale if w0 is None else scale * w0).view(shape)
        slopes = [None if w is None else (scale * w).view(shape) for w in (w1, w2)]
        shifts = [_total(None if sw is None else -mean0 * sw, None if b is None else b.view(shape))
                  for sw, b in zip(slopes, (b1, b2), strict=True)]
        pair = _bilinear(_multiply, (x0, *context.derivative(x)), (slope, *slopes), extra=shifts,
                         accumulate=_multiply_into)
        return (tuple(_expanded(d, x0.shape) for d in pair), (None, None), (None, None))
    return batch_norm


@_register(aten._log_softmax, aten._softmax)
def _softmax(node, context):
    """``log s = x - logsumexp(x)``: ``(log s)' = x' - E[x']``,
    ``(log s)'' = x'' - E[x''] - Var[x']`` under ``s``; ``s' = s (log s)'`` and
    ``s'' = s ((log s)'' + (log s)'²)``."""
    _require_only_first_active(node, context)
    source, dim = node.args[0], node.args[1]
    out = context.value(node)
    log_output = _packet(node.target) is aten._log_softmax
    probabilities = out.exp() if log_output else out

    def expect(d):
        return (probabilities * d).sum(dim, keepdim=True)

    def softmax():
        first, second = context.derivative(source)
        log_first = None if first is None else first - expect(first)
        variance = None if first is None else expect(first.square()) - expect(first).square()
        log_second = _total(None if second is None else second - expect(second),
                            None if variance is None else -variance)
        if log_output:
            return log_first, log_second
        second_factor = _total(log_second, None if log_first is None else log_first.square())
        return (None if log_first is None else out * log_first,
                None if second_factor is None else out * second_factor)
    return softmax
