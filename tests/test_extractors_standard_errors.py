"""Every extractor result carries an honest standard error: on tiny models, the reported
standard error matches the spread of repeated runs with different seeds (within a factor
1.5 over 50 runs; the spread of 50 runs is itself known to about 10 %)."""

import math

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import extractors

RUNS = 50


def _mlp(seed, hidden=16, classes=3):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, hidden), torch.nn.Tanh(),
                               torch.nn.Linear(hidden, classes))


def _data(n, seed=0, classes=3):
    gen = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, 6, generator=gen),
                         torch.randint(0, classes, (n,), generator=gen))


def _trained(seed, data, steps=200):
    model = _mlp(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = data.tensors
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


def _assert_close_to_spread(values, standard_errors):
    spread = float(np.std(values, ddof=1))
    typical = float(np.sqrt(np.mean(np.square(standard_errors))))
    assert spread > 0
    assert 1 / 1.5 <= typical / spread <= 1.5, (typical, spread)


def test_hessian_trace_standard_error_is_the_spread_over_probe_seeds():
    data = _data(64)
    model = _trained(0, data)
    # the whole dataset is the batch, so only the probes change with the seed
    results = [extractors.hessian_trace(model, data, n_samples=64, max_probes=20, rtol=0,
                                        random_state=seed, device="cpu") for seed in range(RUNS)]
    _assert_close_to_spread([r.value for r in results], [r.standard_error for r in results])


def test_hessian_trace_over_several_batches_covers_the_batch_draw():
    # batches of 16 out of 256 samples: the batch draw dominates the probe noise; with
    # n_batches=6 the standard error is the spread over seeds, batch draw included
    data = _data(256)
    model = _trained(0, data)
    results = [extractors.hessian_trace(model, data, n_samples=16, max_probes=20, rtol=0,
                                        n_batches=6, random_state=seed, device="cpu")
               for seed in range(RUNS)]
    assert {r.n_batches for r in results} == {6} and {r.n_probes for r in results} == {120}
    _assert_close_to_spread([r.value for r in results], [r.standard_error for r in results])
    # one batch: its standard error covers the probes only, well under the seed spread
    single = [extractors.hessian_trace(model, data, n_samples=16, max_probes=20, rtol=0,
                                       random_state=seed, device="cpu") for seed in range(RUNS)]
    spread = float(np.std([r.value for r in single], ddof=1))
    assert float(np.sqrt(np.mean([r.standard_error ** 2 for r in single]))) < spread / 1.5


def test_hessian_trace_one_batch_is_the_paper_estimate():
    data = _data(64)
    model = _trained(0, data)
    one = extractors.hessian_trace(model, data, n_samples=32, random_state=3, device="cpu")
    explicit = extractors.hessian_trace(model, data, n_samples=32, n_batches=1, random_state=3,
                                        device="cpu")
    assert one == explicit and one.n_batches == 1
    with pytest.raises(ValueError, match="n_batches"):
        extractors.hessian_trace(model, data, n_batches=0, device="cpu")
    with pytest.raises(ValueError, match="n_batches=1 with a precision target"):
        extractors.hessian_trace(model, data, n_batches=2, target_se=0.1, device="cpu")


def _exact_top_eigenvalue(model, data):
    from torch.func import functional_call, hessian

    params = {k: v.detach() for k, v in model.named_parameters()}
    names, shapes = list(params), [p.shape for p in params.values()]
    flat = torch.cat([p.reshape(-1) for p in params.values()])
    x, y = data.tensors

    def loss(vector):
        pieces = torch.split(vector, [s.numel() for s in shapes])
        state = {n: p.reshape(s) for n, p, s in zip(names, pieces, shapes)}
        return torch.nn.functional.cross_entropy(functional_call(model, state, (x,)), y)

    return float(torch.linalg.eigvalsh(hessian(loss)(flat).double())[-1])


@pytest.mark.parametrize("rtol", [1e-2, 1e-3, 1e-4])
def test_hessian_top_eigenvalue_standard_error_covers_its_convergence_error(rtol):
    # the residual bound is conservative (docs/extractors.rst): it is never much below the
    # actual error, and it shrinks as the rule tightens; it does not match the spread of a
    # tightly converged iteration, which it overstates
    data = _data(100)
    model = _trained(1, data, steps=50).eval()
    exact = _exact_top_eigenvalue(model, data)
    results = [extractors.hessian_top_eigenvalue(model, data, n_samples=100, rtol=rtol,
                                                 random_state=seed, device="cpu")
               for seed in range(RUNS)]
    errors = np.array([r.value - exact for r in results])
    se = np.array([r.standard_error for r in results])
    assert np.sqrt(np.mean(errors ** 2)) <= 1.5 * np.sqrt(np.mean(se ** 2))
    assert np.mean(np.abs(errors) <= 2 * se) >= 0.9


def test_cka_standard_error_is_the_spread_over_batch_seeds():
    data = _data(4000)
    models = [_mlp(seed) for seed in range(3)]
    results = [extractors.cka(models, data, n_batches=6, batch_size=32, random_state=seed,
                              device="cpu") for seed in range(RUNS)]
    _assert_close_to_spread([r.value for r in results], [r.standard_error for r in results])
    one = extractors.cka(models, data, n_batches=1, batch_size=32, random_state=0, device="cpu")
    assert math.isnan(one.standard_error)


def test_error_and_loss_is_exact():
    data = _data(50)
    result = extractors.error_and_loss(_mlp(0), data, device="cpu")
    assert result.standard_error == 0.0


@pytest.mark.parametrize("name", ["ModeConnectivityResult", "HessianEigenvalueResult",
                                  "CKAResult"])
def test_results_made_without_a_standard_error_say_it_is_unknown(name):
    import dataclasses

    cls = getattr(extractors, name)
    field = {f.name: f for f in dataclasses.fields(cls)}["standard_error"]
    assert math.isnan(field.default)
