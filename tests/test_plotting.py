"""md_sklearn.plotting: the artists drawn for a fitted tree, its regimes and the few-shot curves."""

import importlib
import json
import subprocess
import sys
from itertools import combinations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from md_sklearn import Leaf, MDTreeClassifier, Split  # noqa: E402
from md_sklearn.plotting import plot_fewshot, plot_regimes, plot_tree  # noqa: E402

FEATURES = ["train_error", "mode_connectivity_peak", "hessian_t"]
#: Node ids of the Q1 shape (preorder): splits 0, 2, 3; leaves 1, 4, 5, 6.
Q1_LEAVES = (1, 4, 5, 6)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _three_feature_tree():
    """Q1's shape on columns 0, 1, 2: leaf | split(1) -> [split(2) -> leaf, leaf], leaf."""
    return Split(0, 0.4, (0, 1), Leaf("a"),
                 Split(1, 0.5, (0, 1), Split(2, 0.5, (0, 1), Leaf("a"), Leaf("b")), Leaf("b")))


def _synthetic(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 3))
    y = np.where((X[:, 0] > 0.5) & (X[:, 1] > 0.3) | (X[:, 2] > 0.6), "b", "a")
    clf = MDTreeClassifier(_three_feature_tree(), threshold_search="exhaustive",
                          classes=["a", "b"]).fit(X, y)
    return clf, X, y


@pytest.fixture(scope="module")
def q1(published_tables):
    """MD tree Q1 fitted on the clean collection; the noisy one as a test set."""
    clean, noisy = (published_tables[name] for name in ("clean", "noisy"))
    clean = clean[clean["bs_failure"] != "optimal"]
    noisy = noisy[noisy["bs_failure"] != "optimal"]
    clf = MDTreeClassifier("q1").fit(clean[FEATURES], clean["bs_failure"])
    return clf, clean, noisy


def _by_gid(artists):
    return {artist.get_gid(): artist for artist in artists if artist.get_gid()}


# ---------------------------------------------------------------------------- plot_tree
def test_tree_boxes_show_each_split_threshold_and_each_leaf_class_support_purity(q1):
    clf, clean, _ = q1
    ax = plot_tree(clf, decimals=3)
    texts = [t.get_text() for t in ax.texts]
    tree = clf.tree_
    for node, name, position in zip((0, 2, 3), FEATURES, range(3)):
        threshold = tree["threshold"][node]
        assert f"{name} <= {threshold:.3f}\nsplit {position} · n = {tree['value'][node].sum()}" in texts
    leaves = clf.apply(clean[FEATURES])
    truth = clean["bs_failure"].to_numpy()
    for regime, leaf in enumerate(Q1_LEAVES, start=1):
        label = clf.classes_[tree["leaf_class"][leaf]]
        here = leaves == leaf
        purity = np.mean(truth[here] == label)  # from apply, not from tree_
        assert f"leaf {leaf} · regime {regime}\n{label}\nn = {here.sum()} · purity {purity:.3f}" in texts
    # the paper's leaves: small where the model interpolates, large at good connectivity
    assert any(t.startswith("leaf 1 · regime 1\nsmall\n") for t in texts)
    assert any(t.startswith("leaf 6 · regime 4\nlarge\n") for t in texts)


def test_tree_has_an_arrow_per_edge_and_yes_no_labels():
    clf, _, _ = _synthetic()
    ax = plot_tree(clf)
    n_nodes = clf.tree_["children_left"].size
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == n_nodes - 1
    words = [t.get_text() for t in ax.texts]
    assert words.count("yes") == words.count("no") == 3
    assert not ax.axison


def test_tree_leaf_boxes_take_the_colour_of_their_class():
    clf, _, _ = _synthetic()
    ax = plot_tree(clf, colors={"a": "tab:green", "b": "tab:purple"})
    boxes = {t.get_text().split(" · ")[0]: t.get_bbox_patch().get_facecolor() for t in ax.texts
             if t.get_text().startswith("leaf")}
    assert boxes["leaf 1"] == to_rgba("tab:green", 0.35)
    assert boxes["leaf 5"] == to_rgba("tab:purple", 0.35)
    assert boxes["leaf 6"] == to_rgba("tab:purple", 0.35)


