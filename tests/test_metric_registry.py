"""The metric registry is the one table: every lookup follows it, and a new entry just works."""

import math

import pytest

import extractors
from md_sklearn import LandscapeFeaturizer
from md_sklearn._featurizer import _cache, _metrics
from md_sklearn._featurizer._metrics import (
    UNITS,
    eval_columns,
    metric_names,
    unit_named,
    unit_of,
)
from tests import _extra_metric
from tests._landscape_groups import FAST, cnn_group


def test_lookups_are_derived_from_the_registry():
    assert metric_names() == tuple(c for unit in UNITS for c in unit.columns)
    assert metric_names() == ("train_error", "train_loss", "test_error", "test_loss",
                              "hessian_t", "hessian_e", "mode_connectivity_peak", "CKA")
    assert eval_columns() == ("test_error", "test_loss")
    assert {u.name for u in UNITS if u.pairwise} == {"connectivity", "cka"}
    assert {u.name for u in UNITS if u.random} == {"hessian_t", "hessian_e", "connectivity", "cka"}
    for unit in UNITS:
        assert unit_named(unit.name) is unit
        assert all(unit_of(column) is unit for column in unit.columns)
        assert all(callable(getattr(extractors, name)) for name in unit.extractors)
    assert unit_of("not_a_metric") is None
    with pytest.raises(KeyError, match="expected a metric unit among"):
        unit_named("nope")


@pytest.fixture
def registered(monkeypatch):
    """The extra metric added the documented way: its function and one registry entry."""
    monkeypatch.setattr(extractors, "weight_norm", _extra_metric.weight_norm, raising=False)
    monkeypatch.setattr(_metrics, "UNITS", (*_metrics.UNITS, _extra_metric.WEIGHT_NORM))
    _cache.code_fingerprint.cache_clear()
    yield
    _cache.code_fingerprint.cache_clear()


def test_one_registry_entry_adds_a_metric(registered, tmp_path):
    group = cnn_group("g", 1)
    featurizer = LandscapeFeaturizer(["train_error", "weight_norm"], cache_dir=tmp_path, **FAST)
    table = featurizer.fit_transform([group])
    assert list(table.columns) == ["train_error", "weight_norm"]
    expected = sum(math.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in m.parameters()))
                   for m in group.members) / len(group.members)
    assert table.loc["g", "weight_norm"] == pytest.approx(expected, rel=1e-12)
    # cached under its own unit, and the registered function's file is fingerprinted
    assert len(list(tmp_path.glob("weight_norm-*.json"))) == 1
    assert any(p.name == "_extra_metric.py" for p in _cache.metric_sources())


def test_without_the_entry_the_metric_is_unknown():
    with pytest.raises(ValueError, match="expected metric names among"):
        LandscapeFeaturizer(["weight_norm"], **FAST).fit([cnn_group("g", 1)])


def test_registering_a_metric_changes_the_code_fingerprint(monkeypatch):
    _cache.code_fingerprint.cache_clear()
    before = _cache.code_fingerprint()
    monkeypatch.setattr(extractors, "weight_norm", _extra_metric.weight_norm, raising=False)
    monkeypatch.setattr(_metrics, "UNITS", (*_metrics.UNITS, _extra_metric.WEIGHT_NORM))
    _cache.code_fingerprint.cache_clear()
    try:
        assert _cache.code_fingerprint() != before
    finally:
        _cache.code_fingerprint.cache_clear()
