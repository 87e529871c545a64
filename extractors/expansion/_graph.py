"""Follow the forward data flow of a model (with ``torch.fx``) from one layer to the next."""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.nn.utils import parametrize

from ._checks import WIDENABLE, check_layer_name

SUPPORTED_BETWEEN = (
    "BatchNorm1d/BatchNorm2d, elementwise activations (ReLU, GELU, Tanh, ...), Dropout, "
    "2-D pooling and flatten(start_dim=1)"
)

# Modules that act on each unit (channel) separately: a copied unit stays a copy through
# them.  BatchNorm is handled apart because its per-unit tensors must be widened too.
_ELEMENTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Identity,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
)
_ELEMENTWISE_FUNCTIONS = {
    F.relu, torch.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.gelu, F.silu, F.mish,
    torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.hardtanh, F.softplus, F.dropout,
    F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d,
}
_ELEMENTWISE_METHODS = {"relu", "sigmoid", "tanh"}
# Between a layer and the ReLU that follows it (deepen): nothing that changes the sign.
_BEFORE_ACTIVATION = (nn.BatchNorm1d, nn.BatchNorm2d, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                      nn.Identity)


class NoConsumerError(ValueError):
    """The layer's output reaches the model output without another Linear/Conv2d."""


@dataclass(frozen=True)
class WidenPlan:
    """What :func:`widen` changes: the layer, the BatchNorms after it, the layer that reads it.

    ``block_size`` is the number of consumer input features per unit: 1, or ``H * W`` when a
    Conv2d output of spatial size ``H x W`` is flattened into a Linear (channel-major blocks).
    """

    layer: str
    width: int
    batchnorms: tuple[str, ...]
    consumer: str
    block_size: int


@dataclass(frozen=True)
class ActivationSite:
    """Where :func:`deepen` inserts: a ReLU module, and the Linear/Conv2d whose output it takes."""

    relu: str
    producer: str
    width: int


def trace(model: nn.Module, operator_name: str) -> fx.Graph:
    try:
        return fx.symbolic_trace(model).graph
    except Exception as exc:  # torch.fx raises many types for untraceable code
        raise ValueError(
            f"{operator_name} cannot follow the data flow of {type(model).__name__}: torch.fx "
            f"could not trace its forward ({type(exc).__name__}: {exc}); {operator_name} "
            "supports models whose forward is a fixed chain of modules, such as nn.Sequential "
            "and md_sklearn.models.SmallCNN."
        ) from exc


def _describe(node: fx.Node, modules: dict) -> str:
    if node.op == "call_module":
        return f"module {node.target!r} ({type(modules[node.target]).__name__})"
    if node.op == "call_function":
        if node.target in (operator.add, operator.iadd, torch.add):
            return "an addition (a residual connection)"
        if node.target is torch.cat:
            return "a concatenation (torch.cat)"
        return f"the function {getattr(node.target, '__name__', node.target)}"
    if node.op == "call_method":
        return f"the tensor method .{node.target}()"
    return f"{node.op} {node.target}"


def _single_call(graph: fx.Graph, name: str, what: str) -> fx.Node:
    calls = [n for n in graph.nodes if n.op == "call_module" and n.target == name]
    if len(calls) != 1:
        raise ValueError(
            f"expected {what} {name!r} to be called once in forward, got {len(calls)} calls; "
            "a module that is reused (or never used) cannot be expanded in one place: give "
            "each use its own module."
        )
    return calls[0]


def _only_user(node: fx.Node, layer: str, modules: dict, operator_name: str) -> fx.Node:
    users = list(node.users)
    if len(users) != 1:
        uses = ", ".join(_describe(u, modules) for u in users) or "nothing"
        raise ValueError(
            f"{operator_name} cannot expand {layer!r}: the output of {_describe(node, modules)} "
            f"is used by {len(users)} operations ({uses}), e.g. a residual addition or a "
            "concatenation; only a single chain of layers is supported."
        )
    user = users[0]
    extra = [a for a in (*user.args[1:], *user.kwargs.values()) if isinstance(a, fx.Node)]
    if user.op != "output" and (not user.args or user.args[0] is not node or extra):
        raise ValueError(
            f"{operator_name} cannot expand {layer!r}: its output is combined with other "
            f"tensors in {_describe(user, modules)}; only a single chain of layers is "
            "supported."
        )
    return user


