"""Tests of extractors.error_and_loss and of the shared argument checks."""

import copy

import pytest
import torch
from _model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import Dataset, TensorDataset

import extractors
from extractors import ErrorLossResult, error_and_loss


def dataset(n=50, features=4, classes=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, features, generator=g),
                         torch.randint(0, classes, (n,), generator=g))






def reference(model, data):
    """Error (percent) and mean cross-entropy computed directly on an eval-mode copy."""
    model = copy.deepcopy(model).eval()
    x, y = data.tensors
    with torch.no_grad():
        out = model(x)
    error = 100.0 * float((out.argmax(1) != y).double().mean())
    return error, float(nn.functional.cross_entropy(out.double(), y))


def test_matches_a_direct_eval_mode_computation():
    model, data = model_with_batchnorm_and_dropout(), dataset()
    error, loss = reference(model, data)
    result = error_and_loss(model, data, batch_size=7, device="cpu")
    assert isinstance(result, ErrorLossResult)
    assert result.value == pytest.approx(error, abs=1e-12)
    assert result.loss == pytest.approx(loss, rel=1e-6)
    assert result.n_samples == 50
    assert float(result) == result.value


def test_caller_model_is_untouched():
    model = model_with_batchnorm_and_dropout()
    before = snapshot(model)
    error_and_loss(model, dataset(), device="cpu")
    assert_unchanged(model, before)


class PairDataset(Dataset):
    """A map-style dataset that is not a TensorDataset."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_any_map_style_dataset_works():
    model, data = model_with_batchnorm_and_dropout(), dataset()
    plain = error_and_loss(model, PairDataset(*data.tensors), batch_size=16, device="cpu")
    assert plain == error_and_loss(model, data, batch_size=16, device="cpu")


def test_bad_inputs_get_clear_errors():
    model, data = model_with_batchnorm_and_dropout(), dataset()
    with pytest.raises(TypeError, match="torch.nn.Module"):
        error_and_loss(None, data)
    with pytest.raises(TypeError, match="TensorDataset"):
        error_and_loss(model, (torch.zeros(3, 4), torch.zeros(3)))
    with pytest.raises(ValueError, match="non-empty"):
        error_and_loss(model, TensorDataset(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"labels in \[0, 2\].*from 0 to 4"):
        error_and_loss(model, dataset(classes=5), device="cpu")
    with pytest.raises(ValueError, match="labels in"):
        error_and_loss(model, TensorDataset(torch.zeros(3, 4), torch.tensor([0, -1, 1])),
                       device="cpu")
    with pytest.raises(ValueError, match="integer class labels"):
        error_and_loss(model, TensorDataset(torch.zeros(3, 4), torch.zeros(3)), device="cpu")
    with pytest.raises(ValueError, match=r"\(batch, classes\)"):
        error_and_loss(nn.Sequential(model, nn.Flatten(0)), data, device="cpu")
    with pytest.raises(ValueError, match=r"\(batch, classes\)"):
        error_and_loss(nn.Sequential(model, nn.Unflatten(1, (3, 1))), data, device="cpu")
    with pytest.raises(ValueError, match="batch_size >= 1"):
        error_and_loss(model, data, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        error_and_loss(model, data, batch_size=2.5)
    with pytest.raises(ValueError, match="device"):
        error_and_loss(model, data, device="gpu0")
    with pytest.raises(TypeError, match="device"):
        error_and_loss(model, data, device=0)
    broken = copy.deepcopy(model)
    with torch.no_grad():
        broken[4].bias[0] = float("inf")
    with pytest.raises(ValueError, match="finite loss"):
        error_and_loss(broken, data, device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_without_cuda_says_how_to_fix_it():
    with pytest.raises(ValueError, match="CUDA is not available; pass device='cpu'"):
        error_and_loss(model_with_batchnorm_and_dropout(), dataset(), device="cuda")


def test_auto_device_runs_here():
    result = error_and_loss(model_with_batchnorm_and_dropout(), dataset(), device="auto")
    assert 0.0 <= result.value <= 100.0


def test_public_api_is_exported():
    assert set(extractors.__all__) >= {"error_and_loss", "hessian_trace", "hessian_top_eigenvalue",
                                       "mode_connectivity", "linear_barrier", "cka"}
    for name in extractors.__all__:
        obj = getattr(extractors, name)
        # functions and classes say where they live; subpackages are their own module
        assert getattr(obj, "__module__", getattr(obj, "__name__", "")).startswith("extractors")


def test_package_imports_neither_sklearn_nor_md_sklearn():
    import subprocess
    import sys

    code = ("import sys, extractors; "
            "print(any(m == 'sklearn' or m.startswith(('sklearn.', 'md_sklearn')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 30), classes=st.integers(1, 3), batch_size=st.integers(1, 40),
       double=st.booleans())
def test_batch_size_and_dtype_do_not_change_the_result(n, classes, batch_size, double):
    model = model_with_batchnorm_and_dropout()
    data = dataset(n=n, classes=classes)
    if double:
        model = model.double()  # float inputs are cast to the model's dtype
    error, loss = reference(model, TensorDataset(data.tensors[0].to(model[0].weight.dtype),
                                                 data.tensors[1]))
    result = error_and_loss(model, data, batch_size=batch_size, device="cpu")
    assert result.n_samples == n
    assert result.value == pytest.approx(error, abs=1e-9)
    assert result.loss == pytest.approx(loss, rel=1e-5, abs=1e-7)
    assert 0.0 <= result.value <= 100.0
