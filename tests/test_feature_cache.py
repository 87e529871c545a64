"""The feature cache: content keys, atomic writes, reuse, and resuming a killed run."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

from md_sklearn import LandscapeFeaturizer, ModelGroup
from md_sklearn._featurizer import _cache as _feature_cache
from md_sklearn._featurizer import _worker as _group_features
from md_sklearn._featurizer._cache import FeatureCache, metric_modules, metric_sources
from md_sklearn._featurizer._keys import ContentKeys, derive_seed
from md_sklearn._featurizer._metrics import UNITS
from tests._landscape_groups import FAST, build_cnn, digits, saved_group, torch_threads

REPO = Path(__file__).resolve().parent.parent
METRICS = ("train_error", "hessian_t", "CKA")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread, as in the parallel workers: tiny models gain nothing from more,
    a shared machine loses much, and values compared across processes match exactly."""
    with torch_threads(1):
        yield


def featurizer(cache_dir, metrics=METRICS, **kwargs):
    return LandscapeFeaturizer(metrics, **{**FAST, "cache_dir": cache_dir, **kwargs})


@pytest.fixture()
def counted(monkeypatch):
    """``calls``: (group, units) of every group the featurizer actually computes."""
    calls = []
    compute = _group_features.compute_group

    def counting(task):
        calls.append((task.label, task.units))
        return compute(task)

    monkeypatch.setattr(_group_features, "compute_group", counting)
    return calls


