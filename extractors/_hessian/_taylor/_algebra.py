"""Arithmetic on derivative pairs: sums and products where ``None`` is an exact zero,
and the product rule ``(ab)'' = a''b + 2a'b' + ab''`` for bilinear operations."""

from __future__ import annotations

import torch

__all__ = ["bilinear", "expanded", "linear_map", "multiply", "multiply_into", "scaled", "total"]


def total(*terms):
    """Sum of the terms that are not ``None`` (``None`` stands for an exact zero)."""
    present = [term for term in terms if term is not None]
    if not present:
        return None
    result = present[0]
    for term in present[1:]:
        result = result + term
    return result


def scaled(scale, term):
    return None if term is None else scale * term


def scaled_operands(scale, x, y):
    """``(scale·x, y)`` or ``(x, scale·y)``, scaling the smaller operand."""
    if not torch.is_tensor(y) or (torch.is_tensor(x) and x.numel() > y.numel()):
        return x, scale * y
    return scale * x, y


def bilinear(product, a, b, extra=(None, None), accumulate=None):
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
                x, y = scaled_operands(scale, x, y)
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


def multiply(x, y, constant):
    if constant is None or not (torch.is_tensor(x) and torch.is_tensor(y)):
        return total(x * y, constant)
    return torch.addcmul(constant, x, y)


def multiply_into(out, x, y):
    return torch.addcmul(out, x, y) if torch.is_tensor(x) and torch.is_tensor(y) else out + x * y


def expanded(term, shape):
    if term is None or term.shape == shape:
        return term
    return term.expand(shape)


def linear_map(function, pair):
    """The same linear map applied to both derivatives."""
    first, second = pair
    return (None if first is None else function(first),
            None if second is None else function(second))
