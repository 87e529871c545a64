"""Tests of extractors.hessian_trace and extractors.hessian_top_eigenvalue."""

import copy
import functools

import pytest
import torch
from _model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import TensorDataset

from extractors import hessian_top_eigenvalue, hessian_trace
from extractors._hessian import batch_loss
from extractors._hessian._taylor import TaylorNetwork, UnsupportedOperation
from extractors._hessian._trace import _hvp_quadratic_form, _quadratic_form_function
from extractors.utils import generator, rademacher_probe, rademacher_probes


def tiny_mlp(dtype=torch.float64, seed=0, hidden=6, classes=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, classes)).to(dtype)


def tiny_cnn(dtype=torch.float64, seed=0, channels=3, side=6, classes=3):
    """Conv-BN-ReLU-AvgPool-Linear on ``(1, side, side)`` inputs."""
    torch.manual_seed(seed)
    features = channels * ((side - 2) // 2) ** 2
    model = nn.Sequential(nn.Conv2d(1, channels, 3), nn.BatchNorm2d(channels), nn.ReLU(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(features, classes)).to(dtype)
    with torch.no_grad():  # non-trivial stored statistics, so eval mode matters
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    return model


def dataset(shape, n=40, classes=3, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, *shape, generator=g, dtype=dtype),
                         torch.randint(0, classes, (n,), generator=g))


def dense_hessian(model, data):
    """Exact Hessian of the eval-mode mean cross-entropy over all of ``data`` w.r.t. the
    trainable parameters, flattened in ``named_parameters`` order."""
    model = copy.deepcopy(model).eval()
    x, y = data.tensors
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = dict(model.named_parameters())
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]
    flat = torch.cat([params[n].detach().reshape(-1) for n in names])

    def loss(theta):
        state = {n: t.view(s) for n, t, s in zip(names, theta.split(sizes), shapes)}
        out = torch.func.functional_call(model, state, (x,))
        return nn.functional.cross_entropy(out, y)

    return torch.autograd.functional.hessian(loss, flat)


# Fixtures of the exactness tests: a few hundred parameters on 200 samples of 10
# classes, where 2,000 Hutchinson probes have a relative standard error below 1 %, so
# that the 3 % bound is a test of at least 3 standard errors and not of the seed's luck
# (on the tiny models above it is about 1.5 to 2.7 %, a coin flip at 3 %).
exact_mlp = functools.partial(tiny_mlp, hidden=16, classes=10)  # 234 parameters
exact_cnn = functools.partial(tiny_cnn, channels=6, side=8, classes=10)  # 622 parameters