@pytest.fixture()
def groups(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    return [saved_group(folder, f"g{i}", 0, seeds=(2 * i, 2 * i + 1)) for i in range(3)]


def cache_files(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# --- reuse ----------------------------------------------------------------------------------------
def test_rerun_reads_everything_from_the_cache(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    first = featurizer(cache).fit_transform(groups)
    assert len(counted) == 3
    names = cache_files(cache)
    assert len(names) == 9 and all(n.endswith(".json") for n in names)
    assert {n.split("-")[0] for n in names} == {"train", "hessian_t", "cka"}
    stamps = {n: (cache / n).stat().st_mtime_ns for n in names}
    counted.clear()
    again = featurizer(cache).fit_transform(groups)
    assert counted == []
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert cache_files(cache) == names
    assert {n: (cache / n).stat().st_mtime_ns for n in names} == stamps  # nothing rewritten


def test_keys_follow_content_not_names_or_paths(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    first = featurizer(cache).fit_transform(groups)
    moved = tmp_path / "moved"
    moved.mkdir()
    copies = []
    for i, group in enumerate(groups):
        paths = [shutil.copy(p, moved / f"renamed-{i}-{j}.pt") for j, p in enumerate(group.members)]
        copies.append(ModelGroup(paths, digits()[0], build_model=build_cnn, name=f"new{i}"))
    counted.clear()
    again = featurizer(cache).fit_transform(copies)
    assert counted == []
    np.testing.assert_array_equal(again.to_numpy(), first.to_numpy())


def test_only_what_an_option_changes_is_recomputed(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    featurizer(cache).fit_transform(groups)
    counted.clear()
    featurizer(cache, hessian_max_probes=4).fit_transform(groups)
    assert sorted(counted) == [("g0", ("hessian_t",)), ("g1", ("hessian_t",)),
                               ("g2", ("hessian_t",))]
    counted.clear()
    featurizer(cache, random_state=1).fit_transform(groups)  # train_error has no randomness
    assert sorted(counted) == [(f"g{i}", ("hessian_t", "cka")) for i in range(3)]
    counted.clear()
    featurizer(cache, METRICS + ("train_loss", "hessian_e")).fit_transform(groups)
    assert sorted(counted) == [(f"g{i}", ("hessian_e",)) for i in range(3)]
    counted.clear()  # settings that do not change the values keep the keys
    featurizer(cache, progress=True, device="auto", on_error="nan",
               connectivity_pairs="all", curve_epochs=3).fit_transform(groups)
    assert counted == []


def test_a_changed_checkpoint_is_recomputed(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    first = featurizer(cache).fit_transform(groups)
    state = torch.load(groups[1].members[0], weights_only=True)
    state["linear.bias"] = state["linear.bias"] + 1.0
    torch.save(state, groups[1].members[0])
    counted.clear()
    second = featurizer(cache).fit_transform(groups)
    assert counted == [("g1", ("train", "hessian_t", "cka"))]
    pd.testing.assert_frame_equal(second.drop(index="g1"), first.drop(index="g1"))
    assert not second.loc["g1"].equals(first.loc["g1"])


def test_unseeded_runs_reuse_the_first_values(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    first = featurizer(cache, random_state=None).fit_transform(groups)
    counted.clear()
    pd.testing.assert_frame_equal(featurizer(cache, random_state=None).fit_transform(groups),
                                  first)
    assert counted == []


def test_a_failed_group_leaves_nothing_and_finished_ones_stay(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    x, y = digits()[0].tensors
    wrong_labels = TensorDataset(x, y + 20)  # beyond the 10 classes: fails while computing
    groups[2] = ModelGroup(groups[2].members, wrong_labels, build_model=build_cnn, name="g2")
    with pytest.raises(ValueError, match=r"group 'g2'"):
        featurizer(cache).fit_transform(groups)
    written = {json.loads((cache / n).read_text())["group"] for n in cache_files(cache)}
    assert written == {"g0", "g1"} and len(cache_files(cache)) == 6


def test_an_unreadable_checkpoint_stops_the_run_before_any_work(groups, tmp_path, counted):
    """Checkpoints are read when the content keys are made (issue 14, point 2), so a
    truncated file is reported at once, not after the groups before it were computed."""
    cache = tmp_path / "cache"
    bad = Path(groups[2].members[1])
    bad.write_bytes(bad.read_bytes()[:64])
    with pytest.raises(ValueError, match=r"group 'g2', member 1 .*complete checkpoint"):
        featurizer(cache).fit_transform(groups)
    assert counted == [] and cache_files(cache) == []


def test_damaged_cache_files_are_recomputed(groups, tmp_path, counted):
    cache = tmp_path / "cache"
    first = featurizer(cache).fit_transform(groups)
    victim = cache / cache_files(cache)[0]
    victim.write_text('{"format": 1, "key": ')
    counted.clear()
    again = featurizer(cache).fit_transform(groups)
    assert len(counted) == 1
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert json.loads(victim.read_text())["format"] == 1


# --- the folder -----------------------------------------------------------------------------------
def test_unwritable_cache_dir_is_refused_before_any_work(groups, tmp_path, counted):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    for folder in (a_file, a_file / "cache"):
        with pytest.raises(ValueError, match=r"expected cache_dir to be a folder this process "
                                             r"can create and write to, got '.*notes\.txt.*'"):
            featurizer(folder).fit_transform(groups)
    assert counted == [] and a_file.read_text() == "mine"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write to a read-only folder")
def test_read_only_cache_dir_is_refused(groups, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="Permission denied"):
            featurizer(folder).fit_transform(groups)
    finally:
        folder.chmod(0o700)


def test_writes_are_atomic_and_user_files_untouched(groups, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    mine = cache / "README.md"
    mine.write_text("my notes")
    stamp = mine.stat().st_mtime_ns

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        featurizer(cache).fit_transform(groups)
    assert cache_files(cache) == ["README.md"]  # no half-written entry, no temporary left
    assert mine.read_text() == "my notes" and mine.stat().st_mtime_ns == stamp


def test_cache_keeps_the_values_exactly(tmp_path):
    cache = FeatureCache(tmp_path)
    values = {"a": 0.1 + 0.2, "b": -1e-300, "c": float("nan"), "d": 123456789.123456789}
    cache.put("unit", "f" * 64, values, "g")
    back = cache.get("unit", "f" * 64)
    assert back["a"] == values["a"] and back["b"] == values["b"] and back["d"] == values["d"]
    assert np.isnan(back["c"])
    assert cache.get("unit", "e" * 64) is None


def test_metric_code_is_every_module_the_metrics_import():
    import extractors

    folder = Path(extractors.__file__).parent
    found = {path.relative_to(folder).as_posix() for path in metric_sources()}
    # the module defining each extractor the registry names ...
    for unit in UNITS:
        for name in unit.extractors:
            defining = getattr(extractors, name).__module__.split(".")[1:]
            assert any(f.startswith("/".join(defining)) for f in found), (name, found)
    # ... and what they import, down to the shared plumbing and the paper's settings
    assert {"defaults.py", "_results.py"} <= found
    assert not any(f.startswith("_manifold") or f.startswith("expansion") for f in found)


def test_metric_modules_follow_the_registry(monkeypatch):
    import extractors

    modules = metric_modules()
    assert modules == sorted(set(modules))
    assert {getattr(extractors, name).__module__
            for unit in UNITS for name in unit.extractors} == set(modules)


def test_metric_sources_follow_relative_imports_into_subpackages(tmp_path, monkeypatch):
    files = {"_a.py": "from ._b import x\nfrom . import _c, CONSTANT\n",
             "_b.py": "from .sub import y\n", "_c.py": "", "_e.py": "", "_unused.py": "",
             "sub/__init__.py": "from ._d import z\nfrom .. import _e\n", "sub/_d.py": ""}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(_feature_cache, "extractors_folder", lambda: tmp_path)
    found = {path.relative_to(tmp_path).as_posix() for path in metric_sources(["extractors._a"])}
    assert found == {"_a.py", "_b.py", "_c.py", "_e.py", "sub/__init__.py", "sub/_d.py"}


def _fingerprint_of_copy(tmp_path, monkeypatch, change):
    """Fingerprint of a copy of the extractors package, before and after ``change(copy)``."""
    copy = tmp_path / "extractors"
    shutil.copytree(REPO / "extractors", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_feature_cache, "extractors_folder", lambda: copy)
    _feature_cache.code_fingerprint.cache_clear()
    try:
        before = _feature_cache.code_fingerprint()
        change(copy)
        _feature_cache.code_fingerprint.cache_clear()
        return before, _feature_cache.code_fingerprint()
    finally:
        _feature_cache.code_fingerprint.cache_clear()


def test_a_change_to_an_imported_module_changes_the_fingerprint(tmp_path, monkeypatch):
    def edit_deepest_source(copy):
        # the last of the sources (sorted), e.g. a forward-mode rule module of the trace
        target = copy / sorted(p.relative_to(REPO / "extractors").as_posix()
                               for p in _sources_under(REPO / "extractors", monkeypatch))[-1]
        target.write_text(target.read_text() + "\n# changed\n")

    before, after = _fingerprint_of_copy(tmp_path, monkeypatch, edit_deepest_source)
    assert after != before


def _sources_under(folder, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(_feature_cache, "extractors_folder", lambda: folder)
        return metric_sources()


def test_the_same_code_moved_to_another_path_changes_the_fingerprint(tmp_path, monkeypatch):
    # a module moved inside the package is other code: caches made before a move are
    # recomputed once, never silently reused
    (tmp_path / "sub").mkdir()
    for path in (tmp_path / "_a.py", tmp_path / "sub" / "_a.py"):
        path.write_text("VALUE = 1\n")
    monkeypatch.setattr(_feature_cache, "extractors_folder", lambda: tmp_path)
    fingerprints = []
    for where in (tmp_path / "_a.py", tmp_path / "sub" / "_a.py"):
        monkeypatch.setattr(_feature_cache, "metric_sources", lambda where=where: [where])
        _feature_cache.code_fingerprint.cache_clear()
        fingerprints.append(_feature_cache.code_fingerprint())
    _feature_cache.code_fingerprint.cache_clear()
    assert fingerprints[0] != fingerprints[1]


# --- keys and seeds (properties) ----------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(base=st.integers(0, 2**31), parts=st.lists(st.integers(0, 50), max_size=3))
def test_seeds_are_deterministic_and_in_range(base, parts):
    seed = derive_seed(str(base), "k" * 64, "hessian", *parts)
    assert 0 <= seed < 2**63
    assert seed == derive_seed(str(base), "k" * 64, "hessian", *parts)
    assert seed != derive_seed(str(base), "j" * 64, "hessian", *parts)


@settings(max_examples=40, deadline=None)
@given(row=st.integers(0, 19), column=st.integers(0, 2),
       delta=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3))
def test_data_keys_see_every_value(row, column, delta):
    x = torch.arange(60, dtype=torch.float32).reshape(20, 3) / 7
    y = torch.arange(20) % 3
    key = ContentKeys().dataset(TensorDataset(x, y))
    assert ContentKeys().dataset(TensorDataset(x.clone(), y.clone())) == key
    changed = x.clone()
    changed[row, column] += delta
    assert ContentKeys().dataset(TensorDataset(changed, y)) != key
    relabelled = y.clone()
    relabelled[row] = (relabelled[row] + 1) % 3
    assert ContentKeys().dataset(TensorDataset(x, relabelled)) != key


# --- resume after a kill ----------------------------------------------------------------------------
RESUME_SCRIPT = """
import json, sys
import torch
torch.set_num_threads(1)
from md_sklearn import LandscapeFeaturizer, ModelGroup
from tests._landscape_groups import FAST, build_cnn, digits
spec = json.loads(sys.argv[1])
groups = [ModelGroup(paths, digits()[0], build_model=build_cnn, name=name)
          for name, paths in spec["groups"]]
LandscapeFeaturizer(spec["metrics"], cache_dir=spec["cache"],
                    **{**FAST, **spec["options"]}).fit_transform(groups)
print("finished")
"""


def finished_groups(cache, units):
    """Groups whose every unit is in the cache (each file parses: none is half-written)."""
    seen = {}
    for path in Path(cache).glob("*.json"):
        payload = json.loads(path.read_text())
        seen.setdefault(payload["group"], set()).add(payload["unit"])
    return {group for group, done in seen.items() if done == set(units)}


def test_a_killed_run_resumes_where_it_stopped(tmp_path, counted):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    groups = [saved_group(folder, f"g{i}", 0, seeds=(2 * i, 2 * i + 1)) for i in range(6)]
    metrics, options = ["train_error", "mode_connectivity_peak"], {"curve_epochs": 6}
    cache = tmp_path / "cache"
    spec = {"groups": [(g.name, list(g.members)) for g in groups], "metrics": metrics,
            "options": options, "cache": str(cache)}
    process = subprocess.Popen(
        [sys.executable, "-c", RESUME_SCRIPT, json.dumps(spec)], cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    units = ("train", "connectivity")
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if cache.is_dir() and len(finished_groups(cache, units)) >= 3:
                break
            time.sleep(0.005)
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        _, err = process.communicate()
    assert still_running, f"the run ended before it could be killed: {err.decode()[-2000:]}"
    done = finished_groups(cache, units)
    assert 3 <= len(done) < 6

    # one thread here, as in the killed process
    resumed = LandscapeFeaturizer(metrics, cache_dir=cache,
                                  **{**FAST, **options}).fit_transform(groups)
    computed = {label for label, _ in counted}
    assert computed == {g.name for g in groups} - done  # only the rest
    counted.clear()
    uninterrupted = LandscapeFeaturizer(metrics, **{**FAST, **options}).fit_transform(groups)
    assert len(counted) == 6
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)


def test_metric_sources_follow_submodules_named_in_from_imports(tmp_path, monkeypatch):
    files = {"_a.py": "from .pkg import _b\n", "pkg/__init__.py": "", "pkg/_b.py": "",
             "pkg/_c.py": ""}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(_feature_cache, "extractors_folder", lambda: tmp_path)
    found = {path.relative_to(tmp_path).as_posix() for path in metric_sources(["extractors._a"])}
    assert found == {"_a.py", "pkg/__init__.py", "pkg/_b.py"}
