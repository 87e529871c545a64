"""Tests of the validation study's pipeline: bad input, data, cache, a tiny run and its resume."""

import io
import json
import math
import socket
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from benchmarks import BENCHMARKS  # noqa: E402
from benchmarks.study import main, run  # noqa: E402
from benchmarks.study._data import check_datasets, load_mnist1d_data  # noqa: E402
from benchmarks.study._grid import GRIDS, DatasetGrid, StudyGrid, cases  # noqa: E402
from benchmarks.study._run import (  # noqa: E402
    curve_budget,
    study_folder,
    tie_tolerance,
    write_atomic,
)


def test_registered():
    assert BENCHMARKS["study"] == "benchmarks.study"


def test_unknown_names_list_the_valid_ones(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"among \['digits', 'mnist1d'\], got \['cifar'\]"):
        check_datasets("cifar")
    assert check_datasets("mnist1d,digits") == ("digits", "mnist1d")
    with pytest.raises(SystemExit):
        main(["--datasets", "digits,svhn", "--cache", str(tmp_path)])
    assert "expected dataset names among ['digits', 'mnist1d']" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"expected case names among \[.*'digits/q1_random'"):
        run(GRIDS["quick"], datasets=["digits"], case_names=["digits/q3"],
            cache_dir=tmp_path, stream=io.StringIO())


def test_cases_cover_table_b_and_cross_dataset():
    names = [c.name for c in cases(GRIDS["full"])]
    assert len(names) == 5 * 2 + 4
    assert [c.name for c in cases(GRIDS["full"]) if c.primary] == [
        "digits/q1_random", "digits/q2_random_data", "mnist1d/q1_random",
        "mnist1d/q2_random_data"]
    assert "digits->mnist1d/q1" in names and "mnist1d->digits/q2_width" in names
    assert not any("->" in c.name for c in cases(GRIDS["full"], ("digits",)))


def test_full_grid_meets_the_issue_minimum():
    for spec in GRIDS["full"].grids.values():
        assert len(spec.widths) >= 5 and len(spec.batch_sizes) >= 6
        assert len(spec.data_fractions) >= 3 and len(spec.seeds) >= 4
    assert len(GRIDS["full"].repetition_seeds) == 5


def test_mnist1d_is_built_without_network(monkeypatch):
    pytest.importorskip("mnist1d")

    def refuse(*args, **kwargs):
        raise AssertionError("network touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    state = np.random.get_state()  # noqa: NPY002
    train, test = load_mnist1d_data()
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0] and np.array_equal(state[1], after[1])
    assert tuple(train.tensors[0].shape) == (2000, 40) and len(test) == 1000
    assert set(train.tensors[1].tolist()) == set(range(10))
    again, _ = load_mnist1d_data()
    assert bool((again.tensors[0] == train.tensors[0]).all())


def test_missing_mnist1d_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r'pip install "md-sklearn\[study\]"'):
        load_mnist1d_data()


def test_curve_budget_keeps_steps_constant():
    spec = DatasetGrid(widths=(2,), batch_sizes=(16,), data_fractions=(0.25, 1.0), seeds=(0,),
                       epochs=1, lr=0.1, curve_epochs=50)
    assert curve_budget(spec, 0.25, 1347, {"curve_steps": None}) == {"curve_steps": 50 * 11}
    assert curve_budget(spec, 0.25, 1347, {}) == {"curve_epochs": 200}
    assert curve_budget(spec, 1.0, 1347, {}) == {"curve_epochs": 50}


def test_tie_tolerance_by_hand():
    table = pd.DataFrame({"test_acc_std": [1.0, 3.0, np.nan], "n_models": [4, 4, 4]})
    pooled = math.sqrt((1.0 + 9.0 + 0.0) / 3)
    assert tie_tolerance(table) == pytest.approx(1.96 * math.sqrt(2) * pooled / 2)


