"""CUDA: every extractor and the featurizer give on a CUDA device the values they give on the
CPU (float32 tolerance); nothing calls ``.cuda()``; the vmap probe block follows the device's
free memory (docs/extractors.rst, *Hessian*; docs/cost.rst, *On a GPU*).

The tests marked ``cuda`` skip cleanly where CUDA is not available; the device script
``benchmarks/device_check.sh`` runs them on a machine that has it.  TF32 is switched off
while they run: the paper measured in plain float32 (docs/extractors.rst), and TF32
convolutions alone would move the values by about 1e-3.
"""

import ast
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import extractors
from extractors._hessian._trace import _probe_block_memory
from extractors.defaults import PROBE_BLOCK_FREE_MEMORY_FRACTION, PROBE_BLOCK_MEMORY_BYTES

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
ROOT = Path(__file__).resolve().parent.parent
N = 256  # samples: one sample's error is 100 / N percent


@pytest.fixture
def no_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def cnn(seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))


@pytest.fixture(scope="module")
def problem():
    """Three small CNNs trained a little on the CPU (near a minimum, so the curvature is
    positive) and their data."""
    from md_sklearn.collections import train_classifier

    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, 3, 12, 12, generator=g)
    y = (x[:, 0].mean(dim=(1, 2)) > 0).long() + 2 * (x[:, 1].mean(dim=(1, 2)) > 0).long()
    data = TensorDataset(x, y)
    models = [train_classifier(cnn(seed), data, epochs=4, batch_size=32, lr=0.05,
                               random_state=seed, device="cpu") for seed in range(3)]
    return models, data


def both(function):
    """``function(device)`` on the CPU and on CUDA."""
    return function("cpu"), function("cuda")


# --- runs everywhere ------------------------------------------------------------------------
def test_nothing_calls_dot_cuda():
    calls = []
    for package in ("extractors", "md_sklearn", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "cuda"):
                    calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert calls == []  # devices are passed as device=..., moved with .to(device)


def test_probe_block_budget_on_the_cpu_is_fixed():
    assert _probe_block_memory(torch.device("cpu")) == PROBE_BLOCK_MEMORY_BYTES


# --- CUDA only ------------------------------------------------------------------------------
@cuda
def test_probe_block_budget_on_cuda_follows_free_memory():
    device = torch.device("cuda")
    free, _ = torch.cuda.mem_get_info(device)
    budget = _probe_block_memory(device)
    assert 0 < budget <= free
    assert budget == pytest.approx(PROBE_BLOCK_FREE_MEMORY_FRACTION * free, rel=0.05)


@cuda
def test_error_and_loss(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.error_and_loss(models[0], data, device=d))
    assert abs(cpu.value - gpu.value) <= 100 / N + 1e-9
    assert gpu.loss == pytest.approx(cpu.loss, rel=1e-4)


@cuda
def test_hessian_trace(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.hessian_trace(models[0], data, max_probes=12, rtol=0,
                                                       random_state=1, device=d))
    assert cpu.n_probes == gpu.n_probes == 12
    assert gpu.value == pytest.approx(cpu.value, rel=1e-3)


@cuda
def test_hessian_top_eigenvalue(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.hessian_top_eigenvalue(
        models[0], data, max_iter=20, rtol=0, random_state=1, device=d))
    assert gpu.value == pytest.approx(cpu.value, rel=1e-3)


@cuda
def test_mode_connectivity(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.mode_connectivity(
        models[0], models[1], data, epochs=2, batch_size=64, random_state=1, device=d))
    # two epochs of SGD amplify float32 rounding a little; a point's error may move by a
    # sample or two
    for a, b in zip(cpu.errors, gpu.errors, strict=True):
        assert abs(a - b) <= 2 * 100 / N + 1e-9
    for a, b in zip(cpu.losses, gpu.losses, strict=True):
        assert b == pytest.approx(a, rel=1e-2)


@cuda
def test_linear_barrier(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.linear_barrier(models[0], models[1], data, device=d))
    assert abs(cpu.value - gpu.value) <= 100 / N + 1e-9


@cuda
def test_cka(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.cka(models, data, random_state=1, device=d))
    assert gpu.value == pytest.approx(cpu.value, rel=1e-4)


@cuda
def test_manifold_size(problem, no_tf32):
    models, data = problem
    cpu, gpu = both(lambda d: extractors.manifold_size(
        models[0], data, method="radius", n_directions=2, n_samples=128, random_state=1,
        device=d))
    # a line search decides pass/fail against a loss threshold: float32 rounding can flip
    # one bisection step, 2**(1/16) in the radius, about 0.043 in its log
    assert abs(cpu.value - gpu.value) <= 0.1


@cuda
def test_featurizer_table(problem, no_tf32):
    from md_sklearn import LandscapeFeaturizer, ModelGroup

    models, data = problem
    groups = [ModelGroup(models, data, name="three"), ModelGroup(models[:2], data, name="two")]

    def table(device):
        return LandscapeFeaturizer(device=device, random_state=0, progress=False,
                                   hessian_max_probes=8, hessian_rtol=0.0, curve_epochs=2,
                                   cka_n_batches=2, cka_batch_size=64).fit_transform(groups)

    cpu, gpu = both(table)
    assert list(cpu.columns) == list(gpu.columns) and list(cpu.index) == list(gpu.index)
    for column in cpu.columns:
        for a, b in zip(cpu[column], gpu[column], strict=True):
            if "error" in column or "connectivity" in column:  # percent: a sample or two
                assert abs(a - b) <= 2 * 100 / N + 1e-9, column
            else:  # losses, logs of the curvature, CKA
                assert b == pytest.approx(a, rel=1e-3, abs=1e-4), column
