"""MDTreeClassifier: the paper's fitting procedure, predictions, errors and the sklearn contract."""

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from md_sklearn import FeatureRangeWarning, Leaf, MDTreeClassifier, Split, get_hierarchy
from md_sklearn._tree._hierarchy import iter_splits

# --------------------------------------------------------------------------- a naive oracle
# The paper's procedure written the slow, obvious way: a per-row recursive
# predictor and an objective recomputed from scratch at every evaluation.


def _naive_predict(root, thresholds, X, columns):
    ids = {id(node): i for i, node in enumerate(iter_splits(root))}

    def one(row):
        node = root
        while isinstance(node, Split):
            node = (
                node.left if row[columns[node.feature]] <= thresholds[ids[id(node)]] else node.right
            )
        return node.label

    return np.array([one(row) for row in X], dtype=object)


def _naive_fit(root, X, y, columns, order):
    splits = list(iter_splits(root))
    thresholds = [s.init for s in splits]
    for i in order:

        def objective(t, i=i):
            thresholds[i] = t
            return -np.mean(_naive_predict(root, thresholds, X, columns) == y)

        thresholds[i] = minimize_scalar(objective, bounds=splits[i].bounds, method="bounded").x
    return np.array([thresholds[i] for i in order])


def _random_problem(seed, n=60, ties=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5]
    if ties:
        X = np.round(X, 1)
    y = rng.choice(np.array(["small", "large"], dtype=object), size=n)
    # make the labels depend on the features so the optimum is not trivial
    y[X[:, 0] <= 0.3] = "small"
    return X, y


Q1_COLUMNS = {"train_error": 0, "mode_connectivity_peak": 1, "hessian_t": 2}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
def test_brent_matches_naive_paper_procedure_exactly(seed, ties):
    X, y = _random_problem(seed, ties=ties)
    frame = pd.DataFrame(X, columns=list(Q1_COLUMNS))
    clf = MDTreeClassifier("q1").fit(frame, y)
    expected = _naive_fit(get_hierarchy("q1"), X, y, Q1_COLUMNS, order=[0, 1, 2])
    np.testing.assert_array_equal(clf.thresholds_, expected)
    np.testing.assert_array_equal(
        clf.predict(frame), _naive_predict(get_hierarchy("q1"), expected, X, Q1_COLUMNS)
    )


