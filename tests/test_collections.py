"""Tests for md_sklearn.collections: digits data, training, labelled collections."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402

from md_sklearn.collections import _build as _build_module  # noqa: E402
from md_sklearn.collections import _manifest as _manifest_module  # noqa: E402
from md_sklearn.collections import (  # noqa: E402
    build_collection,
    load_checkpoint,
    load_digits_data,
    train_classifier,
    training_subset,
)
from md_sklearn.collections._noise import noisy_labels  # noqa: E402
from md_sklearn.models import small_cnn  # noqa: E402
from tests._model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot  # noqa: E402
from tests._without_package import import_message_without  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_digits_data()


def _tiny_data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, 4, generator=g), torch.randint(0, 3, (n,), generator=g))


def _accuracy(model, data):
    x, y = data.tensors
    with torch.no_grad():
        return int((model(x).argmax(1) == y).sum()) / len(y)


# ------------------------------------------------------------------ load_digits_data
def test_digits_split_shapes_and_standardisation(digits):
    train, test = digits
    x, y = train.tensors
    xt, yt = test.tensors
    assert x.shape == (1347, 1, 8, 8) and xt.shape == (450, 1, 8, 8)
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and yt.dtype == torch.int64
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1.0) < 1e-3
    assert set(y.tolist()) == set(range(10)) and set(yt.tolist()) == set(range(10))


def test_digits_split_is_a_partition_of_the_sklearn_images():
    from sklearn.datasets import load_digits

    train, test = load_digits_data(test_fraction=0.5, random_state=3)
    x = torch.cat([train.tensors[0], test.tensors[0]]).reshape(1797, -1).double().numpy()
    y = torch.cat([train.tensors[1], test.tensors[1]]).numpy()
    # undo the scalar standardisation: raw pixels are the integers 0 ... 16
    values = np.unique(np.round(x, 5))
    unit = np.min(np.diff(values))
    raw_back = np.round((x - values[0]) / unit).astype(int)
    raw = load_digits()
    expected = np.c_[raw.images.reshape(1797, -1).astype(int), raw.target]
    got = np.c_[raw_back, y]
    assert np.array_equal(np.unique(expected, axis=0, return_counts=True)[1].sum(), 1797)
    assert np.array_equal(expected[np.lexsort(expected.T)], got[np.lexsort(got.T)])


def test_digits_deterministic_and_seed_dependent():
    a, _ = load_digits_data(random_state=1, label_noise=0.2)
    b, _ = load_digits_data(random_state=1, label_noise=0.2)
    c, _ = load_digits_data(random_state=2, label_noise=0.2)
    assert all(torch.equal(s, t) for s, t in zip(a.tensors, b.tensors))
    assert not torch.equal(a.tensors[0], c.tensors[0])


def test_digits_label_noise_only_on_training_labels():
    clean_train, clean_test = load_digits_data(random_state=5)
    noisy_train, noisy_test = load_digits_data(random_state=5, label_noise=0.5)
    assert torch.equal(clean_train.tensors[0], noisy_train.tensors[0])
    assert torch.equal(clean_test.tensors[1], noisy_test.tensors[1])
    changed = float((clean_train.tensors[1] != noisy_train.tensors[1]).float().mean())
    assert 0.40 < changed < 0.50  # expected 0.5 * 0.9 = 0.45, sd 0.014


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.0, 1.0), seed=st.integers(0, 2**32))
def test_label_noise_rate_matches_the_uniform_redraw(p, seed):
    n = 20_000
    labels = np.arange(n, dtype=np.int64) % 10
    noisy = noisy_labels(labels, p, seed, 10)
    n_changed = int(np.sum(noisy != labels))
    expected = 0.9 * p  # a redraw keeps the label with probability 1/10
    # two-sided binomial tail probability of the observed count
    assert min(binom.cdf(n_changed, n, expected), binom.sf(n_changed - 1, n, expected)) > 1e-7
    changed = n_changed / n
    assert noisy.min() >= 0 and noisy.max() <= 9
    # the replacement is uniform: among changed labels no class dominates
    if changed > 0.3:
        counts = np.bincount(noisy[noisy != labels], minlength=10) / np.sum(noisy != labels)
        assert np.all(np.abs(counts - 0.1) < 0.03)


def test_label_noise_is_nested_across_rates():
    labels = np.arange(5000, dtype=np.int64) % 10
    low, high = noisy_labels(labels, 0.1, 7, 10), noisy_labels(labels, 0.3, 7, 10)
    assert np.all(high[low != labels] == low[low != labels])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"test_fraction": 0.0}, ValueError, "test_fraction"),
    ({"test_fraction": 1.0}, ValueError, "0 < test_fraction < 1"),
    ({"test_fraction": "0.2"}, TypeError, "test_fraction"),
    ({"label_noise": 1.5}, ValueError, "label_noise"),
    ({"label_noise": -0.1}, ValueError, "label_noise"),
    ({"random_state": -1}, ValueError, "random_state"),
    ({"random_state": 1.5}, TypeError, "random_state"),
])
def test_digits_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits_data(**kwargs)


# ------------------------------------------------------------------ train_classifier
def test_training_learns_digits(digits):
    train, test = digits
    torch.manual_seed(0)
    trained = train_classifier(small_cnn(4), train, epochs=3, batch_size=32, random_state=0,
                               device="cpu")
    assert _accuracy(trained, test) > 0.85
    assert not trained.training and all(not m.training for m in trained.modules())
    assert all(p.grad is None for p in trained.parameters())


def test_training_is_deterministic_and_seed_dependent(digits):
    train, _ = digits
    torch.manual_seed(0)
    model = small_cnn(2)
    runs = [train_classifier(model, train, epochs=1, batch_size=64, random_state=s,
                             device="cpu") for s in (4, 4, 5)]
    a, b, c = (r.state_dict() for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_training_leaves_the_callers_model_and_global_rng_alone():
    model = model_with_batchnorm_and_dropout()
    before = snapshot(model)
    rng_before = torch.random.get_rng_state()
    trained = train_classifier(model, _tiny_data(), epochs=2, batch_size=8, random_state=0,
                               device="cpu")
    assert_unchanged(model, before)
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    assert trained is not model
    assert not torch.equal(trained[0].weight, model[0].weight)


def test_lowest_train_loss_checkpoint_is_no_worse_than_last(digits):
    train, _ = digits
    torch.manual_seed(1)
    model = small_cnn(2)

    def train_loss(m):
        x, y = train.tensors
        with torch.no_grad():
            return float(nn.functional.cross_entropy(m(x), y))

    kwargs = dict(epochs=4, batch_size=16, lr=0.2, random_state=0, device="cpu")
    last = train_classifier(model, train, **kwargs)
    best = train_classifier(model, train, checkpoint="lowest_train_loss", **kwargs)
    assert train_loss(best) <= train_loss(last) + 1e-6


def test_diverging_training_warns():
    data = _tiny_data()
    model = nn.Linear(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow inside torch is not ours to report
        with pytest.warns(RuntimeWarning, match="Lower the learning rate"):
            train_classifier(model, data, epochs=3, batch_size=4, lr=1e30, momentum=0.0,
                             device="cpu", random_state=0)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"epochs": 0}, ValueError, "epochs >= 1"),
    ({"epochs": 1.0}, TypeError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size >= 1"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"momentum": 1.0}, ValueError, "momentum < 1"),
    ({"weight_decay": -1.0}, ValueError, "weight_decay"),
    ({"checkpoint": "best"}, ValueError, "checkpoint"),
    ({"device": "gpu"}, ValueError, "device"),
    ({"random_state": "0"}, TypeError, "random_state"),
])
def test_training_bad_settings(kwargs, error, match):
    settings_ = {"epochs": 1, "batch_size": 8, "device": "cpu", **kwargs}
    with pytest.raises(error, match=match):
        train_classifier(nn.Linear(4, 3), _tiny_data(), **settings_)


def test_training_bad_model_data_and_labels():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        train_classifier("model", _tiny_data(), epochs=1, batch_size=8)
    with pytest.raises(TypeError, match="Dataset"):
        train_classifier(nn.Linear(4, 3), torch.zeros(4, 4), epochs=1, batch_size=8)
    bad = TensorDataset(torch.randn(8, 4), torch.full((8,), 5))
    with pytest.raises(ValueError, match="labels in"):
        train_classifier(nn.Linear(4, 3), bad, epochs=1, batch_size=8, device="cpu")


# ------------------------------------------------------------------ build_collection
def _mlp(width):
    return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 3))


def _blobs(n, seed):
    """Three separable-ish classes in 4-d."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, 4, generator=g) + 2.0 * nn.functional.one_hot(y, 4).float()
    return TensorDataset(x, y)


