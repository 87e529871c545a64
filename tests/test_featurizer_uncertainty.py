"""LandscapeFeaturizer(return_uncertainty=True): one ``<column>_se`` per metric, computed in
the registry's units, cached with the values, off by default (docs/featurizer.rst)."""

import math
import warnings

import numpy as np
import pytest

import extractors
from md_sklearn import LandscapeFeaturizer
from md_sklearn._featurizer import _worker
from tests._landscape_groups import FAST, cnn_group, digits, trained_cnn

METRICS = ["train_error", "hessian_t", "CKA", "mode_connectivity_peak"]
SE = [f"{m}_se" for m in METRICS]


@pytest.fixture(scope="module")
def group():
    return cnn_group("g", 3)


def test_off_by_default_the_columns_are_the_published_ones(group):
    plain = LandscapeFeaturizer(METRICS, **FAST).fit([group])
    assert list(plain.feature_names_out_) == METRICS
    assert LandscapeFeaturizer().get_params()["return_uncertainty"] is False


def test_uncertainty_columns_follow_the_metrics_and_leave_the_values_alone(group):
    plain = LandscapeFeaturizer(METRICS, **FAST).fit_transform([group])
    with pytest.warns(UserWarning, match="mode_connectivity_peak_se is NaN.*one curve"):
        featurizer = LandscapeFeaturizer(METRICS, return_uncertainty=True, **FAST).fit([group])
    table = featurizer.transform([group])
    assert list(table.columns) == METRICS + SE
    np.testing.assert_array_equal(table[METRICS].to_numpy(), plain.to_numpy())
    assert (table[["train_error_se", "hessian_t_se", "CKA_se"]] > 0).all(axis=None)
    assert math.isnan(table.loc["g", "mode_connectivity_peak_se"])  # one curve: unknown
    # train_error_se: the spread over the members over sqrt(n)
    errors = [extractors.error_and_loss(trained_cnn(3, s), digits()[0], device="cpu").value
              for s in (0, 1)]
    assert table.loc["g", "train_error_se"] == pytest.approx(np.std(errors, ddof=1) / math.sqrt(2))


def test_switching_it_on_reuses_the_cache(group, tmp_path, monkeypatch):
    settings = dict(FAST, cache_dir=tmp_path)
    plain = LandscapeFeaturizer(["hessian_t", "CKA"], **settings).fit_transform([group])

    def refuse(task):
        raise AssertionError("recomputed a cached unit")

    monkeypatch.setattr(_worker, "compute_group", refuse)
    table = LandscapeFeaturizer(["hessian_t", "CKA"], return_uncertainty=True,
                                **settings).fit_transform([group])
    np.testing.assert_array_equal(table[["hessian_t", "CKA"]].to_numpy(), plain.to_numpy())
    assert table[["hessian_t_se", "CKA_se"]].notna().all(axis=None)


def test_connectivity_se_over_several_pairs(tmp_path):
    three = cnn_group("three", 3, seeds=(0, 1, 2))
    table = LandscapeFeaturizer(["mode_connectivity_peak"], connectivity_pairs="all",
                                return_uncertainty=True, **FAST).fit_transform([three])
    assert list(table.columns) == ["mode_connectivity_peak", "mode_connectivity_peak_std",
                                   "mode_connectivity_peak_se"]
    # the std column is the population spread over the 3 pairs: se = std / sqrt(n - 1)
    assert table.iloc[0, 2] == pytest.approx(table.iloc[0, 1] / math.sqrt(2))


def _se_over_seed_spread(group, settings, n_seeds):
    """RMS of hessian_t_se over seeds, divided by the spread of hessian_t over them."""
    rows = [LandscapeFeaturizer(["hessian_t"], return_uncertainty=True,
                                **dict(settings, random_state=seed)).fit_transform([group])
            for seed in range(n_seeds)]
    values = np.array([r.iloc[0, 0] for r in rows])
    se = np.array([r.iloc[0, 1] for r in rows])
    return np.sqrt(np.mean(se ** 2)) / np.std(values, ddof=1)


def test_delta_method_hessian_t_se_matches_the_spread_of_log_traces():
    group = cnn_group("h", 3)
    # the batch is the whole training set, so only the probes change with the seed
    settings = dict(FAST, hessian_n_samples=len(digits()[0]), hessian_max_probes=8,
                    hessian_rtol=0.0)
    ratio = _se_over_seed_spread(group, settings, 40)
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_several_hessian_batches_put_the_batch_draw_into_hessian_t_se():
    group = cnn_group("b", 2)
    # small batches of the training set: the batch draw moves hessian_t between seeds;
    # hessian_n_batches=4 makes hessian_t_se cover it
    settings = dict(FAST, hessian_n_samples=16, hessian_max_probes=6, hessian_rtol=0.0,
                    hessian_n_batches=4)
    ratio = _se_over_seed_spread(group, settings, 30)
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_hessian_n_batches_enters_the_cache_key_only_above_one(group, tmp_path):
    settings = dict(FAST, random_state=0, cache_dir=tmp_path)
    one = LandscapeFeaturizer(["hessian_t"], **settings).fit_transform([group])
    same = LandscapeFeaturizer(["hessian_t"], hessian_n_batches=1, **settings)
    assert same.fit_transform([group]).equals(one)
    assert len(list(tmp_path.glob("hessian_t-*.json"))) == 1
    LandscapeFeaturizer(["hessian_t"], hessian_n_batches=2, **settings).fit_transform([group])
    assert len(list(tmp_path.glob("hessian_t-*.json"))) == 2
    with pytest.raises(ValueError, match="hessian_n_batches"):
        LandscapeFeaturizer(["hessian_t"], hessian_n_batches=0).fit([group])
    with pytest.raises(ValueError, match="hessian_n_batches=1 with hessian_target_se"):
        LandscapeFeaturizer(["hessian_t"], hessian_n_batches=2,
                            hessian_target_se=0.05).fit([group])


def test_meta_may_not_take_an_uncertainty_column_name(group):
    from md_sklearn import ModelGroup

    named = ModelGroup(group.members, group.data, name="m", meta={"CKA_se": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=r"meta keys that differ from the metric columns"):
            LandscapeFeaturizer(["CKA"], return_uncertainty=True, **FAST).fit([named])
