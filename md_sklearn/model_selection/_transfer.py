"""The paper's transfer evaluation as a scikit-learn CV splitter."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from md_sklearn._protocol import PAPER_SEEDS, TIE_LABEL

__all__ = ["SAMPLING_PROTOCOLS", "TransferSplit", "transfer_table"]

#: How the training rows are drawn from the pool (paper-protocol.md §3).
SAMPLING_PROTOCOLS = ("random", "random_data", "random_width", "data_limit", "width_limit")


class TransferSplit(BaseCrossValidator):
    """Train on a protocol-drawn part of one collection, test on all of another.

    The rows of ``X`` are the concatenation of a *pool* (the paper's clean
    collection F) and a *test* collection (the noisy collection F'); ``groups``
    says which row belongs to which. For each repetition seed the training
    rows are drawn from the pool exactly as the MD tree paper does, and the
    test rows are the whole test collection. Used with
    :func:`sklearn.model_selection.cross_validate`, every method of the
    paper's Table B becomes one call.

    Draws for one seed (``data_levels`` and ``widths`` are the sorted distinct
    values in the pool; the legacy NumPy generator seeded with ``seed`` makes
    one call, reproducing the reference draws exactly):

    - ``"random"``: ``k`` of the (data, width) combinations, without replacement;
      training rows = pool rows with a picked combination.
    - ``"random_data"`` / ``"random_width"``: ``k`` data levels / widths.
    - ``"data_limit"`` / ``"width_limit"``: rows with ``data <= k`` /
      ``width <= k`` (deterministic; every seed gives the same rows).

    Parameters
    ----------
    sampling : {"random", "random_data", "random_width", "data_limit", "width_limit"}, \
default="random"
        How training rows are drawn from the pool.
    k : int or float, default=8
        Sample factor: number of combinations / levels drawn, or the limit.
    seeds : sequence of int, default=(42, 90, 38, 18, 72)
        One split per seed (the paper's repetition seeds by default).
    pool : object, default="clean"
        Value of ``groups`` that marks pool rows.
    test : object, default="noisy"
        Value of ``groups`` that marks test rows.
    data_column, width_column : str, default="data", "width"
        Columns of ``X`` holding the data level and the width.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from md_sklearn.model_selection import TransferSplit
    >>> X = pd.DataFrame({"data": [1, 1, 2, 2, 1, 2], "width": [2, 4, 2, 4, 2, 4]})
    >>> groups = ["clean"] * 4 + ["noisy"] * 2
    >>> cv = TransferSplit("data_limit", k=1, seeds=[0])
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(X, groups=groups)]
    [([0, 1], [4, 5])]
    """

    def __init__(
        self,
        sampling="random",
        k=8,
        seeds=PAPER_SEEDS,
        *,
        pool="clean",
        test="noisy",
        data_column="data",
        width_column="width",
    ):
        self.sampling = sampling
        self.k = k
        self.seeds = seeds
        self.pool = pool
        self.test = test
        self.data_column = data_column
        self.width_column = width_column

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: one per seed.

        Returns
        -------
        int
        """
        return len(self._checked_seeds())

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` row positions, one pair per seed.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Must hold ``data_column`` and ``width_column``.
        y : ignored
        groups : array-like of shape (n_samples,)
            ``pool`` for rows that may be drawn for training, ``test`` for
            the test rows; other values are ignored.

        Yields
        ------
        train, test : ndarray of int

        Raises
        ------
        TypeError
            If ``X`` is not a DataFrame.
        ValueError
            If ``groups`` is missing or marks no pool or no test row, a
            column is missing, or ``k`` does not fit the protocol.
        """
        pool_rows, test_rows, data, width = self._prepare(X, groups)
        for seed in self._checked_seeds():
            chosen = self._draw(data, width, seed)
            yield pool_rows[chosen], test_rows

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - unused
        raise NotImplementedError

    def _checked_seeds(self):
        seeds = [self.seeds] if isinstance(self.seeds, numbers.Integral) else list(self.seeds)
        if not seeds:
            raise ValueError("TransferSplit: expected at least one seed, got an empty sequence.")
        return seeds

    def _prepare(self, X, groups):
        if self.sampling not in SAMPLING_PROTOCOLS:
            raise ValueError(
                f"TransferSplit: expected sampling in {list(SAMPLING_PROTOCOLS)}, got {self.sampling!r}."
            )
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"TransferSplit: expected X as a pandas DataFrame with columns "
                f"{self.data_column!r} and {self.width_column!r}, got {type(X).__name__}."
            )
        missing = [c for c in (self.data_column, self.width_column) if c not in X.columns]
        if missing:
            raise ValueError(
                f"TransferSplit: expected columns {missing} in X, got {list(X.columns)}; "
                f"set data_column/width_column to the columns holding the data level and width."
            )
        if groups is None:
            raise ValueError(
                f"TransferSplit: expected groups marking pool rows ({self.pool!r}) and test rows "
                f"({self.test!r}), got None; pass groups=... to split() or cross_validate(), e.g. "
                f"the third value returned by md_sklearn.model_selection.transfer_table."
            )
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ValueError(
                f"TransferSplit: expected groups of shape ({len(X)},), got {groups.shape}."
            )
        pool_rows = np.flatnonzero(groups == self.pool)
        test_rows = np.flatnonzero(groups == self.test)
        for name, rows, marker in (("pool", pool_rows, self.pool), ("test", test_rows, self.test)):
            if rows.size == 0:
                raise ValueError(
                    f"TransferSplit: expected some {name} rows marked {marker!r} in groups, got "
                    f"none (values present: {sorted(map(str, set(groups.tolist())))})."
                )
        data = X[self.data_column].to_numpy()[pool_rows]
        width = X[self.width_column].to_numpy()[pool_rows]
        return pool_rows, test_rows, data, width

    def _draw(self, data, width, seed):
        """Boolean mask over pool rows for one seed."""
        k = self.k
        if self.sampling in ("data_limit", "width_limit"):
            values = data if self.sampling == "data_limit" else width
            chosen = values <= k
            if not chosen.any():
                raise ValueError(
                    f"TransferSplit: expected k >= the smallest {self.sampling[:-6]} value "
                    f"{values.min()}, got k={k}; no pool row satisfies the limit."
                )
            return chosen
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(
                f"TransferSplit: expected a positive integer k for sampling={self.sampling!r}, got {k!r}."
            )
        data_levels, widths = np.unique(data), np.unique(width)
        generator = np.random.RandomState(seed)  # legacy generator, as the reference draws
        if self.sampling == "random":
            n_combos = data_levels.size * widths.size
            _check_k(k, n_combos, "(data, width) combinations")
            picked = generator.choice(n_combos, size=k, replace=False)
            combos = {(data_levels[i // widths.size], widths[i % widths.size]) for i in picked}
            return np.fromiter(((d, w) in combos for d, w in zip(data, width)), bool, data.size)
        levels, values = (data_levels, data) if self.sampling == "random_data" else (widths, width)
        _check_k(k, levels.size, f"distinct {self.sampling[7:]} values")
        return np.isin(values, generator.choice(levels, size=k, replace=False))


def _check_k(k, available, what):
    if k > available:
        raise ValueError(
            f"TransferSplit: expected k <= {available} (the pool has {available} {what}), got k={k}."
        )


def transfer_table(
    pool, test, label, *, min_width=None, drop_label=TIE_LABEL, names=("clean", "noisy")
):
    """Concatenate a pool and a test collection for :class:`TransferSplit`.

    Rows whose ``label`` equals ``drop_label`` are dropped from both (the
    paper drops ``optimal`` per task), and optionally rows narrower than
    ``min_width`` (the paper's data-vs-optimizer task uses width >= 32).

    Parameters
    ----------
    pool, test : DataFrame
        E.g. ``load_model_diagnosis("clean")`` and ``load_model_diagnosis("noisy")``.
    label : str
        Target column (``"bs_failure"``, ``"width_vs_batch"``, ``"data_vs_batch"``).
    min_width : int, optional
        Keep only rows with ``width >= min_width``.
    drop_label : object or None, default="optimal"
        Label value whose rows are dropped; ``None`` keeps all rows.
    names : tuple of two objects, default=("clean", "noisy")
        Group markers for pool and test rows.

    Returns
    -------
    X : DataFrame
        Pool rows then test rows, index reset.
    y : Series
        The ``label`` column of ``X``.
    groups : ndarray
        ``names[0]`` for pool rows, ``names[1]`` for test rows.

    Raises
    ------
    ValueError
        If ``label`` (or ``width`` with ``min_width``) is not a column.

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn.model_selection import transfer_table
    >>> pool = pd.DataFrame({"width": [2, 4], "data": [1, 1], "bs_failure": ["small", "optimal"]})
    >>> X, y, groups = transfer_table(pool, pool, "bs_failure")
    >>> y.tolist(), groups.tolist()
    (['small', 'small'], ['clean', 'noisy'])
    """
    frames = []
    for frame in (pool, test):
        if label not in frame.columns:
            raise ValueError(
                f"expected the label column {label!r} in the table, got columns {list(frame.columns)}."
            )
        keep = np.ones(len(frame), dtype=bool)
        if drop_label is not None:
            keep &= (frame[label] != drop_label).to_numpy()
        if min_width is not None:
            if "width" not in frame.columns:
                raise ValueError("expected a 'width' column to apply min_width, got none.")
            keep &= (frame["width"] >= min_width).to_numpy()
        frames.append(frame[keep])
    X = pd.concat(frames, ignore_index=True)
    groups = np.repeat(np.asarray(names, dtype=object), [len(frames[0]), len(frames[1])])
    return X, X[label], groups
