"""Table B's evaluation protocol: repetition seeds, the methods compared and their pipelines.

Shared by ``md-sklearn demo``, the benchmarks and the validation study, so every one of
them compares the same methods on the same columns. Source: the paper's Table B and
the reference scripts (``evaluate_diagnosis_acc.py``); ``docs/table_b.rst``.
"""

from __future__ import annotations

from md_sklearn._protocol._labels import LABEL_COLUMNS, decided_classes

__all__ = ["BASELINE_TREE_DEPTH", "METHODS", "METHOD_TITLES", "PAPER_SEEDS", "method_features",
           "make_pipeline"]

#: Repetition seeds; each seeds the legacy NumPy generator before one draw.
PAPER_SEEDS = (42, 90, 38, 18, 72)

#: Depth of the DecisionTreeClassifier baselines.
BASELINE_TREE_DEPTH = 4

#: Columns each baseline reads. Hyperparameters of Q1 leave out the batch size, which is
#: what the diagnosis is about.
_HYPERPARAMETERS = {"q1": ("log_data_amount", "log_para_amount"),
                    "q2_width": ("log_data_amount",)}
_VALIDATION = ("train_error", "train_loss", "test_loss", "test_error")
_LANDSCAPE = ("train_error", "mode_connectivity_peak", "CKA", "hessian_t")
#: Features of the MD trees of Table B.
_MD_TREE = {"q1": ("train_error", "mode_connectivity_peak", "hessian_t"),
            "q2_width": ("train_error", "mode_connectivity_peak")}

#: Method key -> the title Table B prints, in the table's order.
METHOD_TITLES = {
    "hyperparameter_dt": "Hyperparameter+DT",
    "validation_dt": "Validation+DT",
    "landscape_dt": "Loss-landscape+DT",
    "hyper_validation_dt": "Hyper+Validation+DT",
    "md_tree": "MD tree (brent)",
    "md_tree_exhaustive": "MD tree (exhaustive)",
}
METHODS = tuple(METHOD_TITLES)


def method_features(method, task):
    """Columns a method reads for a task (``"q1"`` or ``"q2_width"``).

    Examples
    --------
    >>> from md_sklearn._protocol import method_features
    >>> method_features("hyper_validation_dt", "q1")
    ['log_data_amount', 'log_para_amount', 'train_error', 'train_loss', 'test_loss', 'test_error']
    """
    if method not in METHOD_TITLES:
        raise ValueError(f"expected a method among {list(METHODS)}, got {method!r}.")
    if task not in _MD_TREE:
        raise ValueError(f"expected a task among {sorted(_MD_TREE)}, got {task!r}.")
    hyper = list(_HYPERPARAMETERS[task])
    return {
        "hyperparameter_dt": hyper,
        "validation_dt": list(_VALIDATION),
        "landscape_dt": list(_LANDSCAPE),
        "hyper_validation_dt": hyper + list(_VALIDATION),
        "md_tree": list(_MD_TREE[task]),
        "md_tree_exhaustive": list(_MD_TREE[task]),
    }[method]


def make_pipeline(method, task, random_state=None):
    """``Pipeline(ColumnTransformer(select the method's columns), classifier)``.

    MD tree methods fit the task's paper hierarchy (Brent or exhaustive search) and
    predict both decided labels even when a few-shot draw holds one; the baselines are
    ``DecisionTreeClassifier(max_depth=4)``.

    Examples
    --------
    >>> from md_sklearn._protocol import make_pipeline
    >>> pipe = make_pipeline("md_tree", "q1")
    >>> [name for name, _ in pipe.steps], pipe[-1].classes
    (['select', 'model'], ['small', 'large'])
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    from md_sklearn._tree._classifier import MDTreeClassifier

    select = ColumnTransformer(
        [("features", "passthrough", method_features(method, task))],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    select.set_output(transform="pandas")
    if method.startswith("md_tree"):
        search = "exhaustive" if method.endswith("exhaustive") else "brent"
        classes = decided_classes(LABEL_COLUMNS[task])
        model = MDTreeClassifier(task, threshold_search=search, classes=classes)
    else:
        model = DecisionTreeClassifier(
            criterion="gini", max_depth=BASELINE_TREE_DEPTH, random_state=random_state
        )
    return Pipeline([("select", select), ("model", model)])
