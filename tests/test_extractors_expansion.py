"""Tests of extractors.expansion: widen, deepen, expansion_candidates, parameter_count."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from _model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from extractors.expansion import (
    ResidualBlock,
    deepen,
    expansion_candidates,
    parameter_count,
    widen,
)
from md_sklearn.models import small_cnn

EXACT = 1e-10  # float64: the operators only reorder exact products and sums


def mlp(hidden=(6, 5), seed=0, dtype=torch.float64):
    """The benchmark's kind of MLP on 8x8 digits: Flatten, Linear/ReLU, ..., Linear."""
    torch.manual_seed(seed)
    layers, width = [nn.Flatten()], 64
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 10)).to(dtype)


def cnn(width=2, seed=0, dtype=torch.float64):
    """A SmallCNN whose BatchNorms are far from their initial state."""
    torch.manual_seed(seed)
    model = small_cnn(width).to(dtype)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_()
                module.bias.normal_()
    return model


def digits(n=12, seed=1, dtype=torch.float64):
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def max_difference(model, expanded, x, training):
    """Largest output difference in one mode, on private copies (train mode moves stats)."""
    a = copy.deepcopy(model).train(training)
    b = copy.deepcopy(expanded).train(training)
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


def assert_same_function(model, expanded, x, tol=EXACT):
    for training in (False, True):
        assert max_difference(model, expanded, x, training) <= tol, training


# --- widen: function preservation ---------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(h1=st.integers(1, 9), h2=st.integers(1, 9), factor=st.floats(1.0, 4.0),
       layer=st.sampled_from(["1", "3"]), method=st.sampled_from(["copy", "zero"]),
       seed=st.integers(0, 2**32))
def test_widen_mlp_preserves_function_and_sizes(h1, h2, factor, layer, method, seed):
    model = mlp((h1, h2))
    wider = widen(model, layer, factor, method=method, random_state=seed)
    old = model.get_submodule(layer).out_features
    expected = math.floor(factor * old + 0.5)
    consumer = str(int(layer) + 2)
    assert wider.get_submodule(layer).out_features == expected
    assert wider.get_submodule(layer).weight.shape == (expected, model.get_submodule(layer).in_features)
    assert wider.get_submodule(consumer).in_features == expected
    assert wider.get_submodule(consumer).weight.shape[1] == expected
    assert_same_function(model, wider, digits())


@pytest.mark.parametrize("method", ["copy", "zero"])
@pytest.mark.parametrize("layer", ["features.0", "features.3", "features.6"])
def test_widen_small_cnn_with_batchnorm_preserves_function(layer, method):
    model = cnn(width=2)
    wider = widen(model, layer, 2.5, method=method, random_state=0)
    conv = wider.get_submodule(layer)
    bn = wider.get_submodule(layer[:-1] + str(int(layer[-1]) + 1))
    assert conv.out_channels == conv.weight.shape[0] == bn.num_features == bn.running_var.shape[0]
    assert_same_function(model, wider, digits())


def test_widen_float32_small_cnn_within_1e_5():
    model = cnn(width=4, dtype=torch.float32)
    wider = widen(model, "features.3", 1.5, random_state=0)
    x = digits(dtype=torch.float32)
    for training in (False, True):
        assert max_difference(model, wider, x, training) <= 1e-5


def test_widen_conv_flattened_into_linear_copies_whole_channel_blocks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.Flatten(), nn.Linear(3 * 64, 5)).double()
    for factor, channels in ((2, 6), (1.5, 5), (4, 12)):
        wider = widen(model, "0", factor, random_state=1)
        assert wider[4].in_features == channels * 64
        assert_same_function(model, wider, digits())