def test_declared_fitting_order_is_followed():
    rng = np.random.default_rng(0)
    names = ["train_error", "mode_connectivity_peak", "hessian_t"]
    X = pd.DataFrame(rng.normal(size=(80, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5], columns=names)
    y = rng.choice(["data", "batch"], size=80)
    clf = MDTreeClassifier("q2_data").fit(X, y)
    root = get_hierarchy("q2_data")
    columns = {n: i for i, n in enumerate(names)}
    # preorder split indices in the paper's fitting order [0]..[5]
    positions = [s.order for s in iter_splits(root)]
    order = list(np.argsort(positions))
    np.testing.assert_array_equal(
        clf.thresholds_, _naive_fit(root, X.to_numpy(), y, columns, order)
    )
    # preorder node ids: 0 root, 1 and 8 connectivity, 2, 5 and 10 hessian
    np.testing.assert_array_equal(clf.tree_["fit_order"], [0, 1, 5, 8, 2, 10])


def test_majority_leaves_follow_training_samples():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    tree = Split(0, 1.0, (0.0, 5.0), Leaf(), Leaf())
    # Brent is a local search on a step function: from init 1.0 it stops short ...
    assert MDTreeClassifier(tree).fit(X, y).train_score_ < 1.0
    # ... the exhaustive search finds the separating threshold.
    clf = MDTreeClassifier(tree, threshold_search="exhaustive").fit(X, y)
    assert clf.train_score_ == 1.0
    assert 2.0 <= clf.thresholds_[0] < 3.0
    assert clf.hierarchy_.left.label == 0 and clf.hierarchy_.right.label == 1


def test_predict_proba_is_leaf_class_frequency_and_empty_leaf_falls_back_to_label():
    X = np.array([[0.1], [0.2], [0.6], [0.8]])
    y = np.array(["a", "a", "b", "b"])
    tree = Split(0, 0.5, (0.0, 1.0), Leaf("a"), Split(0, 0.95, (0.9, 1.0), Leaf("b"), Leaf("a")))
    clf = MDTreeClassifier(tree).fit(X, y)
    proba = clf.predict_proba(np.array([[0.1], [0.85], [1.5]]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    leaf = clf.apply(np.array([[1.5]]))[0]
    assert clf.tree_["value"][leaf].sum() == 0  # no training sample there
    np.testing.assert_array_equal(proba[2], [1.0, 0.0])  # declared label "a"
    counts = clf.tree_["value"][clf.apply(np.array([[0.1]]))[0]]
    np.testing.assert_allclose(proba[0], counts / counts.sum())


def test_apply_and_decision_path_agree():
    X, y = _random_problem(3)
    frame = pd.DataFrame(X, columns=list(Q1_COLUMNS))
    clf = MDTreeClassifier("q1").fit(frame, y)
    leaves = clf.apply(frame)
    path = clf.decision_path(frame).toarray()
    assert path.shape == (len(X), clf.tree_["children_left"].size)
    assert (path[:, 0] == 1).all()
    np.testing.assert_array_equal(path[np.arange(len(X)), leaves], 1)
    is_leaf = clf.tree_["children_left"] < 0
    np.testing.assert_array_equal(path[:, is_leaf].sum(axis=1), 1)


def test_default_hierarchy_is_a_stump_on_feature_zero_within_training_range():
    X = np.array([[1.0, 9.0], [2.0, 9.0], [3.0, 0.0], [4.0, 0.0]])
    clf = MDTreeClassifier().fit(X, [0, 0, 1, 1])
    assert clf.hierarchy_.feature == 0
    assert clf.hierarchy_.bounds == (1.0, 4.0)
    assert clf.train_score_ == 1.0


def test_fitted_state_survives_joblib_and_clone(tmp_path):
    X, y = _random_problem(1)
    frame = pd.DataFrame(X, columns=list(Q1_COLUMNS))
    clf = MDTreeClassifier("q1", threshold_search="exhaustive").fit(frame, y)
    path = tmp_path / "tree.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))
    np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "thresholds_")


def test_pipeline_with_column_transformer_and_grid_search_over_hierarchies():
    X, y = _random_problem(2, n=120)
    frame = pd.DataFrame(X, columns=list(Q1_COLUMNS)).assign(
        CKA=np.linspace(0.2, 0.8, 120), extra=1.0
    )
    select = ColumnTransformer(
        [("f", "passthrough", ["train_error", "mode_connectivity_peak", "hessian_t", "CKA"])],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    mine = Split("hessian_t", 6.0, (4.0, 9.0), Leaf("large"), Leaf("small"))
    search = GridSearchCV(
        Pipeline([("select", select), ("tree", MDTreeClassifier())]),
        {"tree__hierarchy": ["q1", "q1_cka", mine]},
        cv=3,
    ).fit(frame, y)
    assert len(search.cv_results_["params"]) == 3
    assert search.best_params_["tree__hierarchy"] in ("q1", "q1_cka", mine)
    assert search.predict(frame).shape == (120,)


# --------------------------------------------------------------------------- properties

problems = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(
            st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 1)), min_size=n, max_size=n
        ),
        st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n),
        st.floats(-2.5, 2.5).map(lambda v: round(v, 3)),
    )
)


def _stump(init):
    return Split(0, init, (-2.5, 2.5), Leaf("a"), Leaf("b"))


@settings(max_examples=60, deadline=None)
@given(problems, st.randoms(use_true_random=False))
def test_predictions_invariant_to_training_row_order(problem, rnd):
    values, labels, init = problem
    X, y = np.array(values)[:, None], np.array(labels, dtype=object)
    perm = list(range(len(y)))
    rnd.shuffle(perm)
    tree = Split(0, init, (-2.5, 2.5), Leaf(), Leaf())
    a = MDTreeClassifier(tree).fit(X, y)
    b = MDTreeClassifier(tree).fit(X[perm], y[perm])
    np.testing.assert_array_equal(a.thresholds_, b.thresholds_)
    grid = np.linspace(-3, 3, 61)[:, None]
    np.testing.assert_array_equal(a.predict(grid), b.predict(grid))


@settings(max_examples=60, deadline=None)
@given(problems, st.sampled_from(["brent", "exhaustive"]))
def test_thresholds_stay_within_bounds(problem, search):
    values, labels, init = problem
    X = np.column_stack([values, np.array(values) * 3])
    y = np.array(labels, dtype=object)
    tree = Split(0, init, (-2.5, 2.5), Leaf("a"), Split(1, 0.0, (-1.0, 1.0), Leaf("b"), Leaf("a")))
    if set(y) != {"a", "b"}:
        return
    clf = MDTreeClassifier(tree, threshold_search=search).fit(X, y)
    assert -2.5 <= clf.thresholds_[0] <= 2.5
    assert -1.0 <= clf.thresholds_[1] <= 1.0


