"""A stopping rule on precision: hessian_trace(target_se=..., target_relative_se=...) and
LandscapeFeaturizer(hessian_target_se=...) (docs/extractors.rst, "Stopping rules")."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import extractors
from extractors import hessian_trace
from extractors.defaults import RELATIVE_CHANGE_FLOOR, TRACE_RTOL, TRACE_TARGET_MIN_PROBES
from md_sklearn import LandscapeFeaturizer
from tests._landscape_groups import FAST, cnn_group


def tiny_problem(n=60, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 3)).double()
    g = torch.Generator().manual_seed(seed + 1)
    data = TensorDataset(torch.randn(n, 3, generator=g, dtype=torch.float64),
                         torch.randint(0, 3, (n,), generator=g))
    return model, data


def running_means(model, data, count, seed):
    """m_1..m_count: the first probes are the same draws whatever the stopping rule."""
    return [hessian_trace(model, data, max_probes=k, rtol=0, random_state=seed,
                          device="cpu").value for k in range(1, count + 1)]


def test_without_a_target_the_paper_rule_is_unchanged():
    model, data = tiny_problem()
    for seed in range(3):
        result = hessian_trace(model, data, random_state=seed, device="cpu")
        means = running_means(model, data, result.n_probes, seed)
        changes = [abs(new - old) / (abs(old) + RELATIVE_CHANGE_FLOOR)
                   for new, old in zip(means, [0.0] + means[:-1], strict=True)]
        # it stops at the first probe whose running mean moves by less than rtol
        assert changes[-1] < TRACE_RTOL and all(c >= TRACE_RTOL for c in changes[:-1])
        assert result.value == means[-1] and result.stopped_by == "rtol"
        same = hessian_trace(model, data, target_se=None, target_relative_se=None,
                             random_state=seed, device="cpu")
        assert same == result
    capped = hessian_trace(model, data, max_probes=4, rtol=0, random_state=0, device="cpu")
    assert capped.n_probes == 4 and capped.stopped_by == "max_probes"


def test_target_se_stops_at_the_first_probe_that_reaches_it():
    model, data = tiny_problem()
    plain = hessian_trace(model, data, max_probes=40, rtol=0, random_state=2, device="cpu")
    target = plain.standard_error  # reached by about 40 probes
    result = hessian_trace(model, data, max_probes=1000, target_se=target, random_state=2,
                           device="cpu")
    assert result.stopped_by == "target_se"
    assert result.standard_error <= target
    assert result.n_probes >= TRACE_TARGET_MIN_PROBES
    if result.n_probes > TRACE_TARGET_MIN_PROBES:  # one probe fewer had not reached it
        before = hessian_trace(model, data, max_probes=result.n_probes - 1, rtol=0,
                               random_state=2, device="cpu")
        assert before.standard_error > target
    # the same probes as a fixed-count run of that length: the same estimate
    fixed = hessian_trace(model, data, max_probes=result.n_probes, rtol=0, random_state=2,
                          device="cpu")
    assert fixed.value == result.value
    assert fixed.standard_error == pytest.approx(result.standard_error, rel=1e-12)
    # seeded: the same numbers again
    assert hessian_trace(model, data, max_probes=1000, target_se=target, random_state=2,
                         device="cpu") == result


def test_an_unreached_target_stops_at_max_probes_and_says_so():
    model, data = tiny_problem()
    result = hessian_trace(model, data, max_probes=15, target_se=1e-9, random_state=0,
                           device="cpu")
    assert result.n_probes == 15 and result.stopped_by == "max_probes"
    assert result.standard_error > 1e-9


def test_relative_target_is_the_standard_error_of_the_log():
    model, data = tiny_problem()
    result = hessian_trace(model, data, max_probes=2000, target_relative_se=0.05,
                           random_state=1, device="cpu")
    assert result.stopped_by == "target_se"
    assert result.standard_error <= 0.05 * abs(result.value)


def test_targeted_estimates_spread_as_the_target_says():
    # the batch is the whole data set, so only the probes change with the seed
    model, data = tiny_problem()
    values = [hessian_trace(model, data, max_probes=2000, target_se=0.05, random_state=seed,
                            device="cpu") for seed in range(40)]
    assert all(r.stopped_by == "target_se" and r.standard_error <= 0.05 for r in values)
    spread = np.std([r.value for r in values], ddof=1)
    assert 1 / 1.5 <= spread / 0.05 <= 1.5, spread


@pytest.mark.parametrize("kwargs, error, message", [
    ({"target_se": 0.0}, ValueError, "target_se to be a finite number > 0, got 0.0; pass"),
    ({"target_se": -1}, ValueError, "target_se to be a finite number > 0"),
    ({"target_se": math.inf}, ValueError, "finite number > 0"),
    ({"target_relative_se": math.nan}, ValueError, "target_relative_se to be a finite"),
    ({"target_se": 0.1, "target_relative_se": 0.1}, ValueError, "at most one of"),
    ({"target_se": "0.1"}, TypeError, "target_se to be a real number or None"),
    ({"target_se": True}, TypeError, "target_se to be a real number or None"),
])
def test_bad_targets_are_refused_with_the_fix(kwargs, error, message):
    model, data = tiny_problem()
    with pytest.raises(error, match=message):
        hessian_trace(model, data, device="cpu", **kwargs)


# --- the featurizer -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def group():
    return cnn_group("g", 3)


def test_featurizer_target_reaches_the_extractor_per_member(group, monkeypatch):
    calls = []
    original = extractors.hessian_trace

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(extractors, "hessian_trace", spy)
    settings = dict(FAST, hessian_max_probes=500)
    table = LandscapeFeaturizer(["hessian_t"], hessian_target_se=0.05, return_uncertainty=True,
                                **settings).fit_transform([group])
    # two members: each trace gets the relative target 0.05 * sqrt(2) (delta method)
    assert [c["target_relative_se"] for c in calls] == [pytest.approx(0.05 * math.sqrt(2))] * 2
    assert "target_se" not in calls[0]
    # members with near-equal traces: the group's log-scale se is about the target
    assert table.loc["g", "hessian_t_se"] <= 0.05 * 1.05
    calls.clear()
    LandscapeFeaturizer(["hessian_t"], **settings).fit_transform([group])
    assert all("target_relative_se" not in c for c in calls)  # the paper's rule


@pytest.mark.filterwarnings("ignore:group 'g'.*hessian_max_probes:UserWarning")
def test_featurizer_target_changes_the_cache_key_and_only_the_traces(group, tmp_path):
    base = dict(FAST, cache_dir=tmp_path)
    plain = LandscapeFeaturizer(["hessian_t"], **base)
    targeted = LandscapeFeaturizer(["hessian_t"], hessian_target_se=0.2, **base)
    # None adds nothing to the options: caches made before the option keep their keys
    assert "target_se" not in plain._unit_options("hessian_t", group)
    assert targeted._unit_options("hessian_t", group)["target_se"] == 0.2
    assert targeted._unit_options("hessian_e", group) == plain._unit_options("hessian_e", group)
    plain.fit_transform([group])
    files = set(tmp_path.glob("hessian_t-*.json"))
    targeted.fit_transform([group])
    assert len(set(tmp_path.glob("hessian_t-*.json")) - files) == 1
    LandscapeFeaturizer(["hessian_t"], hessian_target_se=0.1, **base).fit_transform([group])
    assert len(list(tmp_path.glob("hessian_t-*.json"))) == 3


def test_featurizer_warns_when_a_member_hits_max_probes(group):
    with pytest.warns(UserWarning, match=r"members \[0, 1\] drew hessian_max_probes=6 probes "
                                         r"before reaching hessian_target_se=1e-06"):
        LandscapeFeaturizer(["hessian_t"], hessian_target_se=1e-6, **FAST).fit_transform([group])


@pytest.mark.parametrize("bad", [0, -0.02, math.nan, math.inf])
def test_featurizer_refuses_a_target_that_is_not_positive(group, bad):
    with pytest.raises(ValueError, match=r"hessian_target_se to be a finite number > 0, got .*"
                                         r"e\.g\. 0\.02, or None"):
        LandscapeFeaturizer(["hessian_t"], hessian_target_se=bad, **FAST).fit([group])


def test_featurizer_target_defaults_to_none_and_survives_old_pickles():
    featurizer = LandscapeFeaturizer()
    assert featurizer.get_params()["hessian_target_se"] is None
    state = featurizer.__getstate__()
    del state["hessian_target_se"]
    old = LandscapeFeaturizer.__new__(LandscapeFeaturizer)
    old.__setstate__(state)
    assert old.hessian_target_se is None
