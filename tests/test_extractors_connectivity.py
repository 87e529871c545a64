"""Tests of extractors.mode_connectivity and extractors.linear_barrier."""

import copy

import pytest
import torch
from _model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import TensorDataset

from extractors import ModeConnectivityResult, error_and_loss, linear_barrier, mode_connectivity
from extractors.utils import garipov_lr_factor


def dataset(n=64, features=4, classes=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, features, generator=g),
                         torch.randint(0, classes, (n,), generator=g))


def bn_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(8, 3))








def reestimated_copy(model, data, batch_size):
    """The model with BatchNorm statistics re-estimated the textbook way (momentum=None)."""
    model = copy.deepcopy(model)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.reset_running_stats()
            m.momentum = None
    model.eval()
    model[1].train()
    x, _ = data.tensors
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            model(x[i:i + batch_size])
    return model.eval()


def test_identical_models_linear_init_no_training_gives_their_error():
    data = dataset(n=64)  # a multiple of the batch size: per-batch and per-sample means agree
    model = model_with_batchnorm_and_dropout()
    expected = error_and_loss(reestimated_copy(model, data, 16), data, device="cpu")
    result = mode_connectivity(model, copy.deepcopy(model), data, epochs=0, batch_size=16,
                               init="linear", random_state=0, device="cpu")
    assert isinstance(result, ModeConnectivityResult)
    assert result.value == -expected.value
    assert result.errors == (expected.value,) * 3
    for loss in result.losses:
        assert loss == pytest.approx(expected.loss, rel=1e-5)
    assert result.epochs == 0 and result.init == "linear" and float(result) == result.value


def test_without_batchnorm_no_training_gives_the_plain_error():
    torch.manual_seed(0)
    model, data = nn.Linear(4, 3), dataset()
    result = mode_connectivity(model, model, data, epochs=0, init="linear", device="cpu")
    assert result.value == -error_and_loss(model, data, device="cpu").value


def test_linear_init_without_training_is_the_straight_line():
    data = dataset()
    a, b = model_with_batchnorm_and_dropout(0), model_with_batchnorm_and_dropout(1)
    curve = mode_connectivity(a, b, data, epochs=0, init="linear", random_state=0, device="cpu")
    line = linear_barrier(a, b, data, device="cpu")
    assert curve.points == line.points
    assert curve.errors == pytest.approx(line.errors, abs=1e-9)
    assert curve.losses == pytest.approx(line.losses, rel=1e-5)
    assert line.peak == -max(line.errors)
    expected = max(e - ((1 - t) * line.end_errors[0] + t * line.end_errors[1])
                   for t, e in zip(line.points, line.errors))
    assert line.value == pytest.approx(expected)


def logistic_regression(data, seed):
    torch.manual_seed(seed)
    model = nn.Linear(4, 3)
    x, y = data.tensors
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y) + 1e-2 * model.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return model


def test_convex_problem_has_no_barrier():
    data = dataset(n=128)
    a, b = logistic_regression(data, 0), logistic_regression(data, 1)
    line = linear_barrier(a, b, data, points=(0.1, 0.3, 0.5, 0.7, 0.9), device="cpu")
    ends = [error_and_loss(m, data, device="cpu").loss for m in (a, b)]
    for t, loss in zip(line.points, line.losses):  # convexity of the loss in the weights
        assert loss <= (1 - t) * ends[0] + t * ends[1] + 1e-6
    curve = mode_connectivity(a, b, data, epochs=5, batch_size=32, weight_decay=0.0,
                              init="linear", random_state=0, device="cpu")
    assert max(curve.losses) <= max(ends) + 1e-3


def xor_data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g) * 2 - 1
    return TensorDataset(x, ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long())


def trained_xor_mlp(data):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    x, y = data.tensors
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


def hidden_units_rolled(model):
    """The same function with its hidden units permuted: the straight line between the
    two averages unrelated units and crosses a ridge."""
    order = torch.roll(torch.arange(8), 4)
    other = copy.deepcopy(model)
    with torch.no_grad():
        other[0].weight.copy_(model[0].weight[order])
        other[0].bias.copy_(model[0].bias[order])
        other[2].weight.copy_(model[2].weight[:, order])
    return other


def test_trained_curve_lowers_a_known_barrier():
    data = xor_data()
    a = trained_xor_mlp(data)
    b = hidden_units_rolled(a)
    end_error = error_and_loss(a, data, device="cpu").value
    assert error_and_loss(b, data, device="cpu").value == end_error
    line = linear_barrier(a, b, data, device="cpu")
    assert line.value > 20  # the toy problem has a barrier on the straight line
    curve = mode_connectivity(a, b, data, epochs=10, lr=0.05, batch_size=32, init="linear",
                              random_state=0, device="cpu")
    assert curve.value > line.peak + 20
    assert max(curve.losses) < max(line.losses)


