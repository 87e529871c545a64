"""The md-sklearn command line: help, one-line errors, data files, groups, diagnose."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from md_sklearn._cli import _diagnose  # noqa: E402
from md_sklearn._cli._demo import DemoGrid, run_demo  # noqa: E402
from md_sklearn._cli._main import main  # noqa: E402

#: Smallest grid that still has both batch-size labels and two seeds.
TINY_GRID = DemoGrid(widths=(2, 4), batch_sizes=(16, 256), data_fractions=(1.0,), seeds=(0, 1),
                     epochs=2, lr=0.2, curve_epochs=1)


def run_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "md_sklearn", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
    output = tmp_path_factory.mktemp("demo")
    with open(os.devnull, "w") as quiet:
        summary = run_demo(output, grid=TINY_GRID, n_jobs=1, progress=False, plots=True,
                           device="cpu", stream=quiet)
    return output, summary


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("demo", "diagnose", "featurize", "benchmark"):
        assert command in result.stdout
    assert "torch" not in result.stderr


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: md-sklearn" in capsys.readouterr().out


def test_errors_are_one_line_without_traceback(capsys, tmp_path):
    status = main(["diagnose", str(tmp_path / "missing"), "--model", "md_sklearn.models:small_cnn"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "does not exist" in err and "--debug" in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        main(["--debug", "diagnose", str(tmp_path / "missing"), "--model",
              "md_sklearn.models:small_cnn"])


@pytest.mark.parametrize("spec, match", [
    ("no_colon", "expected --model as MODULE:FACTORY"),
    ("not_a_module_xyz:f", "cannot import module"),
    ("md_sklearn.models:nothing_here", "has no attribute"),
])
def test_bad_model_factory(spec, match):
    with pytest.raises(ValueError, match=match):
        _diagnose.import_factory(spec)


def test_factory_must_be_callable():
    with pytest.raises(TypeError, match="expected --model to name a callable"):
        _diagnose.import_factory("md_sklearn:__version__")


def test_data_files_round_trip(tmp_path):
    x = np.random.default_rng(0).normal(size=(5, 1, 8, 8)).astype(np.float32)
    y = np.arange(5)
    np.savez(tmp_path / "d.npz", inputs=x, labels=y)
    torch.save({"x": torch.from_numpy(x), "y": torch.from_numpy(y)}, tmp_path / "d.pt")
    for name in ("d.npz", "d.pt"):
        data = _diagnose.load_data_file(tmp_path / name)
        assert torch.equal(data.tensors[0], torch.from_numpy(x))
        assert data.tensors[1].dtype == torch.int64 and data.tensors[1].tolist() == y.tolist()


@pytest.mark.parametrize("content, match", [
    ({"inputs": torch.zeros(3, 2)}, "to hold 'inputs' and 'labels'"),
    ({"inputs": torch.zeros(3, 2), "labels": torch.zeros(3)}, "expected integer class labels"),
    ({"inputs": torch.zeros(3, 2), "labels": torch.zeros(2, dtype=torch.long)},
     "as many inputs as labels"),
])
def test_bad_data_files(tmp_path, content, match):
    torch.save(content, tmp_path / "d.pt")
    with pytest.raises(ValueError, match=match):
        _diagnose.load_data_file(tmp_path / "d.pt")


def test_data_file_needs_a_known_ending(tmp_path):
    (tmp_path / "d.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match="ending in .pt or .npz"):
        _diagnose.load_data_file(tmp_path / "d.csv")


def test_groups_from_folders_and_files(tmp_path):
    for group in ("a", "b"):
        (tmp_path / group).mkdir()
        for seed in (0, 1):
            (tmp_path / group / f"seed{seed}.pt").write_bytes(b"")
    (tmp_path / "a" / "group.json").write_text(json.dumps(
        {"model_kwargs": {"width": 2}, "data": "../train.pt", "meta": {"width": 2}}))
    groups = _diagnose.discover_groups([tmp_path / "a", tmp_path / "b"])
    assert [name for name, _, _ in groups] == ["a", "b"]
    assert [f.name for f in groups[0][1]] == ["seed0.pt", "seed1.pt"]
    assert groups[0][2]["data"] == str((tmp_path / "train.pt").resolve())
    assert groups[1][2] == {}
    loose = _diagnose.discover_groups([tmp_path / "b" / "seed0.pt", tmp_path / "b" / "seed1.pt"])
    assert len(loose) == 1 and len(loose[0][1]) == 2


def test_empty_group_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no checkpoint files"):
        _diagnose.discover_groups([tmp_path])


def test_unknown_tree_is_refused():
    with pytest.raises(ValueError, match="expected --tree to be one of"):
        _diagnose.load_tree("q7")


def test_demo_writes_trees_figures_and_summary(tiny_demo):
    output, summary = tiny_demo
    saved = json.loads((output / "summary.json").read_text())
    assert saved["grid"]["widths"] == [2, 4]
    assert set(saved["tasks"]) == {"q1", "q2_width"}
    for task in saved["tasks"].values():
        if "skipped" not in task:
            assert 0 <= task["accuracy"]["MD tree"] <= 100
            assert Path(task["tree_file"]).is_file()
    for path in summary["figures"].values():
        assert Path(path).stat().st_size > 0
    features = pd.read_csv(output / "features_noisy.csv", index_col=0)
    assert len(features) == 4 and {"hessian_t", "CKA", "bs_failure"} <= set(features.columns)


def test_demo_reports_intervals_and_a_verdict_they_support(tiny_demo):
    from md_sklearn._cli._demo import DEMO_MIN_TEST, _verdict_line

    _, summary = tiny_demo
    for result in summary["tasks"].values():
        if "skipped" in result:
            continue
        for method, accuracy in result["accuracy"].items():
            low, high = result["interval"][method]
            assert low <= accuracy <= high
            hits = result["predictions_correct"][method]
            assert accuracy == pytest.approx(100 * sum(hits) / len(hits))
        best = result["best_baseline"]
        paired = result["paired"]["MD tree"]
        assert paired["baseline"] == best
        assert paired["difference"] == pytest.approx(
            result["accuracy"]["MD tree"] - result["accuracy"][best])
        line = _verdict_line(result)
        if result["n_test"] < DEMO_MIN_TEST:
            assert "fewer than the" in line and "docs/study.rst" in line
        elif paired["low"] > 0:
            assert line.startswith("MD tree beats")
        elif paired["high"] < 0:
            assert line.startswith("the best baseline")
        else:
            assert "cannot tell" in line and "docs/study.rst" in line


def test_demo_verdict_needs_enough_test_configurations():
    from md_sklearn._cli._demo import DEMO_MIN_TEST, _verdict_line

    def result(n_test, low, high):
        return {"n_test": n_test, "paired": {"MD tree": {"low": low, "high": high,
                                                          "baseline": "Validation+DT"}}}

    assert "fewer than the" in _verdict_line(result(DEMO_MIN_TEST - 1, -100.0, -100.0))
    assert _verdict_line(result(DEMO_MIN_TEST, 2.0, 9.0)).startswith("MD tree beats")
    assert _verdict_line(result(DEMO_MIN_TEST, -9.0, -2.0)).startswith("the best baseline")
    assert "cannot tell" in _verdict_line(result(DEMO_MIN_TEST, -2.0, 9.0))


def test_demo_rerun_trains_and_computes_nothing(tiny_demo):
    output, summary = tiny_demo
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file() and (
        p.suffix in (".safetensors", ".pt") or "feature-cache" in p.parts)}
    with open(os.devnull, "w") as quiet:
        again = run_demo(output, grid=TINY_GRID, n_jobs=1, progress=False, plots=False,
                         device="cpu", stream=quiet)
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before
    assert again["tasks"]["q1"]["accuracy"] == summary["tasks"]["q1"]["accuracy"]


def test_diagnose_prints_a_report_per_group(tiny_demo):
    output, _ = tiny_demo
    folders = sorted((output / "collections" / "noisy" / "models").iterdir())
    tree = output / "trees" / "q1.joblib"
    if not tree.exists():
        pytest.skip("the tiny demo had no q1 tree to fit")
    result = run_cli("diagnose", *map(str, folders), "--model", "md_sklearn.models:small_cnn",
                     "--tree", str(tree), "--curve-epochs", "1", "--no-progress",
                     "--n-jobs", "1", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    for folder in folders:
        assert f"sample {folder.name}:" in result.stdout
    assert "action:" in result.stdout


def test_featurize_writes_a_csv(tiny_demo, tmp_path):
    output, _ = tiny_demo
    folders = sorted((output / "collections" / "clean" / "models").iterdir())[:2]
    target = tmp_path / "features.csv"
    status = main(["featurize", *map(str, folders), "--model", "md_sklearn.models:small_cnn",
                   "--metrics", "train_error,hessian_t", "--no-progress", "--device", "cpu",
                   "-o", str(target)])
    assert status == 0
    table = pd.read_csv(target, index_col=0)
    assert list(table.index) == [f.name for f in folders]
    assert {"train_error", "hessian_t"} <= set(table.columns)
    assert table["train_error"].between(0, 100).all()


def test_benchmark_without_the_suite_names_the_fix(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_benchmarks(name, *args, **kwargs):
        if name.startswith("benchmarks"):
            raise ModuleNotFoundError("No module named 'benchmarks'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_benchmarks)
    assert main(["benchmark", "paper"]) == 1
    err = capsys.readouterr().err
    assert "run it from a clone" in err and "python -m benchmarks" in err