GRID = dict(widths=[2, 4], batch_sizes=[8, 32], data_fractions=[0.5, 1.0], seeds=[0, 1])


def _build(folder, train=None, test=None, **kwargs):
    settings = {**GRID, "epochs": 1, "device": "cpu", "progress": False, **kwargs}
    return build_collection(_mlp, train or _blobs(60, 0), test or _blobs(30, 1),
                            output_dir=folder, **settings)


def _states(collection):
    return {path.relative_to(collection.output_dir).as_posix(): load_checkpoint(path)
            for cfg in collection.configurations() for path in cfg.checkpoints}


def test_collection_tables_files_and_labels(tmp_path):
    collection = _build(tmp_path / "c")
    table, members = collection.table, collection.members
    assert len(table) == 8 and len(members) == 16
    for column in ("rfi_width", "rfi_data", "rfi_inc_temp", "rfi_dec_temp",
                   "bs_failure", "width_vs_batch", "data_vs_batch"):
        assert column in table.columns and table[column].notna().all()
    assert set(table["bs_failure"]) <= {"small", "large", "optimal"}
    # the configuration table is the seed mean of the member table
    means = members.groupby(["width", "bs", "data"])["test_acc"].mean().to_numpy()
    assert np.allclose(table.sort_values(["width", "bs", "data"])["test_acc"], means)
    assert set(table["n_models"]) == {2}
    assert sorted(table["data_amount"].unique()) == [30, 60]
    assert table.loc[table["data"] == 0.5, "epochs"].eq(2).all()  # constant steps
    assert table["para_amount"].tolist() == [sum(p.numel() for p in _mlp(w).parameters())
                                             for w in table["width"]]
    # the files say the same as the returned tables
    folder = collection.output_dir
    assert pd.read_csv(folder / "configurations.csv").shape == table.shape
    assert pd.read_csv(folder / "members.csv")["checkpoint"].tolist() == members["checkpoint"].tolist()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["settings"]["n_classes"] == 3 and manifest["grid"]["seeds"] == [0, 1]
    assert not list(folder.rglob("*.tmp"))


