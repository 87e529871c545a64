"""LandscapeFeaturizer: values, table layout, pipelines, parallel backends, bad input."""

import math
import os
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from torch.utils.data import TensorDataset

import extractors
from md_sklearn import (
    LandscapeFeaturizer,
    Leaf,
    MDTreeClassifier,
    ModelGroup,
    Split,
)
from md_sklearn._featurizer import _transformer as _featurizer
from md_sklearn._featurizer import _worker as _group_features
from md_sklearn._featurizer._keys import ContentKeys, derive_seed
from md_sklearn._featurizer._metrics import METRIC_NAMES, curve_epochs_for
from md_sklearn.models import small_cnn
from tests._landscape_groups import (
    FAST,
    build_cnn,
    cnn_group,
    digits,
    saved_group,
    torch_threads,
    trained_cnn,
)
from tests._model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread, as in the parallel workers: tiny models gain nothing from more,
    a shared machine loses much, and values compared across processes match exactly."""
    with torch_threads(1):
        yield


def featurizer(metrics=("train_error", "hessian_t", "CKA"), **kwargs):
    return LandscapeFeaturizer(metrics, **{**FAST, **kwargs})


@pytest.fixture(scope="module")
def two_groups():
    return [cnn_group("short", 0, seeds=(10, 11)), cnn_group("long", 5, seeds=(10, 11))]


# --- values ------------------------------------------------------------------------------------
def test_values_equal_direct_extractor_calls():
    """Every column is the paper's aggregate of the extractors' per-member values."""
    train, held_out = digits()
    models = [trained_cnn(5, seed) for seed in (10, 11, 12)]
    group = ModelGroup(models, train, eval_data=held_out, name="g")
    table = featurizer(METRIC_NAMES, connectivity_pairs="all").fit_transform([group])
    row = table.loc["g"]

    key, base = ContentKeys().group(group, "g"), str(FAST["random_state"])
    train_runs = [extractors.error_and_loss(m, train, device="cpu") for m in models]
    test_runs = [extractors.error_and_loss(m, held_out, device="cpu") for m in models]
    traces = [extractors.hessian_trace(m, train, n_samples=64, max_probes=6, rtol=1e-3,
                                       random_state=derive_seed(base, key, "hessian", i),
                                       device="cpu").value for i, m in enumerate(models)]
    tops = [extractors.hessian_top_eigenvalue(m, train, n_samples=64, max_iter=6, rtol=1e-3,
                                              random_state=derive_seed(base, key, "hessian", i),
                                              device="cpu").value
            for i, m in enumerate(models)]
    peaks = [extractors.mode_connectivity(models[i], models[j], train, epochs=2, batch_size=64,
                                          lr=0.01, device="cpu",
                                          random_state=derive_seed(base, key,
                                                                   "mode_connectivity", i, j)
                                          ).value
             for i, j in ((0, 1), (0, 2), (1, 2))]
    similarity = extractors.cka(models, train, n_batches=2, batch_size=64, mixup_alpha=16.0,
                                random_state=derive_seed(base, key, "cka"), device="cpu").value

    # means over the members; the only freedom left is the summation order (a few ulp)
    expected = {
        "train_error": np.mean([r.value for r in train_runs]),
        "train_loss": np.mean([r.loss for r in train_runs]),
        "test_error": np.mean([r.value for r in test_runs]),
        "test_loss": np.mean([r.loss for r in test_runs]),
        "hessian_t": np.log(np.mean(traces)),  # log of the mean, not the mean of the logs
        "hessian_e": np.log(np.mean(tops)),
        "mode_connectivity_peak": np.mean(peaks),
        "mode_connectivity_peak_std": np.std(peaks),  # population spread over the pairs
        "CKA": similarity,
    }
    assert list(table.columns) == ["train_error", "train_loss", "test_error", "test_loss",
                                   "hessian_t", "hessian_e", "mode_connectivity_peak",
                                   "mode_connectivity_peak_std", "CKA"]
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, rel=1e-12, abs=1e-12), column
    assert row["hessian_t"] != pytest.approx(np.mean(np.log(traces)), rel=1e-6)
    assert -100 <= row["mode_connectivity_peak"] <= 0 and 0 <= row["CKA"] <= 1


def test_first_pair_connectivity_is_the_first_two_members():
    train = digits()[0]
    models = [trained_cnn(5, seed) for seed in (10, 11, 12)]
    group = ModelGroup(models, train, name="g")
    table = featurizer(["mode_connectivity_peak"]).fit_transform([group])
    key = ContentKeys().group(group, "g")
    direct = extractors.mode_connectivity(
        models[0], models[1], train, epochs=2, batch_size=64, lr=0.01, device="cpu",
        random_state=derive_seed("0", key, "mode_connectivity", 0, 1))
    assert table.loc["g", "mode_connectivity_peak"] == direct.value
    assert list(table.columns) == ["mode_connectivity_peak"]


def test_values_do_not_depend_on_order_or_names(two_groups):
    f = featurizer()
    forward = f.fit_transform(two_groups)
    renamed = [ModelGroup(g.members, g.data, name=f"copy of {g.name}") for g in two_groups[::-1]]
    backward = f.transform(renamed)
    np.testing.assert_array_equal(backward.to_numpy(), forward.to_numpy()[::-1])
    assert list(backward.index) == ["copy of long", "copy of short"]


def test_random_state_changes_only_the_random_metrics(two_groups):
    a = featurizer(random_state=0).fit_transform(two_groups)
    b = featurizer(random_state=1).fit_transform(two_groups)
    pd.testing.assert_series_equal(a["train_error"], b["train_error"])
    assert not np.array_equal(a["hessian_t"], b["hessian_t"])


def test_non_positive_mean_gives_nan_and_a_warning(two_groups, monkeypatch):
    class Negative:
        value = -1.0

    monkeypatch.setattr(extractors, "hessian_trace", lambda *args, **kwargs: Negative())
    with pytest.warns(UserWarning, match=r"group 'short': the mean hessian_t .* log is undefined"):
        table = featurizer(["hessian_t"]).fit_transform(two_groups[:1])
    assert math.isnan(table.loc["short", "hessian_t"])


# --- table layout ---------------------------------------------------------------------------
def test_columns_index_and_feature_names():
    train, held_out = digits()
    groups = [cnn_group("a", 0, eval_data=held_out, meta={"width": 2, "epochs": 0}),
              ModelGroup([trained_cnn(0, 5), trained_cnn(0, 6)], train, meta={"lr": 0.05})]
    f = featurizer(["CKA", "train_error"])
    table = f.fit_transform(groups)
    names = ["CKA", "train_error", "test_error", "test_loss", "width", "epochs", "lr"]
    assert list(table.columns) == names
    assert list(f.get_feature_names_out()) == names
    assert list(table.index) == ["a", "group_1"] and table.index.name == "group"
    assert table.loc["group_1", ["test_error", "test_loss"]].isna().all()
    assert table.loc["a", "test_error"] >= 0
    assert table.loc["a", "width"] == 2 and math.isnan(table.loc["group_1", "width"])
    assert table.loc["group_1", "lr"] == 0.05
    with pytest.raises(ValueError, match="input_features=None"):
        f.get_feature_names_out(["x"])


def test_set_output_and_tags(two_groups):
    f = featurizer()
    plain = f.fit_transform(two_groups)
    pandas_out = clone(f).set_output(transform="pandas").fit_transform(two_groups)
    default_out = clone(f).set_output(transform="default").fit_transform(two_groups)
    with sklearn.config_context(transform_output="pandas"):
        global_out = clone(f).fit_transform(two_groups)
    for table in (pandas_out, default_out, global_out):
        pd.testing.assert_frame_equal(table, plain)
    tags = get_tags(f)
    assert not tags.input_tags.two_d_array and not tags.non_deterministic
    assert get_tags(featurizer(random_state=None)).non_deterministic


def test_fit_records_only_the_layout(two_groups, monkeypatch):
    calls = []
    monkeypatch.setattr(_group_features, "compute_group", lambda task: calls.append(task))
    f = featurizer().fit(two_groups)
    assert calls == [] and list(f.feature_names_out_) == ["train_error", "hessian_t", "CKA"]
    assert f.meta_columns_ == ()
    assert clone(f).get_params() == f.get_params()


# --- scikit-learn workflows ---------------------------------------------------------------
@pytest.fixture(scope="module")
def diagnosis_groups():
    """Three untrained groups (train error ~90 %) and three trained ones (5 epochs, ~55 %)."""
    groups, labels = [], []
    for i in range(3):
        groups.append(cnn_group(f"short{i}", 0, seeds=(10 + 2 * i, 11 + 2 * i)))
        labels.append("under")
        groups.append(cnn_group(f"long{i}", 5, seeds=(10 + 2 * i, 11 + 2 * i)))
        labels.append("trained")
    return groups, np.array(labels)


ERROR_TREE = Split("train_error", 50.0, (0.0, 100.0), Leaf("trained"), Leaf("under"))
SHARPNESS_TREE = Split("hessian_t", 0.0, (-20.0, 20.0), Leaf("under"), Leaf("trained"))


def diagnosis_pipeline(cache_dir):
    return Pipeline([
        ("features", featurizer(["train_error", "hessian_t"], cache_dir=cache_dir)),
        ("tree", MDTreeClassifier(ERROR_TREE)),
    ])


def test_pipeline_fits_predicts_and_survives_joblib(diagnosis_groups, tmp_path):
    groups, labels = diagnosis_groups
    pipe = diagnosis_pipeline(tmp_path / "cache").fit(groups, labels)
    predicted = pipe.predict(groups)
    np.testing.assert_array_equal(predicted, labels)
    assert pipe.score(groups, labels) == 1.0
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    loaded = joblib.load(tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(loaded.predict(groups), predicted)
    assert loaded.get_params()["features__curve_epochs"] == 2


def test_grid_search_over_the_tree_reuses_the_cache(diagnosis_groups, tmp_path, monkeypatch):
    groups, labels = diagnosis_groups
    pipe = diagnosis_pipeline(tmp_path / "cache")
    pipe[0].fit_transform(groups)  # fills the cache
    calls = []
    compute = _group_features.compute_group
    monkeypatch.setattr(_group_features, "compute_group",
                        lambda task: calls.append(task.label) or compute(task))
    search = GridSearchCV(pipe, {"tree__hierarchy": [ERROR_TREE, SHARPNESS_TREE]},
                          cv=StratifiedKFold(3)).fit(groups, labels)
    assert calls == []  # 2 candidates x 3 folds + refit, all features from the cache
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_["tree__hierarchy"] is ERROR_TREE and scores[0] >= scores[1]
    np.testing.assert_array_equal(search.predict(groups), labels)  # refit on all six groups


# --- parallel backends ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def parallel_groups(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    return [cnn_group("memory", 0, seeds=(0, 1)), saved_group(folder, "files", 0, seeds=(2, 3)),
            cnn_group("three", 5, seeds=(10, 11, 12))]


def test_loky_workers_give_the_serial_values(parallel_groups):
    f = featurizer(["train_error", "hessian_t", "mode_connectivity_peak", "CKA"])
    serial = f.fit_transform(parallel_groups)  # one thread, as each loky worker here
    parallel = clone(f).set_params(n_jobs=2).fit_transform(parallel_groups)
    pd.testing.assert_frame_equal(parallel, serial, check_exact=True)
    x, y = digits()[0].tensors  # a failure in a worker reaches the caller with its context
    relabelled = ModelGroup(parallel_groups[0].members, TensorDataset(x, y + 1), name="shifted")
    with pytest.raises(ValueError, match=r"group 'shifted', member 0, train_error: expected "
                                         r"labels in \[0, 9\]"):
        clone(f).set_params(n_jobs=2).fit_transform(parallel_groups + [relabelled])


def test_dask_cluster_gives_the_serial_values(parallel_groups):
    distributed = pytest.importorskip("distributed")
    f = featurizer(["train_error", "hessian_t", "CKA"])
    serial = f.fit_transform(parallel_groups)  # one thread, as each dask worker
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            distributed.get_task_stream(client) as stream, \
            joblib.parallel_config(backend="dask"):
        on_cluster = clone(f).fit_transform(parallel_groups)
        cluster_workers = set(cluster.scheduler_info["workers"])
    pd.testing.assert_frame_equal(on_cluster, serial, check_exact=True)
    ran_on = {task["worker"] for task in stream.data}
    assert len(stream.data) >= 1 and ran_on <= cluster_workers and len(cluster_workers) == 2


def test_one_cuda_device_per_group(monkeypatch):
    assert _group_features._device("auto", 3) == ("cuda:0" if torch.cuda.is_available()
                                                  else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert [_group_features._device("auto", i) for i in range(4)] == [
        "cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    assert _group_features._device("cuda", 5) == "cuda:1"
    assert _group_features._device("cuda:0", 5) == "cuda:0"
    assert _group_features._device("cpu", 5) == "cpu"


# --- progress ------------------------------------------------------------------------------
def test_progress_is_silent_off_a_terminal_and_shown_on_one(two_groups, capfd, monkeypatch):
    featurizer(["mode_connectivity_peak"], progress=True).fit_transform(two_groups)
    assert capfd.readouterr().err == ""
    monkeypatch.setattr(_featurizer, "_stderr_is_terminal", lambda: True)
    featurizer(["mode_connectivity_peak"], progress=True).fit_transform(two_groups)
    err = capfd.readouterr().err
    assert "landscape features" in err and "2/2" in err
    assert "curve training" in err  # the inner bar over epochs, groups run in this process


# --- the user's models and files are left alone -----------------------------------------------
def test_user_modules_data_and_files_are_unchanged(tmp_path):
    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    data = TensorDataset(x, y)
    models = [model_with_batchnorm_and_dropout(seed) for seed in (0, 1)]
    before = [snapshot(m) for m in models]
    files = saved_group(tmp_path, "files", 0)
    stamps = {p: (open(p, "rb").read(), os.stat(p).st_mtime_ns) for p in files.members}
    x_before, y_before = x.clone(), y.clone()
    f = featurizer(METRIC_NAMES, curve_batch_size=16, cka_batch_size=16,
                   cache_dir=tmp_path / "cache", connectivity_pairs="all")
    f.fit_transform([ModelGroup(models, data, eval_data=data, name="modules"),
                     ModelGroup(files.members, files.data, eval_data=digits()[1],
                                build_model=build_cnn, name="files")])
    for model, state in zip(models, before, strict=True):
        assert_unchanged(model, state)
    assert torch.equal(x, x_before) and torch.equal(y, y_before)
    for path, (content, mtime) in stamps.items():
        assert open(path, "rb").read() == content
        assert os.stat(path).st_mtime_ns == mtime


# --- bad input -----------------------------------------------------------------------------------
def test_unknown_repeated_or_no_metric():
    with pytest.raises(ValueError, match=r"metric names among \['train_error', 'train_loss', "
                                         r"'test_error', 'test_loss', 'hessian_t', 'hessian_e', "
                                         r"'mode_connectivity_peak', 'CKA'\], got 'cka'"):
        featurizer(["cka"]).fit([cnn_group("g", 0)])
    with pytest.raises(ValueError, match=r"each metric once, got \['CKA'\] repeated"):
        featurizer(["CKA", "CKA"]).fit([cnn_group("g", 0)])
    with pytest.raises(ValueError, match="at least one metric"):
        featurizer([]).fit([cnn_group("g", 0)])


@pytest.mark.parametrize(
    ("params", "match"),
    [({"curve_epochs": -1}, "curve_epochs"), ({"hessian_rtol": "small"}, "hessian_rtol"),
     ({"on_error": "skip"}, "on_error"), ({"connectivity_pairs": "some"}, "connectivity_pairs"),
     ({"metrics": "CKA"}, "metrics"), ({"device": "gpu"}, "expected device to be 'auto'")],
)
def test_bad_settings(params, match):
    with pytest.raises(ValueError, match=match):
        featurizer(**params).fit([cnn_group("g", 0)])


def test_bad_group_lists():
    group = cnn_group("g", 0)
    with pytest.raises(TypeError, match="expected a list of ModelGroup, got ModelGroup"):
        featurizer().fit(group)
    with pytest.raises(TypeError, match="got Linear at position 1"):
        featurizer().fit([group, torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="at least one ModelGroup"):
        featurizer().fit([])
    with pytest.raises(ValueError, match=r"unique group names, got \['g'\]"):
        featurizer().fit_transform([group, cnn_group("g", 0, seeds=(2, 3))])
    with pytest.raises(ValueError, match=r"meta keys that differ from the metric columns"):
        featurizer().fit([cnn_group("g", 0, meta={"CKA": 1})])


def test_one_member_group_raises_or_gives_nan(two_groups):
    solo = ModelGroup([trained_cnn(0, 0)], digits()[0], name="solo")
    with pytest.raises(ValueError, match=r"group 'solo': expected at least 2 members for "
                                         r"\['mode_connectivity_peak', 'CKA'\], got 1"):
        featurizer(["train_error", "mode_connectivity_peak", "CKA"]).fit_transform([solo])
    f = featurizer(on_error="nan")
    with pytest.warns(UserWarning, match="group 'solo' failed and gets NaN features"):
        table = f.fit_transform([two_groups[0], solo, two_groups[1]])
    assert table.loc["solo"].isna().all()
    pd.testing.assert_frame_equal(table.drop(index="solo"), f.transform(two_groups))
    # without a pairwise metric one member is fine
    assert featurizer(["train_error"]).fit_transform([solo]).loc["solo", "train_error"] >= 0


def test_test_metrics_need_eval_data():
    with pytest.raises(ValueError, match=r"group 'g': expected eval_data for \['test_error'\]"):
        featurizer(["test_error"]).fit_transform([cnn_group("g", 0)])


def test_mismatched_architectures_name_the_parameter():
    group = ModelGroup([small_cnn(2), small_cnn(3)], digits()[0], name="mixed")
    with pytest.raises(ValueError, match=r"group 'mixed': expected models of the same "
                                         r"architecture, got member 0 parameter "
                                         r"'features.0.weight' of shape \(2, 1, 3, 3\)"):
        featurizer(["train_error"]).fit_transform([group])


def test_bad_checkpoint_files_name_group_member_and_path(tmp_path):
    missing = saved_group(tmp_path, "missing", 0)
    (tmp_path / "missing-seed1.pt").unlink()
    with pytest.raises(FileNotFoundError, match=r"group 'missing', member 1 \('.*missing-seed1"
                                                r"\.pt'\): expected a checkpoint file"):
        featurizer().fit_transform([missing])

    truncated = saved_group(tmp_path, "truncated", 0)
    path = tmp_path / "truncated-seed0.pt"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"group 'truncated', member 0 \('.*truncated-seed0\.pt'"
                                         r"\): expected a complete checkpoint"):
        featurizer().fit_transform([truncated])

    pickled = saved_group(tmp_path, "pickled", 0)
    torch.save(trained_cnn(0, 1), tmp_path / "pickled-seed1.pt")
    with pytest.raises(ValueError, match=r"group 'pickled', member 1 .* needs pickle"):
        featurizer().fit_transform([pickled])


def test_failing_member_under_nan_warns_and_caches_nothing(tmp_path):
    good = saved_group(tmp_path, "good", 0)
    bad = saved_group(tmp_path, "bad", 0)
    path = tmp_path / "bad-seed0.pt"
    path.write_bytes(path.read_bytes()[:100])
    cache = tmp_path / "cache"
    f = featurizer(on_error="nan", cache_dir=cache)
    with pytest.warns(UserWarning, match=r"group 'bad' failed .* expected a complete checkpoint"):
        table = f.fit_transform([good, bad])
    assert table.loc["bad"].isna().all() and table.loc["good"].notna().all()
    assert len(list(cache.glob("*.json"))) == 3  # train, hessian_t, cka of 'good' only


def test_labels_beyond_the_classes():
    x, y = digits()[0].tensors
    data = TensorDataset(x, torch.where(y == 9, torch.tensor(11), y))
    group = ModelGroup([trained_cnn(0, 0), trained_cnn(0, 1)], data, name="relabelled")
    with pytest.raises(ValueError, match=r"group 'relabelled', member 0, train_error: expected "
                                         r"labels in \[0, 9\] for a model with 10 outputs"):
        featurizer().fit_transform([group])


def test_transform_needs_fit(two_groups):
    with pytest.raises(sklearn.exceptions.NotFittedError):
        featurizer().transform(two_groups)


def test_no_warning_on_a_clean_run(two_groups):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        featurizer().fit_transform(two_groups)


# --- a curve budget in steps, per group ---------------------------------------------------------
@pytest.mark.parametrize(("n_samples", "batch_size", "steps", "epochs"),
                         [(300, 64, 10, 2), (300, 64, 5, 1), (300, 64, 11, 3), (64, 64, 3, 3),
                          (50_000, 128, 19_550, 50)])
def test_curve_epochs_for_gives_at_least_the_steps(n_samples, batch_size, steps, epochs):
    assert curve_epochs_for(n_samples, batch_size, steps) == epochs


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 10_000), batch=st.integers(1, 512), steps=st.integers(1, 50_000))
def test_curve_epochs_for_is_the_fewest_whole_epochs(n, batch, steps):
    per_epoch = -(-n // batch)
    epochs = curve_epochs_for(n, batch, steps)
    assert epochs * per_epoch >= steps
    assert epochs == 1 or (epochs - 1) * per_epoch < steps


def test_curve_steps_sets_each_groups_epochs_from_its_data():
    train, _ = digits()
    small = TensorDataset(*(t[:100] for t in train.tensors))
    groups = [cnn_group("full", 0), ModelGroup(cnn_group("part", 0).members, small, name="part")]
    featurizer = LandscapeFeaturizer(["mode_connectivity_peak"], **{**FAST, "curve_steps": 10})
    # 300 samples in batches of 64: 5 steps an epoch -> 2 epochs; 100 samples: 2 -> 5 epochs
    assert [featurizer._unit_options("connectivity", g)["epochs"] for g in groups] == [2, 5]
    with_steps = featurizer.fit_transform(groups)
    for group, epochs in zip(groups, (2, 5), strict=True):
        by_epochs = LandscapeFeaturizer(["mode_connectivity_peak"],
                                        **{**FAST, "curve_epochs": epochs}).fit_transform([group])
        assert with_steps.loc[group.name, "mode_connectivity_peak"] == \
            by_epochs.loc[group.name, "mode_connectivity_peak"]


def test_curve_steps_enter_the_cache_key_as_resolved_epochs(tmp_path):
    group = cnn_group("g", 0)
    base = {**FAST, "cache_dir": tmp_path}
    LandscapeFeaturizer(["mode_connectivity_peak"], **{**base, "curve_epochs": 2}).fit_transform([group])
    calls = sorted(p.name for p in tmp_path.glob("connectivity-*.json"))
    # 10 steps on 300 samples in batches of 64 is 2 epochs: the same value, reused
    LandscapeFeaturizer(["mode_connectivity_peak"], **{**base, "curve_steps": 10}).fit_transform([group])
    assert sorted(p.name for p in tmp_path.glob("connectivity-*.json")) == calls
    # 11 steps is 3 epochs: another value, another entry
    LandscapeFeaturizer(["mode_connectivity_peak"], **{**base, "curve_steps": 11}).fit_transform([group])
    assert len(list(tmp_path.glob("connectivity-*.json"))) == len(calls) + 1


def test_curve_steps_must_be_positive():
    with pytest.raises(ValueError, match="curve_steps"):
        LandscapeFeaturizer(curve_steps=0).fit([cnn_group("g", 0)])