def test_cache_folders_keep_settings_apart(tmp_path):
    quick = GRIDS["quick"]
    folder = study_folder(tmp_path, quick)
    assert study_folder(tmp_path, quick) == folder
    other = StudyGrid("quick", {**quick.grids, "digits": DatasetGrid(
        widths=(4, 16), batch_sizes=(16, 64, 256), data_fractions=(0.5, 1.0), seeds=(0, 1),
        epochs=9, lr=0.2, curve_epochs=8)}, random_k=2, narrow_widths=1)
    assert study_folder(tmp_path, other) != folder
    # evaluation settings do not move the trained models
    assert study_folder(tmp_path, StudyGrid("quick", quick.grids, random_k=1,
                                            narrow_widths=2, bootstrap=10)) == folder
    settings = json.loads((folder / "settings.json").read_text())
    settings["format"] = -1
    (folder / "settings.json").write_text(json.dumps(settings))
    with pytest.raises(ValueError, match="expected the cache .* to hold settings"):
        study_folder(tmp_path, quick)


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "a" / "result.json"
    write_atomic(path, "first")

    with pytest.raises(TypeError):
        write_atomic(path, object())
    assert path.read_text() == "first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]


TINY = StudyGrid(
    "test",
    {"digits": DatasetGrid(widths=(2, 4), batch_sizes=(64, 512), data_fractions=(1.0,),
                           seeds=(0, 1), epochs=1, lr=0.2, curve_epochs=1)},
    random_k=2, narrow_widths=1, repetition_seeds=(42, 90), bootstrap=200,
    extra={"featurizer": {"hessian_n_samples": 32, "hessian_max_probes": 4, "cka_n_batches": 2,
                          "cka_batch_size": 32}})


def test_tiny_run_and_resume(tmp_path):
    stream = io.StringIO()
    report = run(TINY, datasets=["digits"], cache_dir=tmp_path, n_jobs=1, progress=False,
                 stream=stream)
    text = stream.getvalue()
    assert "== stage: collections" in text and "evaluation:" in text
    assert set(report["cases"]) == {"rfi", "tolerance"}
    assert set(report["collections"]) == {"digits/clean", "digits/noisy"}
    entry = report["collections"]["digits/clean"]
    assert entry["n_configurations"] == 4 and 0.0 <= entry["fraction_interpolating"] <= 1.0
    for case, evaluation in zip(report["cases"]["rfi"], report["predictions"]["rfi"],
                                strict=True):
        assert case["case"] == evaluation["case"]
        for run_ in evaluation["runs"]:
            for predicted in run_["predictions"].values():
                assert len(predicted) == len(evaluation["true"])
            if run_["predictions"]:  # the primary method's diagnoses carry a confidence
                probability = run_["flip_probability"]["md_tree"]
                assert len(probability) == len(evaluation["true"])
                assert all(0.0 <= p <= 1.0 for p in probability)
                assert run_["fragile"]["md_tree"] == [p > 0.2 for p in probability]
        if "unknown_se" in evaluation:  # one curve per group: its standard error unknown
            assert set(evaluation["unknown_se"]) <= {"train_error_se", "hessian_t_se",
                                                     "mode_connectivity_peak_se"}
    assert any("confidence" in case for case in report["cases"]["rfi"])
    folder = tmp_path / report["cache"].split("/")[-1]
    # build_collection rewrites its two summary tables on every call; models, feature
    # rows and evaluations must stay untouched
    stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*")
              if p.is_file() and p.name not in ("configurations.csv", "members.csv")}
    assert any(p.suffix == ".safetensors" for p in stamps)
    assert any("evaluations" in p.parts for p in stamps)
    again = run(TINY, datasets=["digits"], cache_dir=tmp_path, n_jobs=1, progress=False,
                stream=io.StringIO())
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing recomputed
    assert again["predictions"] == report["predictions"]
    assert again["cases"] == report["cases"]
