"""scikit-learn meta-estimators around a named paper tree (issue 14, point 4): label-encoded
y, X as arrays (feature_names binds the names), ColumnTransformer prefixes, and thresholds
fitted on a search bound."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from md_sklearn import MDTreeClassifier, explain, export_text, pretrained

COLUMNS = ["train_error", "mode_connectivity_peak", "hessian_t"]


@pytest.fixture(scope="module")
def q1_data():
    """400 rows spread over the published ranges, labelled by the paper's Q1 tree."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"train_error": rng.uniform(0, 3, 400) ** 2,
                      "mode_connectivity_peak": -rng.uniform(0, 30, 400),
                      "hessian_t": rng.uniform(3, 9, 400)})
    y = pd.Series(pretrained("q1").predict(X), name="bs_failure")
    flip = rng.random(400) < 0.05  # a little label noise
    y[flip] = np.where(y[flip] == "small", "large", "small")
    return X, y


def tree(**kwargs):
    return MDTreeClassifier("q1", **kwargs)


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning from any of them
        return estimator.fit(X, y)


def test_bagging_with_feature_names(q1_data):
    X, y = q1_data
    bagging = quiet_fit(BaggingClassifier(tree(feature_names=COLUMNS), n_estimators=5,
                                          random_state=0), X, y)
    assert set(bagging.predict(X)) == {"small", "large"}
    assert bagging.score(X, y) > 0.9
    inner = bagging.estimators_[0]
    assert inner.classes_.tolist() == [0, 1]  # it predicts codes, as Bagging expects
    assert inner.encoded_labels_.tolist() == ["large", "small"]
    proba = bagging.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)


def test_bagging_without_feature_names_says_how(q1_data):
    X, y = q1_data
    with pytest.raises(ValueError, match=r"feature_names=\[\.\.\.\]"):
        BaggingClassifier(tree(), n_estimators=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_voting(q1_data, voting):
    X, y = q1_data
    vote = quiet_fit(VotingClassifier([("md", tree()), ("lr", LogisticRegression())],
                                      voting=voting), X, y)
    assert set(vote.predict(X)) <= {"small", "large"} and vote.score(X, y) > 0.85


def test_stacking(q1_data):
    X, y = q1_data
    stack = quiet_fit(StackingClassifier([("md", tree()), ("lr", LogisticRegression())],
                                         cv=3), X, y)
    assert stack.score(X, y) > 0.9


def test_calibrated(q1_data):
    X, y = q1_data
    calibrated = quiet_fit(CalibratedClassifierCV(tree(), cv=3), X, y)
    assert calibrated.classes_.tolist() == ["large", "small"] and calibrated.score(X, y) > 0.9


@pytest.mark.parametrize("as_array", [False, True])
def test_cross_val_predict_proba(q1_data, as_array):
    X, y = q1_data
    estimator = tree(feature_names=COLUMNS) if as_array else tree()
    proba = cross_val_predict(estimator, X.to_numpy() if as_array else X, y, cv=3,
                              method="predict_proba")
    assert proba.shape == (len(X), 2)
    # columns follow the sorted labels: "large" then "small"
    assert ((proba[:, 1] > 0.5) == (y == "small")).mean() > 0.85


def test_labels_as_given_still_predict_labels(q1_data):
    X, y = q1_data
    clf = tree().fit(X, y)
    assert clf.encoded_labels_ is None and clf.classes_.tolist() == ["large", "small"]


def test_integer_labels_for_string_leaves_outside_the_codes_are_refused(q1_data):
    X, _ = q1_data
    with pytest.raises(ValueError, match="Leaf"):
        tree().fit(X, np.where(X["hessian_t"] > 6, 5, 7))


def test_feature_names_must_match_a_dataframe(q1_data):
    X, y = q1_data
    with pytest.raises(ValueError, match="feature_names to equal the column names of X"):
        tree(feature_names=COLUMNS[::-1]).fit(X, y)
    with pytest.raises(ValueError, match="one name per column of X"):
        tree(feature_names=COLUMNS[:2]).fit(X.to_numpy(), y)
    fitted = tree(feature_names=COLUMNS).fit(X.to_numpy(), y)
    assert "train_error" in str(explain(fitted, X.to_numpy()[:1])[0])


# --- ColumnTransformer names -------------------------------------------------------------------
def test_column_transformer_prefixed_names_are_matched_when_unique(q1_data):
    X, y = q1_data
    pipe = Pipeline([("ct", ColumnTransformer([("pass", "passthrough", COLUMNS)])),
                     ("md", tree())]).set_output(transform="pandas")
    pipe.fit(X, y)
    assert list(pipe[-1].feature_names_in_) == [f"pass__{c}" for c in COLUMNS]
    np.testing.assert_array_equal(pipe.predict(X), tree().fit(X, y).predict(X))


def test_two_prefixed_columns_name_verbose_feature_names_out(q1_data):
    X, y = q1_data
    ct = ColumnTransformer([("a", "passthrough", COLUMNS), ("b", "passthrough", COLUMNS)])
    pipe = Pipeline([("ct", ct), ("md", tree())]).set_output(transform="pandas")
    with pytest.raises(ValueError, match="verbose_feature_names_out=False"):
        pipe.fit(X, y)


def test_missing_column_with_prefixed_names_names_the_fix(q1_data):
    X, y = q1_data
    ct = ColumnTransformer([("pass", "passthrough", COLUMNS[:2])])
    pipe = Pipeline([("ct", ct), ("md", tree())]).set_output(transform="pandas")
    with pytest.raises(ValueError, match="'hessian_t'.*verbose_feature_names_out=False"):
        pipe.fit(X, y)


# --- features on another scale -----------------------------------------------------------------
def test_scaled_features_report_thresholds_on_a_bound(q1_data):
    X, y = q1_data
    pipe = make_pipeline(StandardScaler(), tree()).set_output(transform="pandas").fit(X, y)
    assert pipe[-1].thresholds_at_bound_.tolist() == [False, False, True]
    report = explain(pipe, X.iloc[:2])
    assert ("'hessian_t' at 9 (bounds [4, 9], no training value inside) were fitted on a "
            "search bound") in str(report[0])
    assert "StandardScaler" in report.to_frame()["notes"].iloc[0]
    assert export_text(pipe[-1]).splitlines()[-1].startswith("note: the tree's threshold(s)")
    unscaled = tree().fit(X, y)
    assert not unscaled.thresholds_at_bound_.any()


def test_paper_trees_are_not_flagged():
    for name in ("q1", "q1_cka", "q2_width", "q2_data"):
        assert not pretrained(name).thresholds_at_bound_.any(), name