def test_checkpoints_reload_to_the_recorded_accuracy(tmp_path):
    collection = _build(tmp_path / "c")
    test = _blobs(30, 1)
    for row in collection.members.itertuples():
        model = _mlp(row.width)
        model.load_state_dict(load_checkpoint(collection.output_dir / row.checkpoint))
        assert _accuracy(model.eval(), test) * 100 == pytest.approx(row.test_acc, abs=1e-9)
    cfg = collection.configurations()[0]
    assert [p.name for p in cfg.checkpoints] == ["seed0.safetensors", "seed1.safetensors"]
    assert cfg.checkpoints == tuple(collection.member_paths(cfg.width, cfg.batch_size,
                                                            cfg.data_fraction))


def test_collection_is_deterministic(tmp_path):
    a, b = _build(tmp_path / "a"), _build(tmp_path / "b")
    state_a, state_b = _states(a), _states(b)
    assert state_a.keys() == state_b.keys()
    assert all(torch.equal(state_a[k][n], state_b[k][n]) for k in state_a for n in state_a[k])
    assert a.table.equals(b.table)


def test_resume_retrains_nothing(tmp_path, monkeypatch):
    first = _build(tmp_path / "c")
    files = sorted((tmp_path / "c" / "models").rglob("*.safetensors"))
    stamps = [f.stat().st_mtime_ns for f in files]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished model was retrained")

    monkeypatch.setattr(_build_module, "train_classifier", no_training)
    again = _build(tmp_path / "c")
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert again.table.equals(first.table) and again.members.equals(first.members)


