"""Rules of operations linear in their parameter-dependent input: views, reshapes,
reductions, sums, padding, splitting and stacking, pooling by the forward maxima, ``where``."""

from __future__ import annotations

import torch
from torch.fx.node import map_aggregate

from ._algebra import expanded, linear_map, scaled, total
from ._registry import UnsupportedOperation, packet, register, require_only_first_active

__all__: list[str] = []  # the rules are reached through the registry only

aten = torch.ops.aten


@register(aten.detach)
def _stopped(node, context):
    return lambda: (None, None)


@register(
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
    require_only_first_active(node, context)
    source = node.args[0]
    rest = map_aggregate(node.args[1:], context.value)
    kwargs = map_aggregate(node.kwargs, context.value)
    return lambda: linear_map(lambda d: node.target(d, *rest, **kwargs),
                              context.derivative(source))


@register(aten.constant_pad_nd)
def _padded(node, context):
    require_only_first_active(node, context)
    source, padding = node.args[0], node.args[1]
    # the pad value belongs to the function value only: derivatives are padded with zeros
    return lambda: linear_map(lambda d: aten.constant_pad_nd(d, padding, 0.0),
                              context.derivative(source))


@register(aten.split, aten.split_with_sizes, aten.unbind, aten.chunk)
def _split(node, context):
    require_only_first_active(node, context)
    source, rest = node.args[0], node.args[1:]
    count = len(context.value(node))

    def pieces(d):
        return [None] * count if d is None else node.target(d, *rest, **node.kwargs)

    def split():
        first, second = context.derivative(source)
        return tuple(zip(pieces(first), pieces(second), strict=True))
    return split


@register(aten.cat, aten.stack)
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


@register(aten.add, aten.sub, aten.rsub)
def _summed(node, context):
    a, b = node.args[0], node.args[1]
    alpha = node.kwargs.get("alpha", node.args[2] if len(node.args) > 2 else 1)
    sign_a, sign_b = {aten.add: (1, alpha), aten.sub: (1, -alpha),
                      aten.rsub: (-alpha, 1)}[packet(node.target)]
    shape = context.value(node).shape

    def signed(sign, term):
        return term if sign == 1 else scaled(sign, term)

    def summed():
        pa, pb = context.derivative(a), context.derivative(b)
        return tuple(expanded(total(signed(sign_a, pa[k]), signed(sign_b, pb[k])), shape)
                     for k in (0, 1))
    return summed


@register(aten.where)
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


@register(aten.max_pool2d_with_indices, aten.max_pool3d_with_indices,
          aten.adaptive_max_pool2d, aten.adaptive_max_pool3d)
def _max_pool(node, context):
    """Piecewise linear: the derivatives are gathered at the maxima of the forward pass."""
    require_only_first_active(node, context)
    source = node.args[0]
    pooled, indices = context.value(node)
    spatial = 3 if packet(node.target) in (aten.max_pool3d_with_indices,
                                           aten.adaptive_max_pool3d) else 2
    flat_indices = indices.flatten(start_dim=-spatial)

    def pick(d):
        return d.flatten(start_dim=-spatial).gather(-1, flat_indices).view(pooled.shape)

    return lambda: (linear_map(pick, context.derivative(source)), (None, None))