def _flatten_args(node: fx.Node) -> tuple:
    start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
    end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
    return start, end


def _is_flatten(node: fx.Node, modules: dict) -> bool:
    if node.op == "call_module" and isinstance(modules[node.target], nn.Flatten):
        module = modules[node.target]
        return (module.start_dim, module.end_dim) == (1, -1)
    if (node.op == "call_function" and node.target is torch.flatten) or (
            node.op == "call_method" and node.target == "flatten"):
        return _flatten_args(node) == (1, -1)
    return False


def _is_elementwise(node: fx.Node, modules: dict) -> bool:
    if node.op == "call_module":
        return isinstance(modules[node.target], _ELEMENTWISE_MODULES)
    if node.op == "call_function":
        return node.target in _ELEMENTWISE_FUNCTIONS
    return node.op == "call_method" and node.target in _ELEMENTWISE_METHODS


def _check_plain(module: nn.Module, name: str, operator_name: str) -> None:
    if parametrize.is_parametrized(module):
        raise ValueError(
            f"{operator_name} cannot expand {name!r}: {type(module).__name__} carries a "
            "parametrization (e.g. weight or spectral norm); remove it first."
        )
    if isinstance(module, nn.Conv2d) and module.groups != 1:
        raise ValueError(
            f"{operator_name} cannot expand {name!r}: expected a Conv2d with groups=1, got a "
            f"grouped convolution (groups={module.groups}); grouped and depthwise convolutions "
            "are not supported."
        )


def _check_unshared(model: nn.Module, names: list[str], operator_name: str) -> None:
    owners: dict[int, list[str]] = {}
    for name, tensor in model.named_parameters(remove_duplicate=False):
        owners.setdefault(id(tensor), []).append(name)
    for module_name in names:
        for tensor in model.get_submodule(module_name).parameters(recurse=False):
            if len(owners[id(tensor)]) > 1:
                raise ValueError(
                    f"{operator_name} cannot expand {module_name!r}: its parameter is shared "
                    f"({', '.join(owners[id(tensor)])}); untie the weights first."
                )


def _unsupported_layer(name: str, module: nn.Module) -> ValueError:
    return ValueError(
        f"widen cannot widen {name!r}: expected a torch.nn.Linear or torch.nn.Conv2d layer, "
        f"got {type(module).__name__}; name one of the model's Linear or Conv2d layers "
        "(other layer types, e.g. LSTM or Conv1d, are not supported)."
    )


def widen_plan(model: nn.Module, layer) -> WidenPlan:
    """Find the BatchNorms and the consumer of ``layer`` along the forward data flow."""
    module = check_layer_name(model, layer, "layer")
    if not isinstance(module, WIDENABLE):
        raise _unsupported_layer(layer, module)
    _check_plain(module, layer, "widen")
    graph = trace(model, "widen")
    modules = dict(model.named_modules())
    node = _single_call(graph, layer, "layer")
    spatial = isinstance(module, nn.Conv2d)
    width = module.out_channels if spatial else module.out_features
    flattened = False
    batchnorms = []
    while True:
        node = _only_user(node, layer, modules, "widen")
        if node.op == "output":
            raise NoConsumerError(
                f"widen cannot widen {layer!r} ({type(module).__name__}): its output reaches "
                "the model output without passing through another Linear or Conv2d, so there "
                "is no consumer whose inputs could absorb new units (the last layer's width is "
                "the number of outputs); name a hidden layer."
            )
        target = modules.get(node.target) if node.op == "call_module" else None
        if isinstance(target, (nn.BatchNorm1d, nn.BatchNorm2d)) and not flattened:
            _single_call(graph, node.target, "BatchNorm")
            _check_plain(target, node.target, "widen")
            if target.num_features != width:
                raise ValueError(
                    f"widen cannot widen {layer!r}: {node.target!r} normalises "
                    f"{target.num_features} features, not the layer's {width} units."
                )
            batchnorms.append(node.target)
        elif isinstance(target, WIDENABLE):
            consumer = node.target
            _single_call(graph, consumer, "consumer")
            _check_plain(target, consumer, "widen")
            block_size = _block_size(layer, width, spatial, flattened, consumer, target)
            _check_unshared(model, [layer, *batchnorms, consumer], "widen")
            return WidenPlan(layer, width, tuple(batchnorms), consumer, block_size)
        elif _is_flatten(node, modules):
            flattened = True
        elif not _is_elementwise(node, modules):
            raise ValueError(
                f"widen cannot widen {layer!r}: between it and the next Linear/Conv2d the data "
                f"flow passes through {_describe(node, modules)}, which widen does not support; "
                f"supported in between: {SUPPORTED_BETWEEN}."
            )


