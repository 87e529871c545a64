"""Tests of extractors._hessian._taylor: second-order forward mode along parameter directions.

Every rule is pinned against torch's own derivatives on tiny float64 networks: the first
and second directional derivatives of the logits against nested ``torch.func.jvp``, and
``vᵀHv`` of the mean cross-entropy against the dense Hessian.
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from extractors._hessian._taylor import TaylorNetwork, UnsupportedOperation, quadratic_forms

DTYPE = torch.float64
# the reference derivatives come from torch.func.jvp, whose first use warns inside torch
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


class Residual(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, width))

    def forward(self, x):
        return x + 0.5 * self.inner(x)


class Branches(nn.Module):
    """Concatenation, splitting, products and quotients of activations, powers."""

    def __init__(self):
        super().__init__()
        self.left = nn.Linear(4, 3)
        self.right = nn.Linear(4, 3)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 3))
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        a = torch.sigmoid(self.left(x))
        b = self.right(x)
        c = (a * b - 1.0) / (2.0 + a) * self.scale
        d, e = torch.chunk(torch.cat([c, b.square()], dim=1), 2, dim=1)
        f = torch.stack([d.sum(1), (e / self.scale.exp()).mean(1)], dim=1)
        return self.out(torch.cat([a.pow(3), torch.where(b > 0, b, 0.1 * b), f], dim=1))


class Attention(nn.Module):
    """Batched matrix products of two activations and a softmax over them."""

    def __init__(self):
        super().__init__()
        self.query = nn.Linear(2, 3)
        self.key = nn.Linear(2, 3)
        self.out = nn.Linear(12, 3)

    def forward(self, x):
        tokens = x.view(x.shape[0], 4, 2)
        scores = self.query(tokens) @ self.key(tokens).transpose(1, 2)
        mixed = torch.softmax(scores, dim=-1) @ tokens.expand(-1, -1, -1)
        return self.out(torch.cat([mixed.flatten(1), tokens.flatten(1)], dim=1)[:, :12])


def cnn_batchnorm_maxpool():
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(inplace=True),
        nn.MaxPool2d(2, padding=1), nn.Conv2d(3, 4, 2, bias=False),
        nn.BatchNorm2d(4, affine=False), nn.LeakyReLU(0.1), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 3))
    with torch.no_grad():  # non-trivial running statistics: eval mode must use them
        for layer in (model[1], model[5]):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 2.0)
    return model


def cnn_transposed_padded():
    return nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(2, 2, 3, stride=2), nn.GELU(),
                         nn.ConvTranspose2d(2, 2, 2, stride=2), nn.AvgPool2d(2), nn.Hardtanh(),
                         nn.Flatten(), nn.Linear(2 * 2 * 2, 3), nn.LogSoftmax(dim=1))


MODELS = {
    "mlp-tanh": (lambda: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)), (4,)),
    "mlp-smooth": (lambda: nn.Sequential(
        nn.Linear(4, 5), nn.SiLU(), nn.Linear(5, 5), nn.Softplus(), nn.Linear(5, 5), nn.ELU(),
        nn.Linear(5, 5), nn.Mish(), nn.Linear(5, 3), nn.Softmax(dim=1)), (4,)),
    "residual": (lambda: nn.Sequential(nn.Linear(4, 5), Residual(5), nn.ReLU(),
                                       nn.Linear(5, 3)), (4,)),
    "branches": (Branches, (4,)),
    "attention": (Attention, (8,)),
    "cnn-batchnorm-maxpool": (cnn_batchnorm_maxpool, (2, 5, 5)),
    "cnn-transposed-padded": (cnn_transposed_padded, (2, 4, 4)),
}


def functional(model, x):
    """The model's logits as a function of its flat trainable parameters, and that vector
    (frozen parameters and buffers are held fixed)."""
    names = [name for name, p in model.named_parameters() if p.requires_grad]
    params = dict(model.named_parameters())
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]
    fixed = {**{n: p.detach() for n, p in params.items() if n not in names},
             **dict(model.named_buffers())}

    def logits(theta):
        state = {n: t.view(s) for n, t, s in zip(names, theta.split(sizes), shapes, strict=True)}
        return torch.func.functional_call(model, {**state, **fixed}, (x,))

    return logits, torch.cat([params[n].detach().reshape(-1) for n in names])


def build(name, seed=0, n=6):
    make, shape = MODELS[name]
    torch.manual_seed(seed)
    model = make().to(DTYPE).eval()
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, *shape, generator=g, dtype=DTYPE)
    y = torch.randint(0, 3, (n,), generator=g)
    return model, x, y


def directional_derivatives(function, point, direction):
    """``ż`` and ``z̈`` by nested forward-mode autodiff (torch's own rules)."""
    def along(t):
        return function(point + t * direction)

    def first(t):
        return torch.func.jvp(along, (t,), (torch.ones_like(t),))[1]

    t = torch.zeros((), dtype=point.dtype)
    return first(t), torch.func.jvp(first, (t,), (torch.ones_like(t),))[1]


@pytest.mark.parametrize("name", list(MODELS))
def test_derivatives_match_nested_forward_mode(name):
    model, x, y = build(name)
    logits, point = functional(model, x)
    network = TaylorNetwork(logits, point)
    direction = torch.randn(point.shape, generator=torch.Generator().manual_seed(7), dtype=DTYPE)
    first, second = network(direction)
    expected_first, expected_second = directional_derivatives(logits, point, direction)
    torch.testing.assert_close(network.value, logits(point), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(first, expected_first, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(second, expected_second, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_quadratic_form_matches_the_dense_hessian(name):
    model, x, y = build(name)
    logits, point = functional(model, x)
    hessian = torch.func.hessian(lambda theta: nn.functional.cross_entropy(logits(theta), y))(point)
    network = TaylorNetwork(logits, point)
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        v = torch.randint(0, 2, point.shape, generator=g).to(DTYPE) * 2 - 1
        form = quadratic_forms(network.value, y, *network(v))
        assert float(form) == pytest.approx(float(v @ hessian @ v), rel=1e-10, abs=1e-12)


def test_a_block_of_directions_under_vmap_equals_one_at_a_time():
    model, x, y = build("cnn-batchnorm-maxpool")
    logits, point = functional(model, x)
    network = TaylorNetwork(logits, point)
    directions = torch.randn(4, point.numel(), generator=torch.Generator().manual_seed(0),
                             dtype=DTYPE)

    def form(v):
        return quadratic_forms(network.value, y, *network(v))

    torch.testing.assert_close(torch.func.vmap(form)(directions),
                               torch.stack([form(v) for v in directions]), rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(logits=st.lists(st.floats(-5, 5), min_size=6, max_size=6),
       first=st.lists(st.floats(-3, 3), min_size=6, max_size=6),
       second=st.lists(st.floats(-3, 3), min_size=6, max_size=6),
       labels=st.lists(st.integers(0, 2), min_size=2, max_size=2))
def test_quadratic_forms_is_the_second_derivative_of_the_cross_entropy(logits, first, second,
                                                                       labels):
    z0, z1, z2 = (torch.tensor(v, dtype=DTYPE).view(2, 3) for v in (logits, first, second))
    y = torch.tensor(labels)

    def loss(t):  # the cross-entropy along the parabola z0 + t z1 + t² z2 / 2
        return nn.functional.cross_entropy(z0 + t * z1 + 0.5 * t**2 * z2, y)

    expected = torch.func.hessian(loss)(torch.zeros((), dtype=DTYPE))
    assert float(quadratic_forms(z0, y, z1, z2)) == pytest.approx(float(expected), rel=1e-10,
                                                                  abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       activation=st.sampled_from([nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.Softplus, nn.ELU]),
       bias=st.booleans(), n=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_random_mlps_match_nested_forward_mode(widths, activation, bias, n, seed):
    torch.manual_seed(seed)
    layers, previous = [], 3
    for width in widths:
        layers += [nn.Linear(previous, width, bias=bias), activation()]
        previous = width
    model = nn.Sequential(*layers, nn.Linear(previous, 2)).to(DTYPE).eval()
    x = torch.randn(n, 3, dtype=DTYPE)
    logits, point = functional(model, x)
    direction = torch.randn(point.shape, dtype=DTYPE)
    first, second = TaylorNetwork(logits, point)(direction)
    expected_first, expected_second = directional_derivatives(logits, point, direction)
    torch.testing.assert_close(first, expected_first, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(second, expected_second, rtol=1e-10, atol=1e-12)


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x):
        out = self.linear(x)
        return out if float(out.sum()) > 0 else -out


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 3)),  # no rule: layer norm
    DataDependent(),  # control flow on values cannot be traced
], ids=["layer-norm", "data-dependent"])
def test_unsupported_networks_are_refused_not_approximated(model):
    model = model.to(DTYPE).eval()
    logits, point = functional(model, torch.randn(5, 4, dtype=DTYPE))
    with pytest.raises(UnsupportedOperation):
        TaylorNetwork(logits, point)


def test_parameters_of_the_model_are_never_touched():
    model, x, _ = build("cnn-batchnorm-maxpool")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logits, point = functional(model, x)
    TaylorNetwork(logits, point)(torch.ones_like(point))
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


class AddChannel(nn.Module):
    def forward(self, h):
        return h.unsqueeze(1)


def test_frozen_weights_leave_only_their_biases_on_the_parameter_path():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), AddChannel(), nn.Conv1d(1, 2, 2),
                          nn.Flatten(), nn.Linear(8, 3)).to(DTYPE).eval()
    model[0].weight.requires_grad_(False)  # these layers vary only through their biases
    model[3].weight.requires_grad_(False)
    logits, point = functional(model, torch.randn(6, 4, dtype=DTYPE))
    assert point.numel() == 5 + 2 + 8 * 3 + 3
    direction = torch.randn(point.shape, dtype=DTYPE)
    first, second = TaylorNetwork(logits, point)(direction)
    expected_first, expected_second = directional_derivatives(logits, point, direction)
    torch.testing.assert_close(first, expected_first, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(second, expected_second, rtol=1e-10, atol=1e-12)