def exact_layer_norm(dtype=torch.float64, seed=0):
    """Layer norm has no second-order forward rule: the trace falls back to HVPs."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.LayerNorm(16), nn.Tanh(),
                         nn.Linear(16, 10)).to(dtype)


def exact_dataset(shape):
    return dataset(shape, n=200, classes=10)


def hutchinson_relative_error(hessian, n_probes):
    """Standard error of the mean of ``n_probes`` Rademacher ``vᵀHv``, relative to the trace
    (the variance of one ``vᵀHv`` is ``2 Σ_{i≠j} H_ij²``)."""
    off_diagonal = hessian - torch.diag(torch.diag(hessian))
    return float((2 * off_diagonal.square().sum() / n_probes).sqrt() / torch.trace(hessian).abs())


CASES = [(tiny_mlp, (3,)), (tiny_cnn, (1, 6, 6))]
EXACT_CASES = [(exact_mlp, (3,)), (exact_cnn, (1, 8, 8)), (exact_layer_norm, (3,))]
EXACT_IDS = ["mlp", "cnn-batchnorm", "layer-norm-fallback"]


@pytest.mark.parametrize(("build", "shape"), EXACT_CASES, ids=EXACT_IDS)
def test_trace_matches_dense_hessian(build, shape):
    model, data = build(), exact_dataset(shape)
    hessian = dense_hessian(model, data)
    assert hutchinson_relative_error(hessian, 2000) < 0.01  # 3 % is >= 3 standard errors
    exact = float(torch.trace(hessian))
    result = hessian_trace(model, data, n_samples=200, max_probes=2000, rtol=0,
                           random_state=0, device="cpu")
    assert result.n_probes == 2000
    assert result.n_samples == 200
    assert abs(result.value - exact) <= 3 * result.standard_error
    assert abs(result.value - exact) <= 0.03 * abs(exact)


@pytest.mark.parametrize(("build", "shape"), CASES, ids=["mlp", "cnn-batchnorm"])
def test_top_eigenvalue_matches_eigvalsh(build, shape):
    model, data = build(), dataset(shape)
    eigenvalues = torch.linalg.eigvalsh(dense_hessian(model, data))
    top = float(eigenvalues[-1])
    # power iteration finds the eigenvalue of largest magnitude: check the fixture has it
    assert top > 0 and abs(float(eigenvalues[0])) < 0.9 * top
    result = hessian_top_eigenvalue(model, data, max_iter=2000, rtol=1e-10, random_state=0,
                                    device="cpu")
    assert result.converged
    assert result.value == pytest.approx(top, rel=0.01)


@pytest.mark.parametrize(("build", "shape"), EXACT_CASES, ids=EXACT_IDS)
def test_forward_mode_and_hessian_vector_products_give_the_same_probes(build, shape):
    model, data = build().eval(), exact_dataset(shape)
    problem = batch_loss(model, data, 200, generator(0), torch.device("cpu"))
    if build is exact_layer_norm:
        with pytest.raises(UnsupportedOperation, match="native_layer_norm"):
            TaylorNetwork(problem.logits, problem.flat)
    else:
        TaylorNetwork(problem.logits, problem.flat)  # the fast path covers these layers
    forward_mode = _quadratic_form_function(problem)
    by_products = _hvp_quadratic_form(problem)
    g = generator(1)
    for _ in range(3):
        v = rademacher_probe(problem.flat.numel(), g, torch.float64)
        assert float(forward_mode(v)) == pytest.approx(float(by_products(v)), rel=1e-10)


def test_frozen_parameters_give_the_sub_hessian():
    model, data = exact_mlp(), exact_dataset((3,))
    full = dense_hessian(model, data)
    model[0].weight.requires_grad_(False)
    sub = dense_hessian(model, data)
    frozen = model[0].weight.numel()
    assert sub.shape[0] == full.shape[0] - frozen
    torch.testing.assert_close(sub, full[frozen:, frozen:])
    assert hutchinson_relative_error(sub, 2000) < 0.01
    exact = float(torch.trace(sub))
    result = hessian_trace(model, data, max_probes=2000, rtol=0, random_state=3, device="cpu")
    assert abs(result.value - exact) <= 3 * result.standard_error
    assert abs(result.value - exact) <= 0.03 * abs(exact)
    top = float(torch.linalg.eigvalsh(sub)[-1])
    eig = hessian_top_eigenvalue(model, data, max_iter=2000, rtol=1e-10, random_state=3,
                                 device="cpu")
    assert eig.value == pytest.approx(top, rel=0.01)


def test_default_stopping_rule_follows_the_running_mean():
    model, data = tiny_mlp(), dataset((3,))
    result = hessian_trace(model, data, random_state=0, device="cpu")
    assert 2 <= result.n_probes <= 100
    capped = hessian_trace(model, data, max_probes=3, rtol=0, random_state=0, device="cpu")
    assert capped.n_probes == 3
    # the first probes are the same draws, so a longer run starts from the same values
    one = hessian_trace(model, data, max_probes=1, rtol=0, random_state=0, device="cpu")
    assert one.n_probes == 1 and one.standard_error != one.standard_error  # NaN
    assert float(one) == one.value


def test_same_random_state_gives_identical_numbers():
    model, data = tiny_cnn(torch.float32), dataset((1, 6, 6), n=300, dtype=torch.float32)
    first = hessian_trace(model, data, random_state=7, device="cpu")
    again = hessian_trace(model, data, random_state=7, device="cpu")
    assert first == again
    other = hessian_trace(model, data, random_state=8, device="cpu")
    assert other.value != first.value
    e1 = hessian_top_eigenvalue(model, data, random_state=7, device="cpu")
    e2 = hessian_top_eigenvalue(model, data, random_state=7, device="cpu")
    assert e1 == e2
    assert e1.n_samples == 200








@pytest.mark.parametrize("function", [hessian_trace, hessian_top_eigenvalue])
def test_caller_model_is_untouched(function):
    model = model_with_batchnorm_and_dropout()
    data = dataset((4,), n=50, dtype=torch.float32)
    before = snapshot(model)
    function(model, data, n_samples=20, random_state=0, device="cpu")
    assert_unchanged(model, before)


def test_eval_mode_is_used():
    model = model_with_batchnorm_and_dropout()
    data = dataset((4,), n=30, dtype=torch.float32)
    reference = copy.deepcopy(model).eval()
    for p in reference.parameters():
        p.grad = None
    a = hessian_trace(model, data, max_probes=5, rtol=0, random_state=1, device="cpu")
    b = hessian_trace(reference, data, max_probes=5, rtol=0, random_state=1, device="cpu")
    assert a == b  # dropout off and stored BatchNorm statistics, whatever the caller's mode


class _SqrtAbs(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return x * self.w.abs().sqrt()


def test_non_finite_values_are_reported():
    data = dataset((3,), dtype=torch.float32)
    broken = tiny_mlp(torch.float32)
    with torch.no_grad():
        broken[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="finite loss"):
        hessian_trace(broken, data, random_state=0, device="cpu")
    with pytest.raises(ValueError, match="at probe 1"):
        hessian_trace(_SqrtAbs(), data, random_state=0, device="cpu")
    with pytest.raises(ValueError, match="at power iteration 1"):
        hessian_top_eigenvalue(_SqrtAbs(), data, random_state=0, device="cpu")


def test_bad_inputs_get_clear_errors():
    model, data = tiny_mlp(torch.float32), dataset((3,), dtype=torch.float32)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        hessian_trace("model", data)
    with pytest.raises(TypeError, match="Dataset"):
        hessian_trace(model, [1, 2, 3])
    with pytest.raises(ValueError, match="non-empty"):
        hessian_trace(model, TensorDataset(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="labels in"):
        hessian_trace(model, dataset((3,), classes=5, dtype=torch.float32), device="cpu")
    with pytest.raises(ValueError, match=r"\(batch, classes\)"):
        hessian_trace(nn.Sequential(model, nn.Flatten(0)), data, device="cpu")
    with pytest.raises(ValueError, match="rtol >= 0"):
        hessian_trace(model, data, rtol=-1.0)
    with pytest.raises(ValueError, match="max_probes >= 1"):
        hessian_trace(model, data, max_probes=0)
    with pytest.raises(TypeError, match="random_state"):
        hessian_trace(model, data, random_state="0")
    with pytest.raises(ValueError, match="max_iter >= 1"):
        hessian_top_eigenvalue(model, data, max_iter=0)
    frozen = tiny_mlp(torch.float32).requires_grad_(False)
    with pytest.raises(ValueError, match="trainable parameters"):
        hessian_trace(frozen, data, device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            hessian_trace(model, data, device="cuda")


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 12), classes=st.integers(1, 3), n_samples=st.integers(1, 20),
       seed=st.integers(0, 2**32))
def test_tiny_datasets_and_dtypes(n, classes, n_samples, seed):
    data64 = dataset((3,), n=n, classes=classes, seed=seed % 1000)
    data32 = TensorDataset(data64.tensors[0].float(), data64.tensors[1])
    r64 = hessian_trace(tiny_mlp(torch.float64), data64, n_samples=n_samples, max_probes=6,
                        random_state=seed, device="cpu")
    r32 = hessian_trace(tiny_mlp(torch.float32), data32, n_samples=n_samples, max_probes=6,
                        random_state=seed, device="cpu")
    assert r64.n_samples == r32.n_samples == min(n, n_samples)
    assert 1 <= r64.n_probes <= 6
    # same batch, same probes: float32 agrees with float64 up to rounding
    assert r32.n_probes == r64.n_probes or abs(r32.value - r64.value) < 1e-4
    if r32.n_probes == r64.n_probes:
        assert r32.value == pytest.approx(r64.value, rel=1e-4, abs=1e-5)
    e64 = hessian_top_eigenvalue(tiny_mlp(torch.float64), data64, n_samples=n_samples,
                                 max_iter=5, random_state=seed, device="cpu")
    assert e64.n_samples == min(n, n_samples) and 1 <= e64.n_iter <= 5
    assert e64.value == e64.value  # not NaN


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 300), seed=st.integers(0, 2**31))
def test_rademacher_probes_are_signs_drawn_from_the_seed(size, seed):
    probe = rademacher_probe(size, generator(seed), torch.float64)
    assert probe.shape == (size,) and probe.dtype == torch.float64
    assert set(probe.tolist()) <= {-1.0, 1.0}
    same = rademacher_probe(size, generator(seed), torch.float32)
    assert torch.equal(same.double(), probe)  # the dtype never changes the draws


def test_rademacher_probes_are_balanced_and_uncorrelated():
    g = generator(0)
    probes = torch.stack([rademacher_probe(64, g, torch.float64) for _ in range(4000)])
    # every position is a fair coin, independent of the others: within 4.5 sigma of 0
    assert probes.mean(dim=0).abs().max() < 4.5 / 4000**0.5
    correlation = probes.T @ probes / len(probes) - torch.eye(64, dtype=torch.float64)
    assert correlation.abs().max() < 4.5 / 4000**0.5


@settings(max_examples=15, deadline=None)
@given(count=st.integers(1, 5), size=st.integers(1, 100), seed=st.integers(0, 2**31))
def test_a_block_of_probes_is_the_probes_drawn_one_at_a_time(count, size, seed):
    one_at_a_time = generator(seed)
    expected = torch.stack([rademacher_probe(size, one_at_a_time, torch.float32)
                            for _ in range(count)])
    assert torch.equal(rademacher_probes(count, size, generator(seed), torch.float32), expected)