def _block_size(layer, width, spatial, flattened, consumer, module) -> int:
    if isinstance(module, nn.Conv2d):
        if not spatial or flattened or module.in_channels != width:
            raise ValueError(
                f"widen cannot widen {layer!r}: its consumer {consumer!r} (Conv2d) does not read "
                f"its {width} units as input channels; expected Conv2d -> Conv2d without "
                "flattening."
            )
        return 1
    if spatial and not flattened:
        raise ValueError(
            f"widen cannot widen {layer!r}: the Linear {consumer!r} is applied to the Conv2d "
            "output without flattening it; expected flatten(start_dim=1) or global pooling "
            "and flatten in between."
        )
    if module.in_features % width or (not spatial and module.in_features != width):
        raise ValueError(
            f"widen cannot widen {layer!r}: its consumer {consumer!r} has {module.in_features} "
            f"input features, not a block per unit of the layer's {width} units."
        )
    return module.in_features // width


def activation_site(model: nn.Module, after_layer) -> ActivationSite:
    """The ReLU module after which :func:`deepen` inserts, and the layer that feeds it."""
    module = check_layer_name(model, after_layer, "after_layer")
    if not isinstance(module, (*WIDENABLE, nn.ReLU)):
        raise ValueError(
            f"deepen cannot insert after {after_layer!r}: expected the name of an nn.ReLU or of "
            f"the Linear/Conv2d it follows, got {type(module).__name__}; the new layer goes "
            "after a ReLU, where the identity keeps the function (its input is >= 0)."
        )
    graph = trace(model, "deepen")
    modules = dict(model.named_modules())
    node = _single_call(graph, after_layer, "after_layer")
    if not isinstance(module, nn.ReLU):  # walk forward to the ReLU module
        while not (node.op == "call_module" and isinstance(modules[node.target], nn.ReLU)):
            node = _only_user(node, after_layer, modules, "deepen")
            if node.op == "call_module" and isinstance(
                    modules[node.target], (*_BEFORE_ACTIVATION, nn.ReLU)):
                continue
            raise ValueError(
                f"deepen cannot insert after {after_layer!r}: expected it to be followed by an "
                f"nn.ReLU module (through BatchNorm or Dropout only), got "
                f"{_describe(node, modules)}; name a hidden layer with a ReLU module after it."
            )
        _single_call(graph, node.target, "the ReLU")
    relu = node.target
    producer = node.args[0] if node.args else None
    while isinstance(producer, fx.Node) and producer.op == "call_module" and isinstance(
            modules[producer.target], _BEFORE_ACTIVATION):
        producer = producer.args[0]
    if not (isinstance(producer, fx.Node) and producer.op == "call_module"
            and isinstance(modules[producer.target], WIDENABLE)):
        found = _describe(producer, modules) if isinstance(producer, fx.Node) else "no module"
        raise ValueError(
            f"deepen cannot insert after {relu!r}: expected its input to come from a Linear or "
            f"Conv2d (through BatchNorm or Dropout only), got {found}; the inserted layer takes "
            "its size from that layer."
        )
    layer = modules[producer.target]
    width = layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features
    return ActivationSite(relu, producer.target, width)
