"""The rule table of second-order forward mode: one rule per family of aten operations.

A rule sees one node of the traced graph through a :class:`Context` and returns a
closure that maps the derivatives of the node's inputs to the node's own pair
``(first, second)`` (``None`` stands for an exact zero, so inputs that do not depend on
the parameters cost nothing).  What does not depend on the direction (the forward
values, ``f'`` and ``f''`` of elementwise operations, max-pooling indices) is computed
when the rule is built; the closure runs once per direction.  Nothing is changed in
place, so the closures also run under :func:`torch.func.vmap`.

The rules themselves are in ``_rules_linear`` (maps linear in the input: views,
reductions, sums, pooling, ``where``), ``_rules_products`` (products, quotients,
convolutions, matrix products, eval-mode batch norm) and ``_rules_nonlinear``
(elementwise functions, softmax); each registers its builders here with
:func:`register` when it is imported (``_network`` imports all three).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

__all__ = ["Context", "UnsupportedOperation", "is_node", "packet", "register",
           "require_only_first_active", "rule_for", "triple"]


class UnsupportedOperation(RuntimeError):
    """An operation on the parameter path has no second-order forward rule here."""


class Context(NamedTuple):
    """What a rule may read: ``value(arg)`` the forward value of a node (constants pass
    through), ``derivative(arg)`` its pair during a sweep, ``active(arg)`` whether it
    depends on the parameters."""

    value: Callable
    derivative: Callable
    active: Callable


_RULES: dict = {}


def register(*packets):
    """Decorator: ``builder(node, context)`` is the rule of every operation in ``packets``."""
    def decorate(builder):
        for target in packets:
            _RULES[target] = builder
        return builder
    return decorate


def packet(target):
    """The overload packet of an aten operation (``aten.add`` for ``aten.add.Tensor``)."""
    return getattr(target, "overloadpacket", target)


def is_node(arg) -> bool:
    """Whether ``arg`` is a node of the graph (not a constant)."""
    return isinstance(arg, torch.fx.Node)


def rule_for(node: torch.fx.Node, context: Context) -> Callable[[], tuple]:
    """The per-direction closure of ``node``, or :class:`UnsupportedOperation`."""
    builder = _RULES.get(packet(node.target))
    if builder is None:
        raise UnsupportedOperation(f"no second-order forward rule for {node.target}")
    return builder(node, context)


def triple(context: Context, arg):
    """``(value, first, second)`` of an argument; ``None`` stays ``None``."""
    if arg is None:
        return (None, None, None)
    if not is_node(arg):
        return (arg, None, None)
    return (context.value(arg), *context.derivative(arg))


def require_only_first_active(node, context: Context):
    """Refuse a node whose parameter-dependent input is not (only) its first argument."""
    others = [a for a in (*node.args[1:], *node.kwargs.values()) if is_node(a)]
    if not context.active(node.args[0]) or any(map(context.active, others)):
        raise UnsupportedOperation(
            f"{node.target} whose other arguments depend on the parameters")