def test_tree_uses_given_axes_and_names_and_fits_text_to_a_small_axes():
    clf, _, _ = _synthetic()
    fig, ax = plt.subplots(figsize=(4.0, 3.0))
    assert plot_tree(clf, ax=ax, feature_names=["e", "c", "h"]) is ax
    assert plt.get_fignums() == [fig.number]
    assert ax.texts[0].get_text().startswith("e <= ")
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in ax.texts if t.get_bbox_patch()
             and t.get_text() not in ("yes", "no")]
    assert ax.texts[0].get_fontsize() < plt.rcParams["font.size"]
    assert not any(a.overlaps(b) for a, b in combinations(boxes, 2))
    ax2 = plot_tree(clf, fontsize=7)
    assert {t.get_fontsize() for t in ax2.texts if t.get_text() not in ("yes", "no")} == {7}


def test_tree_rejects_bad_input():
    clf, X, y = _synthetic()
    with pytest.raises(NotFittedError):
        plot_tree(MDTreeClassifier("q1"))
    with pytest.raises(TypeError, match="expected a fitted MDTreeClassifier, got DecisionTree"):
        plot_tree(DecisionTreeClassifier().fit(X, y))
    with pytest.raises(ValueError, match="expected 3 feature names"):
        plot_tree(clf, feature_names=["a"])
    with pytest.raises(TypeError, match="single string"):
        plot_tree(clf, feature_names="abc")
    with pytest.raises(TypeError, match="expected ax to be a matplotlib Axes"):
        plot_tree(clf, ax="left")
    with pytest.raises(ValueError, match="expected decimals >= 0"):
        plot_tree(clf, decimals=-1)
    with pytest.raises(ValueError, match="expected fontsize > 0"):
        plot_tree(clf, fontsize=0)
    with pytest.raises(TypeError, match="expected colors to be a mapping"):
        plot_tree(clf, colors=["red", "blue"])


# ------------------------------------------------------------------------- plot_regimes
@pytest.mark.parametrize("collection", ["clean", "noisy"])
def test_regimes_points_per_leaf_are_the_counts_of_apply(q1, collection):
    clf, clean, noisy = q1
    data = clean if collection == "clean" else noisy
    left, right = plot_regimes(clf, data[FEATURES], data["bs_failure"])
    leaves = clf.apply(data[FEATURES])
    drawn = {**_by_gid(left.collections), **_by_gid(right.collections)}
    assert sorted(drawn) == [f"leaf-{leaf}" for leaf in Q1_LEAVES]
    for leaf in Q1_LEAVES:
        offsets = drawn[f"leaf-{leaf}"].get_offsets()
        rows = data[FEATURES].to_numpy()[leaves == leaf]
        assert len(offsets) == np.sum(leaves == leaf) > 0
        # x = connectivity, y = sharpness on both sides (the left side is a leaf)
        np.testing.assert_array_equal(offsets, rows[:, [1, 2]])
    assert len(_by_gid(left.collections)) == 1
    assert left.get_xlabel() == right.get_xlabel() == "mode_connectivity_peak"
    assert left.get_ylabel() == right.get_ylabel() == "hessian_t"


def test_regimes_boundaries_are_the_fitted_thresholds(q1):
    clf, clean, _ = q1
    left, right = plot_regimes(clf, clean[FEATURES], clean["bs_failure"])
    t = clf.tree_["threshold"]
    assert len(left.get_lines()) == 0  # the <= side is one leaf
    lines = _by_gid(right.get_lines())
    assert sorted(lines) == ["threshold-2", "threshold-3"]
    connectivity, sharpness = lines["threshold-2"], lines["threshold-3"]
    np.testing.assert_array_equal(connectivity.get_xdata(), [t[2], t[2]])
    assert tuple(connectivity.get_ydata()) == right.get_ylim()  # across the whole panel
    np.testing.assert_array_equal(sharpness.get_ydata(), [t[3], t[3]])
    # the sharpness test only holds left of the connectivity threshold
    assert tuple(sharpness.get_xdata()) == (right.get_xlim()[0], t[2])
    assert connectivity.get_linestyle() == "--" and connectivity.get_color() == "black"
    assert "train_error <= " in left.get_title() and "train_error > " in right.get_title()


def test_regimes_are_labelled_with_the_leaf_ids_inside_their_regions(q1):
    clf, clean, _ = q1
    left, right = plot_regimes(clf, clean[FEATURES], clean["bs_failure"])
    t = clf.tree_["threshold"]
    assert [text.get_text() for text in left.texts] == ["leaf 1 · regime 1"]
    labels = {text.get_text(): text.get_position() for text in right.texts}
    assert sorted(labels) == ["leaf 4 · regime 2", "leaf 5 · regime 3", "leaf 6 · regime 4"]
    x4, y4 = labels["leaf 4 · regime 2"]
    x5, y5 = labels["leaf 5 · regime 3"]
    x6, _ = labels["leaf 6 · regime 4"]
    assert x4 <= t[2] and y4 <= t[3] and x5 <= t[2] and y5 > t[3] and x6 > t[2]


