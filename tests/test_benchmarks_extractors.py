"""`python -m benchmarks extractors`: its baselines compute the extractors' numbers, and a
small run reports the three ratios."""

import json

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import extractors
from benchmarks import BENCHMARKS
from benchmarks import extractors as bench


def tiny_problem(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    data = TensorDataset(torch.randn(n, 5, generator=g, dtype=torch.float64),
                         torch.randint(0, 4, (n,), generator=g))
    torch.manual_seed(seed)
    models = [nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4)).double()
              for _ in range(3)]
    return models, data


@pytest.mark.parametrize("reuse_graph", [False, True])
def test_trace_loops_compute_the_extractors_estimate(reuse_graph):
    models, data = tiny_problem()
    ours = extractors.hessian_trace(models[0], data, n_samples=200, max_probes=7, rtol=0,
                                    random_state=3, device="cpu")
    loop = bench.naive_trace(models[0], data, 200, 7, 3, reuse_graph=reuse_graph)
    assert loop == pytest.approx(ours.value, rel=1e-10)  # same batch, same probes


def test_textbook_cka_computes_the_extractors_value():
    models, data = tiny_problem()
    ours = extractors.cka(models, data, random_state=5, device="cpu")
    assert bench.textbook_cka(models, data, seed=5) == pytest.approx(ours.value, rel=1e-10)


def test_small_run_prints_the_three_ratios(tmp_path, capsys):
    assert BENCHMARKS["extractors"] == "benchmarks.extractors"
    path = tmp_path / "extractors.json"
    argv = ["--probes", "2", "--repeats", "1", "--curve-samples", "128", "--cka-models", "2",
            "--json", str(path)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    lines = {line.split()[0]: line for line in printed.splitlines() if line.startswith("(")}
    assert set(lines) == {"(a)", "(b)", "(c)"}
    assert printed.count("per-probe loop") == 2  # one ratio row per model of (a)
    assert "x (target <= 1.5)" in lines["(b)"] and "x (no target" in lines["(c)"]
    payload = json.loads(path.read_text())
    trace, curve, cka_row = payload["hessian_trace"], payload["curve_epoch"], payload["cka"]
    assert [row["model"] for row in trace] == ["small CNN", "MLP"]
    for row in trace:
        assert row["ratio_vs_loop"] == row["seconds_loop"] / row["seconds_extractor"]
        assert row["relative_difference_of_values"] < 1e-5
    assert curve["ratio_curve_vs_sgd"] == curve["seconds_curve_epoch"] / curve["seconds_sgd_epoch"]
    assert cka_row["samples"] == 768
    assert cka_row["ratio_vs_textbook"] == cka_row["seconds_textbook"] / cka_row["seconds"]
    assert cka_row["relative_difference_of_values"] < 1e-5


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--probes", "1"])
    assert "expected --probes >= 2" in capsys.readouterr().err
