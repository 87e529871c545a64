"""Tests of the study's statistics against brute-force computations."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn._protocol._statistics import (
    bootstrap_ci,
    mcnemar_exact,
    mean_std,
    paired_bootstrap,
    resample_indices,
    verdict,
)


def _all_resamples(n):
    """Every one of the n**n ordered resamples of n columns: the exact bootstrap."""
    return np.array(list(itertools.product(range(n), repeat=n)))


def _brute_quantile(values, q):
    """numpy's default (linear) quantile by hand: sort, interpolate between neighbours."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def test_mean_std_is_population_std():
    assert mean_std([50.0, 100.0]) == (75.0, 25.0)


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 3), st.integers(1, 4), st.data())
def test_bootstrap_matches_exhaustive_enumeration(n_rep, n_test, data):
    bits = data.draw(st.lists(st.integers(0, 1), min_size=n_rep * n_test,
                              max_size=n_rep * n_test))
    correct = np.array(bits, dtype=float).reshape(n_rep, n_test)
    indices = _all_resamples(n_test)
    result = bootstrap_ci(correct, indices=indices)
    # brute force: per resample, loop over the chosen columns and every repetition
    stats = []
    for resample in indices:
        total = sum(correct[r, c] for c in resample for r in range(n_rep))
        stats.append(total / (n_rep * n_test))
    assert result["accuracy"] == pytest.approx(100 * correct.mean())
    assert result["low"] == pytest.approx(100 * _brute_quantile(stats, 0.025))
    assert result["high"] == pytest.approx(100 * _brute_quantile(stats, 0.975))
    assert result["low"] <= result["accuracy"] + 1e-9 or n_test == 1


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 3), st.integers(1, 4), st.data())
def test_paired_bootstrap_matches_exhaustive_enumeration(n_rep, n_test, data):
    def matrix():
        bits = data.draw(st.lists(st.integers(0, 1), min_size=n_rep * n_test,
                                  max_size=n_rep * n_test))
        return np.array(bits, dtype=float).reshape(n_rep, n_test)

    a, b = matrix(), matrix()
    indices = _all_resamples(n_test)
    result = paired_bootstrap(a, b, indices=indices)
    stats = [sum(a[r, c] - b[r, c] for c in resample for r in range(n_rep)) / (n_rep * n_test)
             for resample in indices]
    assert result["difference"] == pytest.approx(100 * (a.mean() - b.mean()))
    assert result["low"] == pytest.approx(100 * _brute_quantile(stats, 0.025))
    assert result["high"] == pytest.approx(100 * _brute_quantile(stats, 0.975))
    assert result["p_not_positive"] == pytest.approx(np.mean(np.array(stats) <= 0))


def test_paired_bootstrap_identical_methods_and_pairing():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, size=(5, 30)).astype(float)
    same = paired_bootstrap(a, a, n_boot=500)
    assert same["difference"] == same["low"] == same["high"] == 0.0
    # pairing: b wrong exactly where a is right -> every resample gives the same sign
    better = paired_bootstrap(np.ones((1, 20)), np.zeros((1, 20)), n_boot=500)
    assert better["low"] == better["high"] == 100.0
    assert verdict(better["low"], better["high"]) == "MD tree better"
    assert verdict(-5.0, -1.0) == "baseline better"
    assert verdict(-5.0, 1.0) == "no clear difference"


def test_resampling_is_seeded():
    first = resample_indices(7, 50, 3)
    np.testing.assert_array_equal(first, resample_indices(7, 50, 3))
    assert first.shape == (50, 7) and first.min() >= 0 and first.max() < 7
    rng = np.random.default_rng(1)
    correct = rng.integers(0, 2, size=(3, 40))
    assert bootstrap_ci(correct, n_boot=300, random_state=5) == bootstrap_ci(
        correct, n_boot=300, random_state=5)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=25))
def test_mcnemar_matches_binomial_sum(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    result = mcnemar_exact(a, b)
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    assert (result["a_only"], result["b_only"]) == (a_only, b_only)
    n = a_only + b_only
    if n == 0:
        assert result["p_value"] == 1.0
        return
    # two-sided exact binomial test at p = 0.5 by hand: outcomes no more likely than observed
    probability = [math.comb(n, i) / 2**n for i in range(n + 1)]
    observed = probability[a_only]
    expected = sum(p for p in probability if p <= observed * (1 + 1e-7))
    assert result["p_value"] == pytest.approx(min(1.0, expected))


def test_bad_shapes():
    with pytest.raises(ValueError, match="expected correct of shape"):
        bootstrap_ci(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="same test configurations, got 3 and 4"):
        paired_bootstrap(np.zeros((1, 3)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="two 1-d arrays of the same length"):
        mcnemar_exact([1, 0], [1, 0, 1])