def test_regimes_points_are_coloured_by_true_label(q1):
    clf, _, noisy = q1
    colors = {"small": "tab:blue", "large": "tab:red"}
    left, right = plot_regimes(clf, noisy[FEATURES], noisy["bs_failure"], colors=colors)
    leaves = clf.apply(noisy[FEATURES])
    truth = noisy["bs_failure"].to_numpy()
    for ax in (left, right):
        for gid, collection in _by_gid(ax.collections).items():
            expected = [to_rgba(colors[label], 0.75) for label in truth[leaves == int(gid[5:])]]
            np.testing.assert_allclose(collection.get_facecolors(), expected)
    legend = [text.get_text() for text in right.get_legend().get_texts()]
    assert legend == ["large", "small", "fitted threshold"]


def test_regimes_one_feature_per_side_uses_the_root_feature_as_second_axis(published_tables):
    clean = published_tables["clean"]
    clean = clean[clean["width_vs_batch"] != "optimal"]
    clf = MDTreeClassifier("q2_width").fit(clean[FEATURES], clean["width_vs_batch"])
    t = clf.tree_["threshold"]
    left, right = plot_regimes(clf, clean[FEATURES], clean["width_vs_batch"])
    for ax, node in ((left, 1), (right, 4)):
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("mode_connectivity_peak", "train_error")
        lines = _by_gid(ax.get_lines())
        assert sorted(lines) == ["threshold-0", f"threshold-{node}"]
        np.testing.assert_array_equal(lines["threshold-0"].get_ydata(), [t[0], t[0]])
        np.testing.assert_array_equal(lines[f"threshold-{node}"].get_xdata(), [t[node], t[node]])
    # the paper's Figure 5 axes: sharpness is on the panel, not in the tree, so no root line
    left, right = plot_regimes(clf, clean[FEATURES], clean["width_vs_batch"],
                               features=("mode_connectivity_peak", "hessian_t"))
    assert right.get_ylabel() == "hessian_t"
    assert sorted(_by_gid(right.get_lines())) == ["threshold-4"]


def test_regimes_of_a_stump_are_strips_along_the_root_feature():
    X = np.arange(0.05, 1.0, 0.1).reshape(-1, 1)
    y = np.where(X[:, 0] < 0.5, "small", "large")
    clf = MDTreeClassifier().fit(X, y)
    axes = plot_regimes(clf, X, y, feature_names=["train_error"])
    assert axes.shape == (2,)
    for ax, leaf in zip(axes, (1, 2)):
        offsets = _by_gid(ax.collections)[f"leaf-{leaf}"].get_offsets()
        assert len(offsets) == 5 and np.all(offsets[:, 1] == 0)
        assert list(ax.get_yticks()) == []
        np.testing.assert_array_equal(_by_gid(ax.get_lines())["threshold-0"].get_xdata(),
                                      [clf.thresholds_[0]] * 2)


def test_regimes_split_off_the_axes_stacks_the_labels_of_its_leaves():
    clf, X, y = _synthetic()
    _, right = plot_regimes(clf, X, y, features=(1, 0))  # column 2 (node 3) is not drawn
    assert sorted(_by_gid(right.get_lines())) == ["threshold-0", "threshold-2"]
    texts = sorted(text.get_text() for text in right.texts)
    assert texts == ["leaf 4 · regime 2\nleaf 5 · regime 3", "leaf 6 · regime 4"]


def test_regimes_draw_labels_outside_the_classes_after_them():
    clf, X, y = _synthetic()
    y = y.astype(object)
    y[:5] = "optimal"
    left, right = plot_regimes(clf, X, y)
    legend = [text.get_text() for text in right.get_legend().get_texts()]
    assert legend == ["a", "b", "optimal", "fitted threshold"]
    colors = np.concatenate([c.get_facecolors() for ax in (left, right) for c in ax.collections])
    assert any(np.allclose(c, to_rgba("C2", 0.75)) for c in colors)


