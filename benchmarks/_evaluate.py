"""Scoring one method on transfer draws: the evaluation shared by the paper and fewshot benchmarks.

Each repetition seed draws a training set from the clean pool with
:class:`~md_sklearn.model_selection.TransferSplit` and scores the method on
the whole noisy collection through :func:`sklearn.model_selection.cross_validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sklearn.model_selection import cross_validate

from benchmarks._tableb import LABELS, make_pipeline
from md_sklearn._protocol import PAPER_SEEDS
from md_sklearn.datasets import load_model_diagnosis
from md_sklearn.model_selection import TransferSplit, transfer_table


@dataclass(frozen=True)
class SeedScore:
    """Test accuracy (percent) of one method on the draw of one repetition seed."""

    seed: int
    score: float
    n_train: int


def load_transfer_tables(data_home=None):
    """``{task: (X, y, groups)}`` for every task of :data:`LABELS`, pool = clean, test = noisy."""
    tables = {name: load_model_diagnosis(name, data_home=data_home) for name in ("clean", "noisy")}
    return {task: transfer_table(tables["clean"], tables["noisy"], label)
            for task, label in LABELS.items()}


def score_seed(method, task, sampling, k, X, y, groups, seed, random_state=None, cache=None):
    """Score ``method`` on the training draw of one seed.

    With a dict as ``cache``, a draw already scored with the same method and
    ``random_state`` (e.g. the deterministic ``*_limit`` draws of MD tree,
    identical for every seed) is not fitted again: fitting is deterministic.
    """
    train, test = next(TransferSplit(sampling, k, seeds=[seed]).split(X, groups=groups))
    key = (method, task, random_state, train.tobytes(), test.tobytes())
    if cache is not None and key in cache:
        return replace(cache[key], seed=seed)
    result = cross_validate(make_pipeline(method, task, random_state), X, y,
                            cv=[(train, test)], error_score="raise")
    result = SeedScore(seed, 100.0 * float(result["test_score"][0]), len(train))
    if cache is not None:
        cache[key] = result
    return result


def random_state_for(method, seed, dt_random_state="seed"):
    """``random_state`` of ``method`` for one repetition: none for MD tree, else the seed or a fixed int."""
    if method.startswith("md_tree"):
        return None
    return seed if dt_random_state == "seed" else dt_random_state


def evaluate(method, case, X, y, groups, seeds=PAPER_SEEDS, dt_random_state="seed"):
    """Test accuracies (percent) and training sizes of one method on one case.

    Decision-tree baselines get ``random_state=seed`` per repetition (the
    protocol); with ``dt_random_state`` an int, every tree uses that value.
    MD tree has no randomness.
    """
    scores, n_train = [], []
    for seed in seeds:
        result = score_seed(method, case.task, case.sampling, case.k, X, y, groups, seed,
                            random_state_for(method, seed, dt_random_state))
        scores.append(result.score)
        n_train.append(result.n_train)
    return scores, n_train
