"""`python -m benchmarks extractors`: its baselines compute the extractors' numbers, a small
run reports the three ratios, and the precision parts (stopping rules, Hutch++) run on tiny
sizes."""

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
            "--parts", "abc", "--json", str(path)]
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
    for bad in (["--parts", "x"], ["--targets", "0"], ["--hutchpp-products", "3"]):
        with pytest.raises(SystemExit):
            bench.main(bad)
        assert "expected --parts among 'abcde'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--targets", "a,b"])
    assert "comma-separated numbers" in capsys.readouterr().err


# --- (d) stopping rules, (e) Hutch++ ------------------------------------------------------------
def test_hutchpp_is_exact_on_a_low_rank_matrix_and_unbiased_otherwise():
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(50, 4, generator=g, dtype=torch.float64))[0]
    low_rank = basis @ torch.diag(torch.tensor([9.0, -3.0, 2.0, 1.0], dtype=torch.float64)) @ basis.T
    # 6 products: a sketch of 2 columns cannot hold rank 4, 12 products (sketch of 4) can
    value, se = bench.hutchpp_trace(lambda v: low_rank @ v, 50, 12, g, torch.float64)
    assert value == pytest.approx(9.0, abs=1e-9) and se == pytest.approx(0.0, abs=1e-9)
    a = torch.randn(30, 30, generator=g, dtype=torch.float64)
    matrix = a + a.T + torch.diag(torch.linspace(0, 20, 30, dtype=torch.float64))
    estimates = [bench.hutchpp_trace(lambda v: matrix @ v, 30, 9, g, torch.float64)[0]
                 for _ in range(400)]
    spread = torch.tensor(estimates).std() / 20  # the standard error of the mean of 400
    assert abs(sum(estimates) / 400 - float(torch.trace(matrix))) < 4 * spread
    with pytest.raises(ValueError, match="products >= 3"):
        bench.hutchpp_trace(lambda v: v, 5, 2, g, torch.float64)


def test_hvp_on_batch_matches_the_extractors_trace():
    models, data = tiny_problem(n=40)
    hvp, size = bench.hvp_on_batch(models[0], data)
    # Hutchinson with the extractor's probes through this HVP: the extractor's estimate
    ours = extractors.hessian_trace(models[0], data, n_samples=40, max_probes=5, rtol=0,
                                    random_state=1, device="cpu")
    gen = torch.Generator().manual_seed(1)
    bench.sample_indices(40, 40, gen)  # the batch draw comes first
    probes = bench.rademacher_probes(5, size, gen, torch.float64)
    assert sum(float(v @ hvp(v)) for v in probes) / 5 == pytest.approx(ours.value, rel=1e-10)


def test_small_run_reports_products_precision_and_the_variance_ratio(tmp_path, capsys):
    path = tmp_path / "precision.json"
    argv = ["--parts", "de", "--train-epochs", "0", "--hessian-samples", "8", "--targets",
            "0.5,0.3", "--rule-seeds", "2", "--target-max-probes", "12", "--hutchpp-products",
            "6", "--hutchpp-seeds", "2", "--json", str(path)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "(a)" not in printed and "(d) hessian_trace stopping rules" in printed
    assert "(e) Hutch++ vs Hutchinson at equal products" in printed
    payload = json.loads(path.read_text())
    rules = payload["stopping_rules"]
    assert [(r["model"], r["rule"]) for r in rules] == [
        (m, rule) for m in ("small CNN", "MLP")
        for rule in ("paper rtol 1e-3", "target 0.5", "target 0.3")]
    for row in rules:
        assert row["products_mean"] == sum(row["products"]) / 2
        if row["target_se_of_log"] is not None:  # every run reached it, or some were capped
            assert all(p <= 12 for p in row["products"])
            if row["stopped_at_max_probes"] == 0:
                assert row["se_log_mean"] <= row["target_se_of_log"]
        else:
            assert all(p <= 100 for p in row["products"])
    hutchpp = payload["hutchpp"]
    assert [(r["model"], r["products"]) for r in hutchpp] == [("small CNN", 6), ("MLP", 6)]
    for row in hutchpp:
        assert row["variance_ratio"] == pytest.approx(
            row["hutchinson_sd"] ** 2 / row["hutchpp_sd"] ** 2)
    assert [m["train_epochs"] for m in payload["precision_models"]] == [0, 0]