def test_interrupted_build_resumes_to_the_same_collection(tmp_path, monkeypatch):
    reference = _build(tmp_path / "reference")
    calls = []
    real = _build_module.train_classifier

    def interrupted(*args, **kwargs):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_build_module, "train_classifier", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path / "c")
    assert len(list((tmp_path / "c" / "models").rglob("*.safetensors"))) == 5
    calls.clear()
    monkeypatch.setattr(_build_module, "train_classifier",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    resumed = _build(tmp_path / "c")
    assert len(calls) == 11
    assert resumed.table.equals(reference.table)
    state, expected = _states(resumed), _states(reference)
    assert all(torch.equal(state[k][n], expected[k][n]) for k in expected for n in expected[k])


def test_extending_the_grid_trains_only_the_new_members(tmp_path, monkeypatch):
    _build(tmp_path / "c")
    calls = []
    real = _build_module.train_classifier
    monkeypatch.setattr(_build_module, "train_classifier",
                        lambda *a, **k: calls.append(k["random_state"]) or real(*a, **k))
    extended = _build(tmp_path / "c", seeds=[0, 1, 2])
    assert sorted(set(calls)) == [2] and len(calls) == 8
    assert set(extended.table["n_models"]) == {3}
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["grid"]["seeds"] == [0, 1, 2]


@pytest.mark.parametrize(("change", "match"), [
    ({"lr": 0.1}, "lr: recorded 0.05, got 0.1"),
    ({"epochs": 2}, "epochs: recorded 1, got 2"),
    ({"label_noise": 0.1}, "label_noise"),
    ({"epoch_scaling": "constant_epochs"}, "epoch_scaling"),
    ({"checkpoint": "lowest_train_loss"}, "checkpoint"),
    ({"train": _blobs(60, 5)}, "train_fingerprint"),
])
def test_manifest_refuses_other_settings(tmp_path, change, match):
    _build(tmp_path / "c")
    with pytest.raises(ValueError, match=match):
        _build(tmp_path / "c", **change)


@pytest.mark.parametrize("text", ["{not json", '{"settings": {}}', '{"format": "other/9", '
                                  '"settings": {}, "checkpoint_format": "torch", '
                                  '"parameters": {}, "grid": {}}'])
def test_unreadable_manifest_is_refused_and_kept(tmp_path, text):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "manifest.json").write_text(text)
    with pytest.raises(ValueError, match="collection manifest"):
        _build(tmp_path / "c")
    assert (tmp_path / "c" / "manifest.json").read_text() == text
    assert not (tmp_path / "c" / "models").exists()


def test_manifest_refuses_another_architecture(tmp_path):
    _build(tmp_path / "c")
    with pytest.raises(ValueError, match="parameters recorded"):
        build_collection(lambda w: _mlp(w + 1), _blobs(60, 0), _blobs(30, 1),
                         output_dir=tmp_path / "c", epochs=1, device="cpu", progress=False,
                         **GRID)


def test_non_collection_folder_is_left_alone(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="holds other files"):
        _build(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_label_noise_is_fixed_per_collection(tmp_path, digits):
    train, test = digits
    before = train.tensors[1].clone()
    collection = build_collection(
        small_cnn, train, test, widths=[2], batch_sizes=[256], data_fractions=[0.5, 1.0],
        seeds=[0], output_dir=tmp_path / "c", epochs=1, label_noise=0.1, random_state=0,
        device="cpu", progress=False)
    assert torch.equal(train.tensors[1], before)  # the caller's data is untouched
    full, half = collection.training_data(1.0), collection.training_data(0.5)
    reference, _ = load_digits_data(label_noise=0.1, random_state=0)
    assert torch.equal(full.tensors[1], reference.tensors[1])
    assert torch.equal(half.tensors[1], full.tensors[1][:674])
    assert torch.equal(half.tensors[0], train.tensors[0][:674])
    # the recorded train accuracy is measured on exactly these noisy labels
    row = collection.members.iloc[0]
    model = small_cnn(2)
    model.load_state_dict(load_checkpoint(collection.output_dir / row["checkpoint"]))
    subset = collection.training_data(row["data"])
    assert _accuracy(model.eval(), subset) * 100 == pytest.approx(row["train_acc"], abs=1e-9)


def test_training_subset_keeps_the_first_samples_and_checks_input(digits):
    train, _ = digits
    subset = training_subset(train, 0.1)
    assert len(subset) == 135 and torch.equal(subset.tensors[0], train.tensors[0][:135])
    with pytest.raises(ValueError, match="n_classes"):
        training_subset(train, 0.5, label_noise=0.1)
    with pytest.raises(ValueError, match="at least 2"):
        training_subset(train, 0.0005)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        training_subset(train, 1.5)
    with pytest.raises(ValueError, match="labels in"):
        training_subset(train, 1.0, n_classes=5)


def test_torch_save_format_when_safetensors_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(_manifest_module, "default_checkpoint_format", lambda: "torch")
    collection = _build(tmp_path / "c", seeds=[0])
    paths = [p for cfg in collection.configurations() for p in cfg.checkpoints]
    assert all(p.suffix == ".pt" for p in paths)
    model = _mlp(collection.members["width"].iloc[0])
    model.load_state_dict(load_checkpoint(paths[0]))


def test_parallel_build_matches_the_serial_one(tmp_path):
    serial = _build(tmp_path / "serial", seeds=[0])
    parallel = _build(tmp_path / "parallel", seeds=[0], n_jobs=2)
    assert parallel.table.equals(serial.table)


def test_progress_bar(tmp_path, capsys):
    _build(tmp_path / "c", seeds=[0], progress=True)
    assert "training models" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"widths": 4}, TypeError, "widths to be a list"),
    ({"widths": []}, ValueError, "at least one value in widths"),
    ({"widths": [2, 2]}, ValueError, "distinct values in widths"),
    ({"widths": [0]}, ValueError, "widths >= 1"),
    ({"batch_sizes": [8.0]}, TypeError, "batch_sizes"),
    ({"data_fractions": [0.0]}, ValueError, r"\(0, 1\]"),
    ({"data_fractions": ["1"]}, TypeError, "data_fractions"),
    ({"data_fractions": [0.5, 0.501]}, ValueError, "distinct numbers of samples"),
    ({"data_fractions": [0.01]}, ValueError, "at least 2"),
    ({"seeds": [-1]}, ValueError, "random_state"),
    ({"epochs": 0}, ValueError, "epochs >= 1"),
    ({"epoch_scaling": "steps"}, ValueError, "epoch_scaling"),
    ({"lr": -1.0}, ValueError, "lr"),
    ({"momentum": 1.0}, ValueError, "momentum < 1"),
    ({"checkpoint": "best"}, ValueError, "checkpoint"),
    ({"label_noise": 2.0}, ValueError, "label_noise"),
    ({"random_state": None}, ValueError, "random_state to be an int"),
    ({"n_jobs": 0}, ValueError, "n_jobs"),
    ({"n_jobs": 1.5}, TypeError, "n_jobs"),
    ({"device": "tpu"}, ValueError, "device"),
    ({"output_dir": 3}, TypeError, "output_dir"),
])
def test_build_collection_bad_input(tmp_path, change, error, match):
    settings = {**GRID, "epochs": 1, "device": "cpu", "progress": False,
                "output_dir": tmp_path / "c", **change}
    with pytest.raises(error, match=match):
        build_collection(_mlp, _blobs(60, 0), _blobs(30, 1), **settings)
    assert not (tmp_path / "c").exists()


