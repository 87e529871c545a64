"""Honest pretrained trees (issue 14, point 5): they know where they come from, say so, warn
outside the region of the paper's models and say what to do instead (docs/your_models.rst,
"When a pretrained tree applies"; the rule: md_sklearn/_tree/_ranges.py, REGION_MARGIN)."""

import pickle
import warnings
from argparse import Namespace

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from extractors import defaults as D
from md_sklearn import PRETRAINED_NAMES, FeatureRangeWarning, MDTreeClassifier, explain, pretrained
from md_sklearn._tree._ranges import REGION_MARGIN, range_findings

#: The user's case from issue 14: a small CNN of one's own, under-trained at batch 256.
SMALL_CNN = {"train_error": 42.0, "mode_connectivity_peak": -79.4, "hessian_t": 5.0, "CKA": 0.5}
#: Each tree's rows of the published tables (docs/table_b.rst, "Pretrained trees").
LABELS = {"q1": ("bs_failure", None), "q1_cka": ("bs_failure", None),
          "q2_width": ("width_vs_batch", None), "q2_data": ("data_vs_batch", 32)}


def _frame(clf, values):
    return pd.DataFrame([{f: values[f] for f in clf.feature_names_in_}])


def _silent():
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("error", FeatureRangeWarning)
    return context


@pytest.mark.parametrize("name", PRETRAINED_NAMES)
def test_each_pretrained_tree_knows_its_models_data_and_metric_settings(name):
    clf = pretrained(name)
    about = clf.provenance_
    assert (about.name, about.models, about.dataset) == (name, "ResNet-18", "CIFAR-10")
    assert [f for f, _ in about.metrics] == list(clf.feature_names_in_)
    settings = dict(about.metrics)
    assert "percent" in settings["train_error"]
    assert f"t = {', '.join(f'{t:g}' for t in D.CURVE_POINTS)}" in settings["mode_connectivity_peak"]
    if "hessian_t" in settings:
        assert f"{D.HESSIAN_N_SAMPLES} training samples" in settings["hessian_t"]
        assert "natural log" in settings["hessian_t"]
    if "CKA" in settings:
        assert f"Beta({D.CKA_MIXUP_ALPHA:g}" in settings["CKA"]
    assert "SGD" in about.training and "width k" in about.training
    assert about.fitted_on[0] == "clean" and about.scored_on[0] == "noisy"
    assert about.fitted_on[1] == int(clf.tree_["value"][0].sum())
    # the fitted range lies inside the measured one (fitted on a part of it)
    for i, feature in enumerate(clf.feature_names_in_):
        low, high = about.measured_range[feature]
        assert low <= clf.feature_min_[i] and clf.feature_max_[i] <= high
    text = str(about)
    assert text.startswith(f"pretrained tree {name!r}: fitted on {about.fitted_on[1]} ResNet-18 "
                           f"models trained on CIFAR-10")
    assert "docs/extractors.rst" in text


@pytest.mark.parametrize("name", PRETRAINED_NAMES)
def test_provenance_matches_the_published_tables(published_tables, name):
    clean, noisy = published_tables["clean"], published_tables["noisy"]
    label, min_width = LABELS[name]
    clf = pretrained(name)
    features = list(clf.feature_names_in_)
    covered = [t if min_width is None else t[t["width"] >= min_width] for t in (clean, noisy)]
    both = pd.concat(covered)
    for feature in features:
        assert clf.provenance_.measured_range[feature] == (both[feature].min(),
                                                           both[feature].max())
    scored = covered[1][covered[1][label] != "optimal"]
    _, n, accuracy = clf.provenance_.scored_on
    assert n == len(scored) and accuracy == clf.score(scored[features], scored[label])


@pytest.mark.parametrize("name", PRETRAINED_NAMES)
def test_published_tables_and_their_transfer_test_sets_stay_silent(published_tables, name):
    from md_sklearn.model_selection import TransferSplit, transfer_table

    label, min_width = LABELS[name]
    clf = pretrained(name)
    features = list(clf.feature_names_in_)
    X, _, groups = transfer_table(published_tables["clean"], published_tables["noisy"], label,
                                  min_width=min_width)
    context = _silent()
    try:
        for table in published_tables.values():  # every fold of either table lies inside
            covered = table if min_width is None else table[table["width"] >= min_width]
            clf.predict(covered[features])
        draws = (("random", 1), ("random", 8), ("data_limit", 1), ("width_limit", min_width or 2))
        for sampling, k in draws:  # Table B's and the few-shot curves' (test: all of F')
            _, test = next(TransferSplit(sampling, k).split(X, groups=groups))
            report = explain(clf, X.iloc[test][features])
            assert report.outside_region == ()
            assert all(record.notes == () for record in report)
    finally:
        context.__exit__(None, None, None)
    assert "It applies to models trained and measured like those" in report.about_tree()