class FunctionalNet(nn.Module):
    """Functional activations, max pooling and torch.flatten between the layers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 16, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.head(torch.tanh(self.fc(torch.flatten(x, 1))))


def test_widen_follows_functional_operations():
    torch.manual_seed(0)
    model = FunctionalNet().double()
    for layer in ("conv", "fc"):
        wider = widen(model, layer, 2, random_state=0)
        assert_same_function(model, wider, digits())
    assert widen(model, "conv", 2, random_state=0).fc.in_features == 6 * 16


# --- widen: weights and parameter counts as designed ---------------------------------
def test_widen_copy_duplicates_units_and_splits_outgoing_weights():
    model = mlp((4, 3))
    wider = widen(model, "1", 1.5, random_state=0)  # 4 -> 6: two units copied once each
    w_old, w_new = model[1].weight, wider[1].weight
    assert torch.equal(w_new[:4], w_old)
    sources = [int((w_old == row).all(dim=1).nonzero()) for row in w_new[4:]]
    assert len(set(sources)) == 2
    assert torch.equal(wider[1].bias[4:], model[1].bias[sources])
    out_old, out_new = model[3].weight, wider[3].weight
    for unit in range(4):
        share = 0.5 if unit in sources else 1.0
        assert torch.allclose(out_new[:, unit], share * out_old[:, unit], rtol=0, atol=1e-15)
    for j, unit in enumerate(sources, start=4):
        assert torch.allclose(out_new[:, j], 0.5 * out_old[:, unit], rtol=0, atol=1e-15)
    doubled = widen(model, "1", 2, random_state=0)  # every unit copied exactly once
    assert sorted(int((w_old == row).all(dim=1).nonzero()) for row in doubled[1].weight[4:]) \
        == [0, 1, 2, 3]


def test_widen_zero_adds_fresh_units_with_zero_outgoing_weights():
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3)).double()
    with torch.no_grad():
        model[1].running_mean.fill_(3.0)
    wider = widen(model, "0", 2, method="zero", random_state=0)
    assert torch.equal(wider[0].weight[:4], model[0].weight)
    assert wider[0].weight[4:].abs().max() <= 1 / math.sqrt(5)
    assert wider[0].weight[4:].abs().min() > 0
    assert torch.equal(wider[3].weight[:, 4:], torch.zeros(3, 4, dtype=torch.float64))
    assert torch.equal(wider[3].weight[:, :4], model[3].weight)
    assert torch.equal(wider[1].running_mean, torch.tensor([3.0] * 4 + [0.0] * 4,
                                                          dtype=torch.float64))
    assert torch.equal(wider[1].running_var[4:], torch.ones(4, dtype=torch.float64))


def test_widen_parameter_counts_exact():
    model = mlp((6, 5))
    for m in (6, 7, 9, 24):
        wider = widen(model, "1", m / 6, random_state=0)
        assert parameter_count(wider) == 64 * m + m + m * 5 + 5 + 5 * 10 + 10
    small = small_cnn(4)  # features.3: 8 -> 12 channels, each 9*4 in, BN 2, 9*16 out
    assert parameter_count(widen(small, "features.3", 1.5, random_state=0)) \
        == parameter_count(small) + 4 * (9 * 4 + 2 + 9 * 16)


def test_widen_rounds_halves_up_and_factor_one_is_an_equal_copy():
    model = mlp((3, 2, 4))
    assert widen(model, "1", 1.5, random_state=0)[1].out_features == 5  # 4.5 -> 5
    assert widen(model, "3", 1.25, random_state=0)[3].out_features == 3  # 2.5 -> 3
    assert widen(model, "5", 1.1, random_state=0)[5].out_features == 4  # 4.4 -> 4
    same = widen(model, "1", 1, random_state=0)
    assert same is not model
    before, after = model.state_dict(), same.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_widen_keeps_names_modes_and_flags_and_clears_gradients():
    model = model_with_batchnorm_and_dropout()
    model[0].bias.requires_grad_(False)
    wider = widen(model, "0", 2, random_state=0)
    assert wider.state_dict().keys() == model.state_dict().keys()
    assert [m.training for m in wider.modules()] == [m.training for m in model.modules()]
    assert [p.requires_grad for p in wider.parameters()] == \
        [p.requires_grad for p in model.parameters()]
    assert all(p.grad is None for p in wider.parameters())


def test_widen_noise_changes_the_copies_slightly():
    model = mlp((6, 5))
    exact = widen(model, "1", 2, random_state=0)
    noisy = widen(model, "1", 2, noise=0.05, random_state=0)
    assert torch.equal(noisy[1].weight[:6], model[1].weight)
    assert torch.equal(noisy[1].bias, exact[1].bias)
    change = (noisy[1].weight[6:] - exact[1].weight[6:]).detach()
    assert 0 < float(change.std()) < 0.1 * float(model[1].weight.detach().std())
    x = digits()
    difference = max_difference(exact, noisy, x, False)
    assert 0 < difference < 0.05 * float(model(x).detach().abs().max())


def test_widen_is_deterministic_given_random_state():
    model = cnn(width=4)
    for kwargs in ({"method": "copy"}, {"method": "copy", "noise": 0.1}, {"method": "zero"}):
        a = widen(model, "features.3", 1.5, random_state=7, **kwargs).state_dict()
        b = widen(model, "features.3", 1.5, random_state=7, **kwargs).state_dict()
        c = widen(model, "features.3", 1.5, random_state=8, **kwargs).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert not all(torch.equal(a[k], c[k]) for k in a)
    torch.manual_seed(3)
    a = widen(model, "features.0", 1.5, noise=0.1).state_dict()
    torch.manual_seed(3)
    b = widen(model, "features.0", 1.5, noise=0.1).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_operators_never_modify_the_input():
    model = model_with_batchnorm_and_dropout()
    before = snapshot(model)
    rng = torch.random.get_rng_state()
    widen(model, "0", 2, noise=0.1, random_state=0)
    widen(model, "0", 1.5, method="zero", random_state=0)
    deepen(model, "0", method="identity")
    deepen(model, "2", method="residual", random_state=0)
    expansion_candidates(model, widths=(2,), depths=(1, 2), random_state=0)
    assert torch.equal(torch.random.get_rng_state(), rng)  # seeded calls leave the global RNG
    assert_unchanged(model, before)


# --- widen: bad input ------------------------------------------------------------------
class ResidualNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc0 = nn.Linear(4, 4)
        self.fc1 = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = self.fc0(x)
        return self.head(x + F.relu(self.fc1(x)))


class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


class ViewNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 64, 3)

    def forward(self, x):
        x = self.conv(x)
        return self.fc(x.view(x.size(0), -1))


class BranchingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        if x.sum() > 0:
            return self.head(self.fc(x))
        return self.head(x)


@pytest.mark.parametrize(("model", "layer", "match"), [
    (mlp(), "5", r"no consumer .*the last layer"),
    (mlp(), "2", r"expected a torch.nn.Linear or torch.nn.Conv2d layer, got ReLU"),
    (LSTMNet(), "lstm", r"got LSTM"),
    (nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2)), "0", r"got Conv1d"),
    (ResidualNet(), "fc0", r"used by 2 operations .*addition"),
    (nn.Sequential(nn.Conv2d(2, 4, 3, groups=2), nn.Conv2d(4, 2, 3)), "0", r"groups=2"),
    (nn.Sequential(nn.Conv2d(2, 4, 3), nn.Conv2d(4, 2, 3, groups=2)), "0", r"groups=2"),
    (ViewNet(), "conv", r"\.size\(\), the tensor method \.view\(\)"),
    (nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2)), "0", r"LayerNorm"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(2, 2)), "0", r"without flattening"),
    (BranchingNet(), "fc", r"could not trace"),
    (mlp(), "fc9", r"does not contain; its Linear, Conv2d and ReLU layers are '1'"),
])
def test_widen_unsupported_structures_raise(model, layer, match):
    with pytest.raises(ValueError, match=match):
        widen(model, layer, 2, random_state=0)


def test_widen_shared_module_or_weights_raise():
    linear = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="called once in forward, got 2 calls"):
        widen(nn.Sequential(nn.Linear(3, 3), linear, linear, nn.Linear(3, 1)), "0", 2)
    tied = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.Linear(3, 1))
    tied[2].weight = tied[0].weight
    with pytest.raises(ValueError, match="parameter is shared"):
        widen(tied, "0", 2)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"factor": 0.5}, ValueError, r"expected factor >= 1"),
    ({"factor": float("inf")}, ValueError, r"expected factor >= 1"),
    ({"factor": "2"}, TypeError, r"expected factor to be a real number, got str"),
    ({"layer": 1}, TypeError, r"expected layer to be a module name \(str\)"),
    ({"method": "net2net"}, ValueError, r"expected method to be 'copy' or 'zero'"),
    ({"noise": -0.1}, ValueError, r"expected noise >= 0"),
    ({"noise": float("inf")}, ValueError, r"expected a finite noise"),
    ({"noise": 0.1, "method": "zero"}, ValueError, r"noise=0 with method='zero'"),
    ({"random_state": "seed"}, TypeError, r"expected random_state to be None or an int"),
])
def test_widen_bad_arguments_raise(kwargs, error, match):
    arguments = {"layer": "1", "factor": 2, **kwargs}
    with pytest.raises(error, match=match):
        widen(mlp(), arguments.pop("layer"), arguments.pop("factor"), **arguments)


def test_widen_rejects_a_non_module():
    with pytest.raises(TypeError, match="expected model to be a torch.nn.Module, got list"):
        widen([nn.Linear(2, 2)], "0", 2)


# --- deepen --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["identity", "residual"])
@pytest.mark.parametrize("after_layer", ["1", "2", "3", "4"])
def test_deepen_mlp_preserves_function_and_counts(after_layer, method):
    model = mlp((6, 5))
    deeper = deepen(model, after_layer, method=method, random_state=0)
    relu = "2" if after_layer in ("1", "2") else "4"
    width = 6 if relu == "2" else 5
    new = deeper.get_submodule(relu)
    assert isinstance(new, nn.Sequential) and isinstance(new[0], nn.ReLU)
    if method == "identity":
        assert torch.equal(new[1].weight, torch.eye(width, dtype=torch.float64))
        extra = width**2 + width
    else:
        assert isinstance(new[1], ResidualBlock)
        extra = 2 * width**2 + 2 * width
    assert parameter_count(deeper) == parameter_count(model) + extra
    assert set(model.state_dict()) <= set(deeper.state_dict())
    assert_same_function(model, deeper, digits())


@pytest.mark.parametrize("method", ["identity", "residual"])
@pytest.mark.parametrize(("after_layer", "channels"), [
    ("features.0", 2), ("features.5", 4), ("features.6", 8), ("features.8", 8)])
def test_deepen_small_cnn_preserves_function_and_counts(after_layer, channels, method):
    model = cnn(width=2)
    deeper = deepen(model, after_layer, method=method, random_state=0)
    extra = 9 * channels**2 + channels if method == "identity" else 18 * channels**2 + 4 * channels
    assert parameter_count(deeper) == parameter_count(model) + extra
    assert_same_function(model, deeper, digits())


def test_deepen_residual_conv_block_ends_in_a_zero_batchnorm():
    deeper = deepen(cnn(width=2), "features.8", method="residual", random_state=0)
    branch = deeper.features[8][1].branch
    assert [type(m) for m in branch] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d,
                                        nn.BatchNorm2d]
    assert torch.equal(branch[4].weight, torch.zeros(8, dtype=torch.float64))
    assert torch.equal(branch[4].bias, torch.zeros(8, dtype=torch.float64))
    assert branch[0].weight.abs().max() <= 1 / math.sqrt(9 * 8)


def test_deepen_float32_within_1e_5_and_keeps_dtype_and_mode():
    model = cnn(width=4, dtype=torch.float32).eval()
    deeper = deepen(model, "features.3", method="residual", random_state=0)
    assert all(p.dtype == torch.float32 for p in deeper.parameters())
    assert not any(m.training for m in deeper.modules())
    x = digits(dtype=torch.float32)
    for training in (False, True):
        assert max_difference(model, deeper, x, training) <= 1e-5


def test_deepen_stacks_and_then_widens_the_new_layer():
    model = mlp((6, 5))
    deeper = deepen(model, "2")
    deeper = deepen(deeper, "2.0")  # the original ReLU after the first insertion
    assert parameter_count(deeper) == parameter_count(model) + 2 * (36 + 6)
    assert_same_function(model, deeper, digits())
    # 2.0.0 ReLU, 2.0.1 newest layer, 2.0.2 ReLU, 2.1 first inserted layer, 2.2 ReLU
    wider = widen(deeper, "2.0.1", 2, random_state=0)
    assert wider.get_submodule("2.0.1").out_features == 12
    assert wider.get_submodule("2.1").in_features == 12
    assert_same_function(model, wider, digits())
    residual = deepen(model, "2", method="residual", random_state=0)
    with pytest.raises(ValueError, match="used by 2 operations"):
        widen(residual, "1", 2)  # now feeds the residual addition
    assert_same_function(model, widen(residual, "2.1.branch.0", 2, random_state=0), digits())


def test_deepen_is_deterministic_given_random_state():
    model = cnn()
    a = deepen(model, "features.3", method="residual", random_state=4).state_dict()
    b = deepen(model, "features.3", method="residual", random_state=4).state_dict()
    c = deepen(model, "features.3", method="residual", random_state=5).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


class FunctionalReLUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(F.relu(self.fc(x)))


def test_deepen_bad_input_raises():
    relu = nn.ReLU()
    cases = [
        (mlp(), "5", r"followed by an nn.ReLU module .*got output"),
        (nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.ReLU()), "1",
         r"expected the name of an nn.ReLU .* got BatchNorm1d"),
        (nn.Sequential(nn.Linear(4, 4), nn.LeakyReLU(), nn.Linear(4, 2)), "0",
         r"followed by an nn.ReLU module .*LeakyReLU"),
        (FunctionalReLUNet(), "fc", r"followed by an nn.ReLU module .*function relu"),
        (nn.Sequential(nn.Linear(4, 4), relu, nn.Linear(4, 4), relu), "1",
         r"called once in forward, got 2 calls"),
        (nn.Sequential(nn.ReLU(), nn.Linear(4, 2)), "0", r"input to come from a Linear or Conv2d"),
        (BranchingNet(), "fc", r"could not trace"),
        (mlp(), "99", r"does not contain"),
    ]
    for model, after_layer, match in cases:
        with pytest.raises(ValueError, match=match):
            deepen(model, after_layer)
    with pytest.raises(ValueError, match=r"expected method to be 'identity' or 'residual'"):
        deepen(mlp(), "2", method="zero")
    with pytest.raises(TypeError, match=r"expected after_layer to be a module name"):
        deepen(mlp(), 2)


# --- candidates ----------------------------------------------------------------------------
def test_candidates_of_small_cnn_exact_sizes_and_function():
    model = cnn(width=4)
    candidates = expansion_candidates(model, noise=0.0, random_state=0)
    assert list(candidates) == ["wider_x1.5", "wider_x2", "wider_x4", "deeper_+1", "deeper_+2",
                                "wider_matching_deeper_+1", "wider_matching_deeper_+2"]
    for factor, width in ((1.5, 6), (2, 8), (4, 16)):
        shapes = {k: v.shape for k, v in small_cnn(width).state_dict().items()}
        assert {k: v.shape for k, v in candidates[f"wider_x{factor:g}"].state_dict().items()} \
            == shapes
    base = parameter_count(model)
    assert parameter_count(candidates["deeper_+1"]) == base + 9 * 16**2 + 16
    assert parameter_count(candidates["deeper_+2"]) == base + 9 * 16**2 + 16 + 9 * 8**2 + 8
    for d in (1, 2):
        target = parameter_count(candidates[f"deeper_+{d}"])
        assert abs(parameter_count(candidates[f"wider_matching_deeper_+{d}"]) - target) \
            <= 0.05 * target
    x = digits()
    for name, candidate in candidates.items():
        for training in (False, True):
            assert max_difference(model, candidate, x, training) <= EXACT, name


def test_candidates_of_mlp_default_noise_breaks_symmetry_slightly():
    model = mlp((16, 16))
    x = digits()
    exact = expansion_candidates(model, noise=0.0, random_state=0)
    noisy = expansion_candidates(model, random_state=0)
    assert list(exact) == list(noisy)
    for name in exact:
        assert max_difference(model, exact[name], x, False) <= EXACT
        difference = max_difference(model, noisy[name], x, False)
        if name.startswith("deeper"):
            assert difference <= EXACT
        else:
            assert 0 < difference < 0.05 * float(model(x).detach().abs().max())
    zero = expansion_candidates(model, widen_method="zero", deepen_method="residual",
                                random_state=0)
    for candidate in zero.values():
        assert_same_function(model, candidate, x)


def test_candidates_stack_depth_beyond_the_hidden_layers():
    model = mlp((5,))
    candidates = expansion_candidates(model, widths=(), depths=(3,), random_state=0)
    deeper = candidates["deeper_+3"]
    assert parameter_count(deeper) == parameter_count(model) + 3 * (25 + 5)
    assert_same_function(model, deeper, digits())
    assert abs(parameter_count(candidates["wider_matching_deeper_+3"])
               - parameter_count(deeper)) <= 0.05 * parameter_count(deeper)


def test_candidates_do_not_depend_on_the_other_requests():
    model = mlp((16, 16))
    alone = expansion_candidates(model, widths=(2,), depths=(), random_state=3)["wider_x2"]
    among = expansion_candidates(model, widths=(1.5, 2), depths=(1,), random_state=3)["wider_x2"]
    a, b = alone.state_dict(), among.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_candidates_bad_input_raises():
    with pytest.raises(ValueError, match="at least one hidden Linear or Conv2d"):
        expansion_candidates(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
    with pytest.raises(ValueError, match="expected factor >= 1"):
        expansion_candidates(mlp(), widths=(0.5,))
    with pytest.raises(TypeError, match="expected widths to be a sequence"):
        expansion_candidates(mlp(), widths=2)
    with pytest.raises(ValueError, match="expected each entry of depths >= 1"):
        expansion_candidates(mlp(), depths=(0,))
    with pytest.raises(ValueError, match="expected distinct widths and depths"):
        expansion_candidates(mlp(), widths=(2, 2.0))
    with pytest.raises(TypeError, match="expected equal_parameter_pairs to be a bool"):
        expansion_candidates(mlp(), equal_parameter_pairs="yes")
    with pytest.raises(ValueError, match="expected widen_method to be 'copy' or 'zero'"):
        expansion_candidates(mlp(), widen_method="net2net")
    with pytest.raises(ValueError, match="within parameter_tolerance=0.0 "):
        expansion_candidates(mlp((16, 16)), widths=(), depths=(1,), parameter_tolerance=0.0)
    # 485 parameters; one more hidden unit costs >= 61, an identity layer after the 5 adds 30
    with pytest.raises(ValueError, match=r"515 parameters of 'deeper_\+1', got at best 485 "
                                         r"\(5.8% away\)"):
        expansion_candidates(mlp((6, 5)), widths=(), depths=(1,))


def test_parameter_count_counts_shared_parameters_once():
    tied = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    tied[1].weight = tied[0].weight
    tied[1].bias.requires_grad_(False)
    assert parameter_count(tied) == 9 + 3 + 3
    assert parameter_count(small_cnn(4)) == 1702
    with pytest.raises(TypeError, match="expected model to be a torch.nn.Module"):
        parameter_count("model")
