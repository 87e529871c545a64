"""The network traced once, swept along one direction in parameter space.

For ``z(t) = f(θ + t v)`` a sweep computes ``ż = dz/dt`` and ``z̈ = d²z/dt²`` at
``t = 0`` by pushing the pair through every operation of ``f`` (the rules are in
``_registry`` and the ``_rules_*`` modules).

The network is traced once with :func:`torch.fx.experimental.proxy_tensor.make_fx`
(after :func:`torch.func.functionalize`, so in-place operations are fine); an operation
on the parameter path that has no rule, or a network that cannot be traced (control
flow on tensor values), raises :class:`UnsupportedOperation`, and the caller falls back
to Hessian-vector products.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch
from torch.fx.experimental.proxy_tensor import make_fx
from torch.fx.node import map_aggregate

from . import _rules_linear, _rules_nonlinear, _rules_products  # noqa: F401 (they register the rules)
from ._registry import Context, UnsupportedOperation, rule_for

__all__ = ["TaylorNetwork"]


class TaylorNetwork:
    """``v -> (ż, z̈)`` for ``z = function(θ)`` around ``θ = point``, in one forward sweep.

    The forward values of the graph are computed once, here; each call then computes
    only derivatives.  Calls may be batched over directions with :func:`torch.func.vmap`.

    Parameters
    ----------
    function : callable
        Maps the flat parameter vector to the output tensor; traced once at ``point``.
    point : torch.Tensor
        The flat parameter vector (1-D) where the derivatives are taken.

    Attributes
    ----------
    value : torch.Tensor
        ``function(point)``.

    Raises
    ------
    UnsupportedOperation
        If ``function`` cannot be traced or an operation that depends on the parameters
        has no rule; use Hessian-vector products instead.
    """

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor], point: torch.Tensor):
        try:
            with torch.no_grad():
                graph = make_fx(torch.func.functionalize(function))(point)
        except Exception as error:  # tracing is best effort: any failure means "fall back"
            raise UnsupportedOperation(f"the network could not be traced ({error})") from error
        self._derivatives: dict = {}
        self._steps: list[tuple[torch.fx.Node, Callable, tuple]] = []
        try:
            with torch.no_grad():
                self._build(graph, point)
        except UnsupportedOperation:
            raise
        except Exception as error:  # a rule that cannot handle this use of its operation
            raise UnsupportedOperation(f"a rule failed on this network ({error!r})") from error
        self._release_after_last_use()

    def _build(self, graph: torch.fx.GraphModule, point: torch.Tensor) -> None:
        values: dict = {}
        active: set = set()
        derivatives = self._derivatives

        def value(arg):
            return values[arg] if isinstance(arg, torch.fx.Node) else arg

        def derivative(arg):
            return derivatives[arg] if is_active(arg) else (None, None)

        def is_active(arg):
            return isinstance(arg, torch.fx.Node) and arg in active

        context = Context(value, derivative, is_active)
        for node in graph.graph.nodes:
            if node.op == "placeholder":
                values[node] = point
                active.add(node)
                self._input = node
            elif node.op == "get_attr":
                values[node] = getattr(graph, node.target)
            elif node.op == "output":
                (self._output,) = node.args
            else:
                values[node] = node.target(*map_aggregate(node.args, value),
                                           **map_aggregate(node.kwargs, value))
                if not any(map(is_active, node.all_input_nodes)):
                    continue
                if node.target is operator.getitem:
                    step = _item(derivatives, *node.args)
                elif _floating(values[node]):
                    step = rule_for(node, context)
                else:
                    continue  # integer results (indices, comparisons) carry no derivative
                active.add(node)
                self._steps.append((node, step, ()))
        if not is_active(self._output):
            raise UnsupportedOperation("expected an output that depends on the parameters")
        self.value = values[self._output]

    def _release_after_last_use(self) -> None:
        """Let each sweep drop a derivative once its last reader has run (memory)."""
        last_reader = {}
        for index, (node, _, _) in enumerate(self._steps):
            for source in node.all_input_nodes:
                last_reader[source] = index
        last_reader.pop(self._output, None)
        releases = [[] for _ in self._steps]
        for source, index in last_reader.items():
            releases[index].append(source)
        self._steps = [(node, step, tuple(release))
                       for (node, step, _), release in zip(self._steps, releases, strict=True)]

    def __call__(self, direction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """First and second derivative of the output along ``direction``."""
        derivatives = self._derivatives
        derivatives[self._input] = (direction, None)
        try:
            for node, step, release in self._steps:
                derivatives[node] = step()
                for source in release:
                    derivatives.pop(source, None)
            first, second = derivatives[self._output]
        finally:
            derivatives.clear()
        zeros = torch.zeros_like(self.value)
        return (zeros if first is None else first, zeros if second is None else second)


def _item(derivatives: dict, source: torch.fx.Node, index: int):
    return lambda: derivatives[source][index]


def _floating(result) -> bool:
    if isinstance(result, (tuple, list)):
        return any(_floating(item) for item in result)
    return torch.is_tensor(result) and result.is_floating_point()