def test_a_small_cnn_beyond_the_region_is_flagged_with_provenance_and_what_to_do():
    clf = pretrained("q1")
    X = pd.concat([_frame(clf, SMALL_CNN), _frame(clf, {**SMALL_CNN,
                   "mode_connectivity_peak": -20.0, "train_error": 5.0})], ignore_index=True)
    # the far-out rule alone (3 scales of the fitted range) is silent here
    assert not range_findings(X.to_numpy(), clf.feature_min_, clf.feature_max_,
                              [0, 1, 2], [(0, 1), (-30, 0), (4, 9)], lambda c: c)
    with pytest.warns(FeatureRangeWarning) as record:
        report = explain(clf, X)
    assert len(record) == 1
    message = str(record[0].message)
    for part in ("feature 'mode_connectivity_peak': 1 of 2 sample(s) lie outside the region",
                 "ResNet-18/CIFAR-10", "[-70.36, 0]", "fitted on [-65.56, 0]", "value -79.4",
                 "md_sklearn.collections.build_collection", "bounds_from_data('q1', X)"):
        assert part in message
    assert record[0].filename == __file__
    assert report.outside_region == (0,)
    assert "outside the region of the paper's ResNet-18/CIFAR-10" in report[0].notes[0]
    assert report[1].notes == ()
    text = str(report)
    assert text.endswith(report.about_tree())
    assert "about the tree: pretrained tree 'q1': fitted on 1560 ResNet-18 models" in text
    assert "1 of 2 sample(s) lie outside the region of those models" in text
    assert report[1:].outside_region == () and report[:1].outside_region == (0,)


@pytest.mark.parametrize("name", PRETRAINED_NAMES)
def test_the_region_margin_is_five_percent_of_the_measured_width(name):
    clf = pretrained(name)
    inside = {f: float(np.mean(clf.provenance_.measured_range[f])) for f in clf.feature_names_in_}
    for feature in clf.feature_names_in_:
        low, high = clf.provenance_.measured_range[feature]
        width = high - low
        for edge, outward in ((low, -1.0), (high, 1.0)):
            if edge == 0:  # a value of the other sign: the sign rule of test_tree.py speaks first
                continue
            just_inside = _frame(clf, {**inside, feature: edge + outward * 0.99 * REGION_MARGIN * width})
            context = _silent()
            try:
                clf.predict(just_inside)
            finally:
                context.__exit__(None, None, None)
            beyond = _frame(clf, {**inside, feature: edge + outward * 1.01 * REGION_MARGIN * width})
            with pytest.warns(FeatureRangeWarning, match=f"'{feature}'.*outside the region"):
                clf.predict(beyond)


def test_a_unit_slip_gets_one_warning_with_its_fix_not_two():
    clf = pretrained("q1")
    X = _frame(clf, {**SMALL_CNN, "mode_connectivity_peak": -20.0, "train_error": 5.0,
                     "hessian_t": float(np.exp(7.0))})
    with pytest.warns(FeatureRangeWarning) as record:
        clf.predict(X)
    assert len(record) == 1 and "pass its natural log" in str(record[0].message)


def test_trees_you_fit_or_clone_have_no_provenance_and_pickles_keep_it():
    clf = pretrained("q1")
    assert not hasattr(clone(clf), "provenance_")
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.provenance_ == clf.provenance_
    with pytest.warns(FeatureRangeWarning, match="outside the region"):
        restored.predict(_frame(clf, SMALL_CNN))
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"train_error": rng.uniform(0, 45, 60),
                      "mode_connectivity_peak": -rng.uniform(0, 65, 60),
                      "hessian_t": rng.uniform(2, 8.7, 60)})
    own = MDTreeClassifier("q1").fit(X, clf.predict(X))
    context = _silent()
    try:  # a tree of yours keeps the far-out rule only: -79.4 is within 3 scales
        report = explain(own, _frame(own, SMALL_CNN))
    finally:
        context.__exit__(None, None, None)
    assert report.about_tree() is None and "about the tree" not in str(report)


def test_cli_diagnose_says_where_the_tree_comes_from(monkeypatch, capsys):
    from md_sklearn._cli import _diagnose

    features = pd.DataFrame([SMALL_CNN], index=["my_cnn"])

    class Featurizer:
        def fit_transform(self, groups):
            return features

    monkeypatch.setattr(_diagnose, "build_groups", lambda args: ["my_cnn"])
    monkeypatch.setattr(_diagnose, "featurizer_for", lambda *a, **k: Featurizer())
    args = Namespace(tree="q1", format="text", no_confidence=True)
    with pytest.warns(FeatureRangeWarning, match="outside the region"):
        assert _diagnose.diagnose_command(args) == 0
    out = capsys.readouterr().out
    assert "sample my_cnn:" in out
    assert "about the tree: pretrained tree 'q1': fitted on 1560 ResNet-18 models trained on " \
           "CIFAR-10" in out
    assert "build_collection" in out and "bounds_from_data('q1', X)" in out
    with pytest.warns(FeatureRangeWarning):
        _diagnose.diagnose_command(Namespace(tree="q1", format="csv", no_confidence=True))
    captured = capsys.readouterr()
    assert "about the tree" in captured.err and "about the tree" not in captured.out