def test_same_random_state_gives_identical_results():
    data = dataset()
    a, b = model_with_batchnorm_and_dropout(0), model_with_batchnorm_and_dropout(1)
    first = mode_connectivity(a, b, data, epochs=2, batch_size=16, random_state=5, device="cpu")
    again = mode_connectivity(a, b, data, epochs=2, batch_size=16, random_state=5, device="cpu")
    assert first.errors == again.errors and first.losses == again.losses
    assert all(torch.equal(first.middle[k], again.middle[k]) for k in first.middle)
    other = mode_connectivity(a, b, data, epochs=2, batch_size=16, random_state=6, device="cpu")
    assert any(not torch.equal(first.middle[k], other.middle[k]) for k in first.middle)


def test_middle_point_is_trained_and_returned_on_cpu():
    data = dataset()
    a, b = model_with_batchnorm_and_dropout(0), model_with_batchnorm_and_dropout(1)
    untrained = mode_connectivity(a, b, data, epochs=0, random_state=2, device="cpu")
    trained = mode_connectivity(a, b, data, epochs=3, batch_size=16, random_state=2,
                                device="cpu")
    assert list(trained.middle) == [n for n, _ in a.named_parameters()]
    assert all(t.device.type == "cpu" for t in trained.middle.values())
    # random init = reset_parameters() of a copy: not a copy of either end
    assert not torch.equal(untrained.middle["0.weight"], a[0].weight)
    assert any(not torch.equal(untrained.middle[k], trained.middle[k]) for k in trained.middle)
    with pytest.raises(TypeError):
        trained.middle["0.weight"] = torch.zeros(1)


def test_progress_bar(capsys):
    data = dataset(n=16)
    a, b = bn_model(0), bn_model(1)
    mode_connectivity(a, b, data, epochs=1, progress=True, random_state=0, device="cpu")
    assert "curve training" in capsys.readouterr().err


@pytest.mark.parametrize("function", ["curve", "line"])
def test_caller_models_are_untouched(function):
    data = dataset()
    a, b = model_with_batchnorm_and_dropout(0), model_with_batchnorm_and_dropout(1)
    before_a, before_b = snapshot(a), snapshot(b)
    if function == "curve":
        mode_connectivity(a, b, data, epochs=1, batch_size=16, random_state=0, device="cpu")
    else:
        linear_barrier(a, b, data, device="cpu")
    assert_unchanged(a, before_a)
    assert_unchanged(b, before_b)


def test_learning_rate_schedule_of_garipov():
    factors = [garipov_lr_factor(epoch, 10) for epoch in range(10)]
    assert factors[:6] == [1.0] * 6
    assert factors[7] == pytest.approx(1 - 0.2 / 0.4 * 0.99)
    assert factors[9] == pytest.approx(0.01)
    assert all(x >= y for x, y in zip(factors, factors[1:]))


def test_bad_inputs_get_clear_errors():
    data = dataset()
    a = bn_model()
    wider = nn.Sequential(nn.Linear(4, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(9, 3))
    with pytest.raises(ValueError, match=r"'0.weight' of shape \(8, 4\).*'0.weight' of shape "
                                         r"\(9, 4\)"):
        mode_connectivity(a, wider, data, epochs=0)
    with pytest.raises(ValueError, match="'5.weight'.*only in model_b"):
        linear_barrier(a, nn.Sequential(*a, nn.Linear(3, 3)), data)
    with pytest.raises(ValueError, match="init"):
        mode_connectivity(a, a, data, init="midpoint")
    with pytest.raises(ValueError, match="epochs >= 0"):
        mode_connectivity(a, a, data, epochs=-1)
    with pytest.raises(ValueError, match="lr > 0"):
        mode_connectivity(a, a, data, lr=0.0)
    with pytest.raises(ValueError, match="<= 1.0"):
        mode_connectivity(a, a, data, points=(0.5, 1.5))
    with pytest.raises(ValueError, match="at least one point"):
        linear_barrier(a, a, data, points=())
    with pytest.raises(TypeError, match="model_b"):
        linear_barrier(a, "b", data)
    with pytest.raises(ValueError, match="non-empty"):
        linear_barrier(a, a, TensorDataset(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        linear_barrier(a, a, dataset(n=1), device="cpu")
    broken = copy.deepcopy(a)
    with torch.no_grad():
        broken[4].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="epoch 1, step 1"):
        mode_connectivity(broken, broken, data, epochs=1, init="linear", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            mode_connectivity(a, a, data, device="cuda")


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 20), classes=st.integers(1, 3), batch_size=st.integers(1, 8),
       init=st.sampled_from(["random", "linear"]), double=st.booleans())
def test_tiny_datasets_and_dtypes(n, classes, batch_size, init, double):
    torch.manual_seed(0)
    dtype = torch.float64 if double else torch.float32
    a, b = nn.Linear(4, 3).to(dtype), nn.Linear(4, 3).to(dtype)
    data = dataset(n=n, classes=classes)
    result = mode_connectivity(a, b, data, epochs=1, batch_size=batch_size, init=init,
                               points=(0.0, 0.5, 1.0), random_state=0, device="cpu")
    assert all(0.0 <= e <= 100.0 for e in result.errors)
    assert result.value == -max(result.errors)
    # the ends are the models themselves
    assert result.errors[0] == error_and_loss(a, data, device="cpu").value
    assert result.errors[2] == error_and_loss(b, data, device="cpu").value
    assert all(t.dtype == dtype for t in result.middle.values())