def test_regimes_use_the_given_axes():
    clf, X, y = _synthetic()
    fig, grid = plt.subplots(2, 2)
    out = plot_regimes(clf, X[:100], y[:100], axes=grid[0])
    plot_regimes(clf, X[100:], y[100:], axes=grid[1])
    assert list(out) == list(grid[0]) and plt.get_fignums() == [fig.number]
    n_points = sum(len(c.get_offsets()) for ax in grid.ravel() for c in ax.collections)
    assert n_points == 200


def test_regimes_reject_bad_input():
    clf, X, y = _synthetic()
    with pytest.raises(NotFittedError):
        plot_regimes(MDTreeClassifier(_three_feature_tree()), X, y)
    with pytest.raises(ValueError, match=r"expected one label per row of X \(200\), got 199"):
        plot_regimes(clf, X, y[:-1])
    with pytest.raises(ValueError, match="1-d array of labels"):
        plot_regimes(clf, X, y.reshape(-1, 1))
    with pytest.raises(ValueError, match="3 features"):
        plot_regimes(clf, X[:, :2], y)
    with pytest.raises(TypeError, match="expected axes to be two matplotlib Axes"):
        plot_regimes(clf, X, y, axes=plt.subplots()[1])
    with pytest.raises(TypeError, match="each of axes"):
        plot_regimes(clf, X, y, axes=["a", "b"])
    with pytest.raises(ValueError, match="expected feature names among the columns"):
        plot_regimes(clf, X, y, features=("x[1]", "sharpness"))
    with pytest.raises(ValueError, match="expected two different columns"):
        plot_regimes(clf, X, y, features=(1, 1))
    with pytest.raises(ValueError, match=r"column indices in \[0, 2\]"):
        plot_regimes(clf, X, y, features=(0, 3))
    with pytest.raises(TypeError, match="pair"):
        plot_regimes(clf, X, y, features="x[1]")
    wide = np.column_stack([X, X[:, 0]])
    wide[3, 3] = np.nan
    clf4 = MDTreeClassifier(_three_feature_tree()).fit(np.nan_to_num(wide), y)
    with pytest.raises(ValueError, match=r"finite values in feature 'x\[3\]' to draw, got 1 NaN"):
        plot_regimes(clf4, wide, y, features=(1, 3))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 60))
def test_regimes_every_point_lies_in_the_region_of_its_leaf(seed, n):
    clf, X, y = _synthetic(seed, n)
    t = clf.tree_["threshold"]
    left, right = plot_regimes(clf, X, y)
    drawn = {**_by_gid(left.collections), **_by_gid(right.collections)}
    leaves = clf.apply(X)
    regions = {  # (x = column 1, y = column 2) on both panels
        "leaf-1": lambda x, y: np.ones_like(x, dtype=bool),
        "leaf-4": lambda x, y: (x <= t[2]) & (y <= t[3]),
        "leaf-5": lambda x, y: (x <= t[2]) & (y > t[3]),
        "leaf-6": lambda x, y: x > t[2],
    }
    assert sum(len(c.get_offsets()) for c in drawn.values()) == n
    for gid, inside in regions.items():
        offsets = np.asarray(drawn[gid].get_offsets())
        assert len(offsets) == np.sum(leaves == int(gid[5:]))
        assert np.all(inside(offsets[:, 0], offsets[:, 1]))
    plt.close("all")


# ------------------------------------------------------------------------- plot_fewshot
def _results():
    points = []
    for method, base in (("md_tree", 70.0), ("validation_dt", 55.0)):
        for protocol, ks in (("random", (1, 8, 4)), ("data_limit", (1, 2))):
            for k in ks:
                scores = [base + k + d for d in (-2.0, 0.0, 3.5)]
                points.append({"task": "q1", "label": "bs_failure", "protocol": protocol,
                               "k": k, "method": method, "mean": float(np.mean(scores)),
                               "std": float(np.std(scores)), "scores": scores})
    paper = {"task": "q1", "protocol": "random", "k": 1, "method": "md_tree", "accuracy": 76.64}
    return {"points": points, "paper": paper}