def test_build_collection_bad_model_and_data(tmp_path):
    kwargs = {**GRID, "epochs": 1, "device": "cpu", "progress": False,
              "output_dir": tmp_path / "c"}
    with pytest.raises(TypeError, match="build_model to be callable"):
        build_collection("mlp", _blobs(60, 0), _blobs(30, 1), **kwargs)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        build_collection(lambda w: "model", _blobs(60, 0), _blobs(30, 1), **kwargs)
    with pytest.raises(TypeError, match="test_data"):
        build_collection(_mlp, _blobs(60, 0), [1, 2], **kwargs)
    bad_labels = TensorDataset(torch.randn(30, 4), torch.full((30,), 7))
    with pytest.raises(ValueError, match="test_data labels in"):
        build_collection(_mlp, _blobs(60, 0), bad_labels, **kwargs)
    float_labels = TensorDataset(torch.randn(30, 4), torch.zeros(30))
    with pytest.raises(ValueError, match="integer class label"):
        build_collection(_mlp, _blobs(60, 0), float_labels, **kwargs)
    with pytest.raises(ValueError, match="integer class label"):
        build_collection(_mlp, float_labels, _blobs(30, 1), **kwargs)
    with pytest.raises(ValueError, match="labels in"):
        build_collection(_mlp, bad_labels, _blobs(30, 1), **kwargs)
    assert not (tmp_path / "c").exists()


def test_lost_metrics_file_is_rebuilt_from_the_checkpoint(tmp_path, monkeypatch):
    first = _build(tmp_path / "c")
    lost = tmp_path / "c" / first.members["checkpoint"].iloc[3]
    lost.with_suffix(".json").unlink()
    monkeypatch.setattr(_build_module, "train_classifier",
                        lambda *a, **k: pytest.fail("a finished model was retrained"))
    again = _build(tmp_path / "c")
    assert lost.with_suffix(".json").is_file()
    assert np.allclose(again.members[["test_acc", "train_acc"]],
                       first.members[["test_acc", "train_acc"]], rtol=0, atol=1e-9)


def test_md_sklearn_does_not_import_collections_or_torch():
    code = ("import sys, md_sklearn; "
            "print('md_sklearn.collections' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


def test_clear_import_error_without_torch():
    # as on an installation without the torch extra
    message = import_message_without("torch", "md_sklearn.collections")
    assert "md_sklearn.collections needs torch" in message
    assert 'pip install "md-sklearn[torch]"' in message