@settings(max_examples=80, deadline=None)
@given(problems)
def test_exhaustive_is_at_least_as_accurate_as_brent_on_one_split(problem):
    values, labels, init = problem
    X, y = np.array(values)[:, None], np.array(labels, dtype=object)
    if set(y) != {"a", "b"}:
        return
    brent = MDTreeClassifier(_stump(init)).fit(X, y)
    exhaustive = MDTreeClassifier(_stump(init), threshold_search="exhaustive").fit(X, y)
    assert exhaustive.train_score_ >= brent.train_score_
    # and it is the global optimum over every threshold in the bounds
    candidates = np.unique(np.concatenate([X[:, 0], [-2.5, 2.5]]))
    candidates = candidates[(candidates >= -2.5) & (candidates <= 2.5)]
    best = max(np.mean(np.where(X[:, 0] <= t, "a", "b") == y) for t in candidates)
    assert exhaustive.train_score_ == pytest.approx(best)


@settings(max_examples=40, deadline=None)
@given(problems, st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=20))
def test_apply_consistent_with_predict(problem, queries):
    values, labels, init = problem
    X, y = np.array(values)[:, None], np.array(labels, dtype=object)
    clf = MDTreeClassifier(Split(0, init, (-2.5, 2.5), Leaf(), Leaf())).fit(X, y)
    Q = np.array(queries)[:, None]
    leaves = clf.apply(Q)
    np.testing.assert_array_equal(clf.classes_[clf.tree_["leaf_class"][leaves]], clf.predict(Q))
    assert (clf.tree_["children_left"][leaves] == -1).all()


# --------------------------------------------------------------------------- bad input


def _q1_frame(n=20, seed=0):
    X, y = _random_problem(seed, n=n)
    return pd.DataFrame(X, columns=list(Q1_COLUMNS)), y


def test_missing_feature_is_named_with_available_columns():
    frame, y = _q1_frame()
    with pytest.raises(ValueError, match=r"column named 'hessian_t'.*got columns \['train_error'"):
        MDTreeClassifier("q1").fit(frame.drop(columns="hessian_t"), y)


def test_named_features_need_column_names():
    frame, y = _q1_frame()
    with pytest.raises(ValueError, match="expected X with column names.*pass a pandas DataFrame"):
        MDTreeClassifier("q1").fit(frame.to_numpy(), y)


def test_index_feature_out_of_range():
    with pytest.raises(ValueError, match="expected a column index below 1"):
        MDTreeClassifier(Split(3, 0.0, (-1, 1), Leaf(), Leaf())).fit(np.zeros((4, 1)), [0, 1, 0, 1])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_in_used_features(bad):
    frame, y = _q1_frame()
    frame.loc[3, "hessian_t"] = bad
    with pytest.raises(ValueError, match=r"finite values in feature 'hessian_t'.*first at row 3"):
        MDTreeClassifier("q1").fit(frame, y)
    good, _ = _q1_frame()
    clf = MDTreeClassifier("q1").fit(good, y)
    with pytest.raises(ValueError, match="finite values in feature 'hessian_t'"):
        clf.predict(frame)


def test_non_finite_values_in_unused_columns_are_allowed():
    frame, y = _q1_frame()
    frame["unused"] = np.nan
    MDTreeClassifier("q1").fit(frame, y).predict(frame)


def test_declared_label_absent_from_y():
    frame, y = _q1_frame()
    y = np.where(y == "large", "big", y)
    with pytest.raises(ValueError, match=r"Leaf\(label='large'\): expected one of the classes"):
        MDTreeClassifier("q1").fit(frame, y)
    with pytest.raises(ValueError, match=r"got a label missing from classes"):
        MDTreeClassifier("q1", classes=["small", "big"]).fit(frame, y)