def test_fewshot_a_curve_per_method_sorted_by_k_with_std_band():
    results = _results()
    ax = plot_fewshot(results, protocol="random", method_labels={"md_tree": "MD tree"},
                      show_reference=False)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["MD tree", "validation_dt"]
    for line, method in zip(lines, ("md_tree", "validation_dt")):
        rows = sorted((p for p in results["points"]
                       if p["method"] == method and p["protocol"] == "random"),
                      key=lambda p: p["k"])
        assert line.get_xdata().tolist() == [1, 4, 8]
        np.testing.assert_allclose(line.get_ydata(), [p["mean"] for p in rows])
    assert len(ax.collections) == 2
    band = ax.collections[0].get_paths()[0].vertices
    md_rows = sorted((p for p in results["points"]
                      if p["method"] == "md_tree" and p["protocol"] == "random"),
                     key=lambda p: p["k"])
    for p in md_rows:
        for edge in (p["mean"] - p["std"], p["mean"] + p["std"]):
            assert np.any(np.isclose(band[:, 0], p["k"]) & np.isclose(band[:, 1], edge))
    assert ax.collections[0].get_facecolor()[0][:3] == pytest.approx(to_rgba(lines[0].get_color())[:3])


def test_fewshot_range_band_and_no_band():
    results = _results()
    ax = plot_fewshot(results, protocol="data_limit", band="range", show_reference=False)
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(70.0 + 1 - 2.0)
    assert band[:, 1].max() == pytest.approx(70.0 + 2 + 3.5)
    ax = plot_fewshot(results, protocol="data_limit", band=None)
    assert len(ax.collections) == 0


def test_fewshot_marks_the_reference_point_on_its_panel_only():
    results = _results()
    ax = plot_fewshot(results, protocol="random", method_labels={"md_tree": "MD tree"})
    star = ax.get_lines()[-1]
    assert star.get_marker() == "*" and star.get_label() == "paper: MD tree, k = 1 (76.64 %)"
    assert (star.get_xdata(), star.get_ydata()) == (1, 76.64)
    ax = plot_fewshot(results, protocol="data_limit")
    assert all(line.get_marker() != "*" for line in ax.get_lines())


def test_fewshot_draws_the_benchmark_json(published_tables, tmp_path):
    from benchmarks import fewshot

    points = fewshot.run(tasks=("q1",), protocols={"random": (1, 2)}, methods=("md_tree",))
    path = fewshot.write_json(points, tmp_path / "fewshot.json")
    ax = plot_fewshot(json.loads(path.read_text()))
    (curve, star) = ax.get_lines()
    assert curve.get_xdata().tolist() == [1, 2]
    assert curve.get_ydata().tolist() == [p["mean"] for p in points]
    assert round(curve.get_ydata()[0], 2) == star.get_ydata() == 76.64


def test_fewshot_rejects_bad_input():
    results = _results()
    with pytest.raises(ValueError, match="expected one protocol in the results or protocol="):
        plot_fewshot(results)
    with pytest.raises(ValueError, match="expected protocol among"):
        plot_fewshot(results, protocol="width_limit")
    with pytest.raises(ValueError, match="expected task among"):
        plot_fewshot(results, task="q2_width", protocol="random")
    with pytest.raises(ValueError, match=r"expected methods among .* got \['forest'\]"):
        plot_fewshot(results, protocol="random", methods=["forest"])
    with pytest.raises(ValueError, match="expected band"):
        plot_fewshot(results, protocol="random", band="sem")
    with pytest.raises(ValueError, match=r"got point 0 without \['mean'\]"):
        plot_fewshot([{"task": "q1", "protocol": "random", "k": 1, "method": "m", "std": 0}])
    with pytest.raises(ValueError, match="at least one"):
        plot_fewshot([])
    with pytest.raises(TypeError, match="a dict with keys"):
        plot_fewshot({"curves": []})
    with pytest.raises(TypeError, match="list of dicts"):
        plot_fewshot("fewshot.json")
    no_scores = [{k: v for k, v in p.items() if k != "scores"} for p in results["points"]]
    with pytest.raises(ValueError, match="per-seed 'scores'"):
        plot_fewshot(no_scores, protocol="random", band="range")


# ------------------------------------------------------------------------------ package
def test_no_function_shows_and_each_returns_its_axes(monkeypatch):
    def refuse():
        raise AssertionError("plt.show called")

    monkeypatch.setattr(plt, "show", refuse)
    clf, X, y = _synthetic()
    assert isinstance(plot_tree(clf), plt.Axes)
    assert all(isinstance(ax, plt.Axes) for ax in plot_regimes(clf, X, y))
    assert isinstance(plot_fewshot(_results(), protocol="random"), plt.Axes)


def test_importing_md_sklearn_does_not_import_matplotlib():
    code = "import sys, md_sklearn; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plotting_without_matplotlib_names_the_plot_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "md_sklearn.plotting"
                 or m.startswith(("md_sklearn.plotting.", "matplotlib"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r'pip install "md-sklearn\[plot\]"'):
        importlib.import_module("md_sklearn.plotting")
