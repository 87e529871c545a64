"""Tests of extractors.cka."""

import copy

import numpy as np
import pytest
import torch
from _model_state import assert_unchanged, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import TensorDataset

from extractors import CKAResult, cka
from extractors._cka import linear_cka


def numpy_cka(x, y):
    """metrics.md: centre the columns; ||YᵀX||² / (||XᵀX|| ||YᵀY||)."""
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def numpy_unbiased_cka(x, y):
    """Debiased HSIC (Song et al. 2012) on explicit n×n linear Gram matrices."""
    def hsic(k, l):
        n = k.shape[0]
        k, l = k.copy(), l.copy()
        np.fill_diagonal(k, 0.0)
        np.fill_diagonal(l, 0.0)
        ones = np.ones(n)
        return (np.trace(k @ l) + ones @ k @ ones * (ones @ l @ ones) / ((n - 1) * (n - 2))
                - 2.0 / (n - 2) * ones @ k @ l @ ones) / (n * (n - 3))
    k, l = x @ x.T, y @ y.T
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def dataset(n=300, features=5, classes=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, features, generator=g),
                         torch.randint(0, classes, (n,), generator=g))


def mlp(seed, head=None):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(8, 4), nn.Linear(4, 4, bias=False))
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[5].weight.copy_(torch.eye(4) if head is None else head)
    return model


def test_linear_cka_matches_numpy_formulas():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 10))
    y = x @ rng.normal(size=(10, 10)) + rng.normal(size=(200, 10))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    assert linear_cka(tx, ty) == pytest.approx(numpy_cka(x, y), abs=1e-6)
    assert linear_cka(tx, ty, "unbiased") == pytest.approx(numpy_unbiased_cka(x, y), abs=1e-6)
    assert linear_cka(tx.float(), ty.float()) == pytest.approx(numpy_cka(x, y), abs=1e-6)


def test_cka_matches_numpy_on_the_models_outputs():
    data = dataset()
    models = [mlp(0), mlp(1), mlp(2)]
    # one batch of every sample, no mixup: the outputs are the models' softmax on data
    result = cka(models, data, n_batches=1, batch_size=len(data), mixup_alpha=None,
                 random_state=0, device="cpu")
    with torch.no_grad():
        outs = [torch.softmax(copy.deepcopy(m).eval()(data.tensors[0]).double(), 1).numpy()
                for m in models]
    expected = np.array([[numpy_cka(a, b) for b in outs] for a in outs])
    np.testing.assert_allclose(result.as_array(), expected, atol=1e-6)
    assert result.value == pytest.approx(expected[~np.eye(3, dtype=bool)].mean(), abs=1e-6)
    assert isinstance(result, CKAResult) and result.n_samples == len(data)


def test_a_model_with_itself_is_one_even_with_mixup():
    model, data = mlp(0), dataset()
    for estimator in ("biased", "unbiased"):
        result = cka([model, model], data, estimator=estimator, random_state=0, device="cpu")
        assert result.value == pytest.approx(1.0, abs=1e-12)  # both saw the same mixed x̃


def test_invariant_to_orthogonal_transform_and_isotropic_scaling_of_logits():
    data = dataset()
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(3)))
    base, turned = mlp(0), mlp(0, head=3.7 * q)
    for estimator in ("biased", "unbiased"):
        result = cka([base, turned], data, outputs="logits", estimator=estimator,
                     random_state=0, device="cpu")
        assert result.value == pytest.approx(1.0, abs=1e-6)
    softmax = cka([base, turned], data, random_state=0, device="cpu")
    assert softmax.value < 0.999  # probabilities are not invariant: the option matters


def test_unbiased_is_close_to_biased_for_large_n():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 10))
    y = x @ rng.normal(size=(10, 10)) + 0.5 * rng.normal(size=(4000, 10))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    assert linear_cka(tx, ty, "unbiased") == pytest.approx(linear_cka(tx, ty), abs=0.01)
    # and for independent outputs it removes the positive bias of the plain estimator
    z = torch.from_numpy(rng.normal(size=(100, 10)))
    w = torch.from_numpy(rng.normal(size=(100, 10)))
    assert abs(linear_cka(z, w, "unbiased")) < linear_cka(z, w)


def test_paper_defaults_and_determinism():
    data = dataset(n=1000)
    models = [mlp(0), mlp(1)]
    first = cka(models, data, random_state=4, device="cpu")
    assert first.n_samples == 768 and first.estimator == "biased"
    assert first == cka(models, data, random_state=4, device="cpu")
    assert first.value != cka(models, data, random_state=5, device="cpu").value
    assert float(first) == first.value
    matrix = first.as_array()
    assert np.allclose(matrix, matrix.T) and np.all(np.diag(matrix) == 1.0)




def test_caller_models_are_untouched():
    models = [mlp(0), mlp(1)]
    for model in models:
        model.train()
        model(torch.randn(16, 5)).sum().backward()
        model[3].eval()
    before = [snapshot(m) for m in models]
    cka(models, dataset(), random_state=0, device="cpu")
    for model, state in zip(models, before, strict=True):
        assert_unchanged(model, state)


def test_bad_inputs_get_clear_errors():
    data = dataset()
    with pytest.raises(ValueError, match="at least two models, got 1"):
        cka([mlp(0)], data)
    with pytest.raises(TypeError, match="list of torch.nn.Module"):
        cka(mlp(0), data)
    other = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(8, 3), nn.Linear(3, 3, bias=False))
    with pytest.raises(ValueError, match=r"models\[1\] parameter '4.weight' of shape \(3, 8\)"):
        cka([mlp(0), other], data)
    with pytest.raises(ValueError, match="outputs"):
        cka([mlp(0), mlp(1)], data, outputs="probabilities")
    with pytest.raises(ValueError, match="estimator"):
        cka([mlp(0), mlp(1)], data, estimator="debiased")
    with pytest.raises(ValueError, match="mixup_alpha > 0"):
        cka([mlp(0), mlp(1)], data, mixup_alpha=0.0)
    with pytest.raises(ValueError, match="non-empty"):
        cka([mlp(0), mlp(1)], TensorDataset(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long)))
    constant = mlp(1)
    with torch.no_grad():
        constant[5].weight.zero_()
    with pytest.raises(ValueError, match="constant"):
        cka([mlp(0), constant], data, device="cpu")
    with pytest.raises(ValueError, match="at least 4 samples"):
        cka([mlp(0), mlp(1)], dataset(n=3), estimator="unbiased", n_batches=1, device="cpu")


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 40), n_batches=st.integers(1, 4), batch_size=st.integers(2, 50),
       outputs=st.sampled_from(["softmax", "logits"]), n_models=st.integers(2, 4),
       mixup=st.sampled_from([None, 0.5, 16.0]))
def test_properties_on_tiny_data(n, n_batches, batch_size, outputs, n_models, mixup):
    models = [mlp(seed) for seed in range(n_models)]
    result = cka(models, dataset(n=n), n_batches=n_batches, batch_size=batch_size,
                 outputs=outputs, mixup_alpha=mixup, random_state=0, device="cpu")
    matrix = result.as_array()
    assert result.n_samples == n_batches * min(batch_size, n)
    assert matrix.shape == (n_models, n_models)
    assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    assert np.all(matrix >= -1e-12) and np.all(matrix <= 1 + 1e-12)
    assert result.value == pytest.approx(matrix[~np.eye(n_models, dtype=bool)].mean())


def test_one_sample_has_no_variation():
    with pytest.raises(ValueError, match="constant"):
        cka([mlp(0), mlp(1)], dataset(n=1), device="cpu")