def test_declared_classes_allow_a_training_set_without_some_class():
    frame, y = _q1_frame()
    only_small = np.full(len(y), "small", dtype=object)
    with pytest.raises(ValueError, match=r"pass the full list as MDTreeClassifier\(classes="):
        MDTreeClassifier("q1").fit(frame, only_small)
    clf = MDTreeClassifier("q1", classes=["small", "large"]).fit(frame, only_small)
    np.testing.assert_array_equal(clf.classes_, ["large", "small"])
    assert clf.predict_proba(frame).shape == (len(y), 2)
    expected = _naive_fit(get_hierarchy("q1"), frame.to_numpy(), only_small, Q1_COLUMNS, [0, 1, 2])
    np.testing.assert_array_equal(clf.thresholds_, expected)
    with pytest.raises(ValueError, match=r"expected every label of y in classes=\['large', 'small'\], got \['odd'\]"):
        MDTreeClassifier("q1", classes=["small", "large"]).fit(frame, np.where(y == "small", "odd", y))


def test_class_no_leaf_predicts_says_to_drop_rows():
    frame, y = _q1_frame()
    y = y.copy()
    y[0] = "optimal"
    with pytest.raises(ValueError, match=r"\['optimal'\] that no leaf.*drop those rows"):
        MDTreeClassifier("q1").fit(frame, y)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        MDTreeClassifier("q1").predict(np.zeros((2, 3)))


def test_feature_names_must_match_between_fit_and_predict():
    frame, y = _q1_frame()
    clf = MDTreeClassifier("q1").fit(frame, y)
    renamed = frame.rename(columns={"hessian_t": "hessian_e"})
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"hierarchy": "q3"}, ValueError, "hierarchy"),
        ({"hierarchy": 3}, ValueError, "hierarchy"),
        ({"threshold_search": "golden"}, ValueError, "threshold_search"),
    ],
)
def test_invalid_parameters(params, error, match):
    frame, y = _q1_frame()
    with pytest.raises(error, match=match):
        MDTreeClassifier(**params).fit(frame, y)


def test_fit_never_changes_the_users_inputs():
    frame, y = _q1_frame()
    tree = get_hierarchy("q1")
    before_frame, before_y = frame.copy(), y.copy()
    clf = MDTreeClassifier(tree).fit(frame, y)
    pd.testing.assert_frame_equal(frame, before_frame)
    np.testing.assert_array_equal(y, before_y)
    assert clf.hierarchy is tree and tree == get_hierarchy("q1")


def test_text_columns_are_named_with_the_fix():
    frame, y = _q1_frame()
    frame["bs_failure"] = y
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['bs_failure'\]; pass only the features"):
        MDTreeClassifier("q1").fit(frame, y)


# --------------------------------------------------------------------------- far-out values


def _stump_on(values, bounds, labels=("a", "b")):
    """A one-split tree on column 0 fitted on ``values`` (labels split at the median)."""
    X = np.asarray(values, dtype=float)[:, None]
    y = np.where(X[:, 0] <= np.median(X[:, 0]), *labels)
    low, high = bounds
    return MDTreeClassifier(Split(0, 0.5 * (low + high), bounds, Leaf(), Leaf())).fit(X, y)


def test_training_range_is_recorded_for_tested_features_only():
    X = np.array([[0.0, 5.0, -3.0], [2.0, 1.0, 9.0], [1.0, 3.0, 4.0], [3.0, 2.0, 0.0]])
    tree = Split(2, 1.0, (-5.0, 10.0), Leaf("a"), Split(0, 1.0, (0.0, 3.0), Leaf("b"), Leaf("a")))
    clf = MDTreeClassifier(tree).fit(X, ["a", "b", "b", "a"])
    np.testing.assert_array_equal(clf.feature_min_, [0.0, np.nan, -3.0])
    np.testing.assert_array_equal(clf.feature_max_, [3.0, np.nan, 9.0])


def test_no_warning_inside_the_range_and_raw_trace_warns_naming_feature_value_range_and_fix():
    rng = np.random.default_rng(0)
    log_trace = rng.uniform(1.6, 9.0, size=80)
    frame = pd.DataFrame({"hessian_t": log_trace})
    y = np.where(log_trace <= 6.0, "large", "small")
    clf = MDTreeClassifier(Split("hessian_t", 7.0, (4.0, 9.0), Leaf("large"), Leaf("small")))
    clf.fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeatureRangeWarning)
        clf.predict(frame)
    raw = pd.DataFrame({"hessian_t": [5.0, 250.0, 3000.0]})  # raw traces: e^x, not x
    low, high = log_trace.min(), log_trace.max()
    with pytest.warns(FeatureRangeWarning) as record:
        clf.predict(raw)
    assert len(record) == 1
    message = str(record[0].message)
    assert "feature 'hessian_t': 2 of 3 sample(s)" in message
    assert f"[{low:.4g}, {high:.4g}]" in message and "(first: row 1, value 250)" in message
    assert "pass its natural log" in message
    assert record[0].filename == __file__  # points at the caller's line


def test_percent_given_to_a_tree_fitted_on_fractions_warns_with_divide_by_100():
    rng = np.random.default_rng(1)
    fractions = rng.uniform(0.0, 0.45, size=60)
    clf = _stump_on(fractions, (0.0, 0.01))
    with pytest.warns(FeatureRangeWarning, match=r"column 0: 1 of 2 .*divide it by 100"):
        clf.predict(np.array([[0.3], [30.0]]))  # 30 % typed as 30


def test_flipped_sign_of_a_non_positive_feature_warns_with_flip_its_sign():
    frame = pd.DataFrame({"mode_connectivity_peak": -np.linspace(0.0, 60.0, 40)})
    y = np.where(frame["mode_connectivity_peak"] <= -10, "width", "batch")
    tree = Split("mode_connectivity_peak", -10.0, (-30.0, 0.0), Leaf("width"), Leaf("batch"))
    clf = MDTreeClassifier(tree).fit(frame, y)
    flipped = pd.DataFrame({"mode_connectivity_peak": [25.0]})
    with pytest.warns(FeatureRangeWarning, match="flip its sign"):
        clf.predict(flipped)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "apply", "decision_path"])
def test_every_prediction_method_warns_once_per_feature(method):
    frame, y = _q1_frame()
    clf = MDTreeClassifier("q1").fit(frame, y)
    far = frame.copy()
    far.loc[0, "train_error"] = 1e4
    far.loc[1, "hessian_t"] = 1e5
    with pytest.warns(FeatureRangeWarning) as record:
        getattr(clf, method)(far)
    assert sorted(str(w.message).split(":")[0] for w in record) == [
        "feature 'hessian_t'", "feature 'train_error'"
    ]


def _far_limits(clf, column=0):
    """The interval outside which a value of ``column`` is far out (the documented rule)."""
    low = min(clf.feature_min_[column], clf.hierarchy_.bounds[0])
    high = max(clf.feature_max_[column], clf.hierarchy_.bounds[1])
    scale = max(high - low, abs(low), abs(high))
    return low - 3 * scale, high + 3 * scale


training_sets = st.lists(
    st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=4, max_size=30
).filter(lambda v: max(v) - min(v) > 1e-6)


@settings(max_examples=60, deadline=None)
@given(training_sets, st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_values_inside_the_training_range_never_warn(values, positions):
    low, high = min(values), max(values)
    clf = _stump_on(values, (low, high))
    queries = np.array([[low + p * (high - low)] for p in positions]).clip(low, high)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeatureRangeWarning)
        clf.predict(queries)


@settings(max_examples=60, deadline=None)
@given(training_sets, st.floats(1.01, 1e3), st.booleans())
def test_values_beyond_three_scales_always_warn(values, factor, above):
    clf = _stump_on(values, (min(values), max(values)))
    below_limit, above_limit = _far_limits(clf)
    edge, outward = (above_limit, 1.0) if above else (below_limit, -1.0)
    query = edge + outward * ((factor - 1.0) * abs(edge) + 1.0)
    with pytest.warns(FeatureRangeWarning):
        clf.predict([[query]])


def test_paper_transfer_and_cross_validation_never_warn(published_tables):
    from sklearn.model_selection import KFold, cross_val_score

    from md_sklearn.model_selection import TransferSplit, transfer_table

    clean, noisy = published_tables["clean"], published_tables["noisy"]
    cases = {"bs_failure": [("random", 8), ("data_limit", 1), ("width_limit", 2)],
             "width_vs_batch": [("random_data", 1), ("data_limit", 1)]}  # Table B
    hierarchy = {"bs_failure": "q1", "width_vs_batch": "q2_width"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeatureRangeWarning)
        for label, draws in cases.items():
            X, y, groups = transfer_table(clean, noisy, label)
            features = X[["train_error", "mode_connectivity_peak", "hessian_t"]]
            for sampling, k in draws:
                for train, test in TransferSplit(sampling, k).split(X, groups=groups):
                    clf = MDTreeClassifier(hierarchy[label], classes=sorted(set(y)))
                    clf.fit(features.iloc[train], y.iloc[train]).predict(features.iloc[test])
            pool = groups == "clean"
            cross_val_score(MDTreeClassifier(hierarchy[label]), features[pool], y[pool],
                            cv=KFold(5, shuffle=True, random_state=0), error_score="raise")
