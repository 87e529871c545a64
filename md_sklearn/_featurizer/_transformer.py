"""LandscapeFeaturizer: groups of trained torch models in, the paper's feature table out."""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
import sys
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from extractors import defaults as _C
from md_sklearn._featurizer import _worker
from md_sklearn._featurizer._cache import FeatureCache, unit_key
from md_sklearn._featurizer._inputs import check_groups as _check_groups
from md_sklearn._featurizer._inputs import group_labels as _labels
from md_sklearn._featurizer._keys import ContentKeys, derive_seed
from md_sklearn._featurizer._metrics import (
    CONNECTIVITY_STD,
    eval_columns,
    metric_names,
    se_column,
    unit_named,
    unit_of,
)
from md_sklearn._featurizer._worker import GroupTask
from md_sklearn._utils._compat import AddedParametersMixin
from md_sklearn._utils._extras import available, progress_bar

__all__ = ["LandscapeFeaturizer"]

#: The metrics of the paper's Q1 tree and its CKA variant (the default selection).
DEFAULT_METRICS = ("train_error", "mode_connectivity_peak", "hessian_t", "CKA")

_DEVICE_PATTERN = re.compile(r"auto|cpu|mps|(cuda|xpu)(:\d+)?")


class LandscapeFeaturizer(AddedParametersMixin, TransformerMixin, BaseEstimator):
    """Loss-landscape features of groups of trained torch models, as the paper's table.

    Each input sample is a :class:`ModelGroup` (the models of one training
    configuration, trained from different seeds, and their training data); each
    output row holds its metrics, named and scaled exactly like the columns of
    :func:`~md_sklearn.datasets.load_model_diagnosis`, so that a tree fitted on the
    published tables applies to your own models. The metrics are measured by the
    ``extractors`` package (torch) with the paper's settings, and aggregated over
    the group as the paper does:

    - ``train_error``, ``train_loss`` (``test_error``, ``test_loss``): means over
      the members of the error in percent and of the mean cross-entropy on the
      whole training (evaluation) data;
    - ``hessian_t``, ``hessian_e``: natural log of the mean over the members of the
      Hessian trace (top eigenvalue) on one random batch per member (the log of the
      mean, not the mean of the logs; NaN with a warning when the mean is not
      positive);
    - ``mode_connectivity_peak``: minus the peak train error along a Bezier curve
      trained between the first two members (``connectivity_pairs="all"``: the mean
      over every pair, plus a ``mode_connectivity_peak_std`` column, the population
      standard deviation over the pairs);
    - ``CKA``: mean linear CKA of the members' softmax outputs over ordered pairs.

    ``fit`` computes nothing: it checks the settings and records the output
    columns; ``transform`` does the work, one group at a time per worker.

    Parameters
    ----------
    metrics : sequence of str, default=("train_error", "mode_connectivity_peak", "hessian_t", "CKA")
        Columns to compute, in this order. Valid names: ``"train_error"``,
        ``"train_loss"``, ``"test_error"``, ``"test_loss"``, ``"hessian_t"``,
        ``"hessian_e"``, ``"mode_connectivity_peak"``, ``"CKA"``. When the groups seen
        by ``fit`` carry ``eval_data``, ``test_error`` and ``test_loss`` are added
        after the requested columns (NaN for groups without ``eval_data``); the
        groups' ``meta`` keys come last.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``. With ``"auto"`` or ``"cuda"`` and several GPUs, group ``i`` of
        the input runs on GPU ``i % device_count``, so parallel workers share the GPUs.
        The device does not change the quantities (only their rounding) and is not
        part of the cache key.
    random_state : int, RandomState instance or None, default=None
        Seed of the random parts (Hessian batches and probes, curve training, CKA
        batches). Each group's seeds are derived from ``random_state`` and a hash of
        the group's content (the weights as loaded and the training data), so the
        values do not depend on the order of the groups, on ``n_jobs``, on the backend
        or on how the weights were stored. ``None`` (or a RandomState) draws a base seed
        per call.
    n_jobs : int or None, default=None
        Groups computed in parallel with joblib; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context (any backend, e.g. ``"dask"`` for a
        cluster), ``-1`` all processors.
    cache_dir : str, os.PathLike or None, default=None
        Folder where each finished group's values are written at once (one small JSON
        file per metric unit, written atomically), keyed by the content hash of the
        members' weights (as loaded: the same weights stored as a module, a state dict,
        a ``.pt``, ``.safetensors`` or ``.ckpt`` file share one key) and data, every
        option that changes the value, the seed and the metric code. A rerun, or an interrupted run restarted, computes only what is
        missing. Nothing about a failed group is written. ``None``: no cache.
    progress : bool, default=True
        A tqdm bar over the groups (and, when the groups run in this process, a bar
        over the curve-training epochs); silent when stderr is not a terminal or tqdm
        is not installed.
    on_error : {"raise", "nan"}, default="raise"
        What a failing group does: raise an error naming the group and the member, or
        warn and give the group a row of NaN.
    connectivity_pairs : {"first", "all"}, default="first"
        Fit one curve between the first two members (paper), or one per pair of
        members and report the mean and the spread.
    hessian_n_samples : int, default=200
        Size of the random batch each member's Hessian is taken on (paper: 200).
    hessian_max_probes : int, default=100
        Most Hessian-vector products per member: Hutchinson probes for ``hessian_t``,
        power iterations for ``hessian_e`` (paper: 100 for both).
    hessian_rtol : float, default=1e-3
        Relative change that stops the trace estimate and the power iteration
        (paper: 1e-3 for both).
    hessian_target_se : float or None, default=None
        Stop each member's trace probes on precision instead of ``hessian_rtol``: the
        target is the standard error of ``hessian_t`` (log scale), e.g. 0.02.  With
        ``n`` members each trace stops once its own relative standard error (the
        standard error of its log, delta method) is at most ``hessian_target_se *
        sqrt(n)``, which gives the group this target when the members' traces are
        equal (``docs/featurizer.rst`` gives the bound otherwise); at most
        ``hessian_max_probes`` probes each, with a warning when a member stops there.
        Enters the cache key; ``None`` (the paper's rule) leaves the key as before.
        ``hessian_e`` is not affected.
    hessian_n_batches : int, default=1
        Independent random batches of ``hessian_n_samples`` per member for
        ``hessian_t`` (paper: 1), each with its own probes; the member's trace is their
        mean. With more than one, ``hessian_t_se`` covers the draw of the batch as well
        as the probes (with one, the probes only; the batch draw is usually the larger
        share: ``docs/extractors.rst``, *Noise and standard errors*). Costs
        ``hessian_n_batches`` times the probes. Enters the cache key when above 1.
        Not combined with ``hessian_target_se``.
    curve_epochs : int, default=50
        Epochs of curve training (paper: 50 on the 50,000 CIFAR-10 images; the
        research code kept the number of steps about constant, so use more epochs on
        less data, or ``curve_steps``). Ignored when ``curve_steps`` is set.
    curve_steps : int or None, default=None
        A curve-training budget in optimizer steps that does not shrink with a group's
        data: each group trains its curve for the fewest whole epochs giving at least
        this many steps over its training data (``ceil(n / curve_batch_size)`` steps
        an epoch). The paper's budget is 50 epochs x 391 steps = 19,550 steps. The
        resolved epochs, not this number, enter the cache key. ``None``: use
        ``curve_epochs`` for every group.
    curve_batch_size : int, default=128
        Mini-batch size of curve training (paper: 128).
    curve_lr : float, default=0.01
        Base learning rate of curve training (paper: 0.01).
    cka_n_batches : int, default=6
        Shuffled training batches the outputs are compared on (paper: 6).
    cka_batch_size : int, default=128
        Samples per CKA batch (paper: 128).
    cka_mixup_alpha : float or None, default=16.0
        Beta parameter of the mixup weight of each CKA batch (paper: 16); ``None``
        compares on unmixed inputs.
    return_uncertainty : bool, default=False
        Also report each metric's standard error as a ``<column>_se`` column, after
        the metric columns (``docs/featurizer.rst`` says what each covers):
        ``hessian_t_se`` (``hessian_e_se``) on the log scale by the delta method from
        the members' probe (convergence) errors; ``CKA_se`` by the jackknife over the
        CKA batches; ``mode_connectivity_peak_se`` the spread of the peaks over the
        pairs over ``sqrt(n_pairs)`` -- NaN with one curve (``connectivity_pairs=
        "first"`` or two members), which cannot measure its own noise; the errors'
        and losses' the spread over the members over ``sqrt(n)``. They are computed
        and cached with the values whatever this says, so switching it on reuses the
        cache. Pass the table to :func:`~md_sklearn.explain` as ``X_se`` for a
        diagnosis with its confidence; the paper's trees read only their own columns.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Output columns: the metric columns, then the ``meta`` keys seen in ``fit``.
    meta_columns_ : tuple of str
        The ``meta`` keys seen in ``fit``, in order of first appearance.

    See Also
    --------
    ModelGroup : One input sample.
    MDTreeClassifier : The diagnosis tree these features feed.

    Notes
    -----
    The input is a list of :class:`ModelGroup`, not an array, so scikit-learn's
    ``validate_data`` does not apply and no ``n_features_in_`` is recorded; the
    groups are checked here instead, and the estimator tags say the input is not a
    2-d array. The output is a DataFrame indexed by the group names whatever
    ``set_output`` says (``"pandas"`` and ``"default"`` both give it; the index is
    what identifies the groups).

    Parallel workers receive the groups pickled (checkpoint paths travel as
    strings; modules and datasets are copied). Under the loky backend each worker
    is limited to ``cpu_count // n_jobs`` threads. On a Dask cluster the checkpoint
    paths must be readable from the workers; the cache is written by the calling
    process.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from md_sklearn import LandscapeFeaturizer, ModelGroup
    >>> _ = torch.manual_seed(0)
    >>> data = TensorDataset(torch.randn(64, 4), torch.randint(0, 3, (64,)))
    >>> groups = [ModelGroup([torch.nn.Linear(4, 3) for _ in range(2)], data, name=f"g{i}")
    ...           for i in range(2)]
    >>> featurizer = LandscapeFeaturizer(["train_error", "hessian_t", "CKA"], device="cpu",
    ...                                  random_state=0, progress=False, hessian_n_samples=32,
    ...                                  hessian_max_probes=5, cka_n_batches=2, cka_batch_size=32)
    >>> table = featurizer.fit_transform(groups)
    >>> table.shape, list(table.columns), list(table.index)
    ((2, 3), ['train_error', 'hessian_t', 'CKA'], ['g0', 'g1'])
    >>> bool(table["CKA"].between(0, 1).all())
    True
    """

    _parameter_constraints: dict = {
        "metrics": [list, tuple],
        "device": [str],
        "random_state": ["random_state"],
        "n_jobs": [None, numbers.Integral],
        "cache_dir": [None, str, os.PathLike],
        "progress": ["boolean"],
        "on_error": [StrOptions({"raise", "nan"})],
        "connectivity_pairs": [StrOptions({"first", "all"})],
        "hessian_n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "hessian_max_probes": [Interval(numbers.Integral, 1, None, closed="left")],
        "hessian_rtol": [Interval(numbers.Real, 0, None, closed="left")],
        "hessian_target_se": [None, numbers.Real],  # > 0 checked in fit, with the fix
        "hessian_n_batches": [Interval(numbers.Integral, 1, None, closed="left")],
        "curve_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "curve_steps": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "curve_batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "curve_lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "cka_n_batches": [Interval(numbers.Integral, 1, None, closed="left")],
        "cka_batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "cka_mixup_alpha": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "return_uncertainty": ["boolean"],
    }

    def __init__(
        self,
        metrics=DEFAULT_METRICS,
        *,
        device="auto",
        random_state=None,
        n_jobs=None,
        cache_dir=None,
        progress=True,
        on_error="raise",
        connectivity_pairs="first",
        hessian_n_samples=_C.HESSIAN_N_SAMPLES,
        hessian_max_probes=_C.TRACE_MAX_PROBES,
        hessian_rtol=_C.TRACE_RTOL,
        hessian_target_se=None,
        hessian_n_batches=1,
        curve_epochs=_C.CURVE_EPOCHS,
        curve_steps=None,
        curve_batch_size=_C.CURVE_BATCH_SIZE,
        curve_lr=_C.CURVE_LR,
        cka_n_batches=_C.CKA_N_BATCHES,
        cka_batch_size=_C.CKA_BATCH_SIZE,
        cka_mixup_alpha=_C.CKA_MIXUP_ALPHA,
        return_uncertainty=False,
    ):
        self.metrics = metrics
        self.device = device
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.cache_dir = cache_dir
        self.progress = progress
        self.on_error = on_error
        self.connectivity_pairs = connectivity_pairs
        self.hessian_n_samples = hessian_n_samples
        self.hessian_max_probes = hessian_max_probes
        self.hessian_rtol = hessian_rtol
        self.hessian_target_se = hessian_target_se
        self.hessian_n_batches = hessian_n_batches
        self.curve_epochs = curve_epochs
        self.curve_steps = curve_steps
        self.curve_batch_size = curve_batch_size
        self.curve_lr = curve_lr
        self.cka_n_batches = cka_n_batches
        self.cka_batch_size = cka_batch_size
        self.cka_mixup_alpha = cka_mixup_alpha
        self.return_uncertainty = return_uncertainty

    #: Parameters added after the first release -> their default, so featurizers pickled
    #: before they existed load with today's behaviour (the value they had then).
    _ADDED_PARAMETERS = {"curve_steps": None, "return_uncertainty": False,
                         "hessian_target_se": None, "hessian_n_batches": 1}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # the input is a list of ModelGroup
        tags.transformer_tags.preserves_dtype = []
        tags.non_deterministic = not isinstance(self.random_state, numbers.Integral)
        return tags

    # ------------------------------------------------------------------ API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, groups, y=None):
        """Check the settings and record the output columns; computes nothing.

        Parameters
        ----------
        groups : list of ModelGroup
            The groups; their ``eval_data`` and ``meta`` decide the extra columns.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self : LandscapeFeaturizer
            The fitted featurizer.

        Raises
        ------
        TypeError
            If ``groups`` is not a list of :class:`ModelGroup`.
        ValueError
            If a metric name is unknown or repeated, the device is not one of the
            accepted forms, ``hessian_target_se`` is not a finite number > 0, or a
            ``meta`` key collides with a metric column.
        """
        metrics = self._check_metrics()
        target = self.hessian_target_se
        if target is not None and (isinstance(target, bool)
                                   or not (math.isfinite(target) and target > 0)):
            raise ValueError(
                f"expected hessian_target_se to be a finite number > 0, got {target}; pass "
                "the standard error of hessian_t (log scale) you want, e.g. 0.02, or None "
                "for the paper's stopping rule (hessian_rtol)."
            )
        n_batches = getattr(self, "hessian_n_batches", 1)
        if target is not None and n_batches != 1:
            raise ValueError(
                f"expected hessian_n_batches=1 with hessian_target_se, got "
                f"hessian_n_batches={n_batches}; the target bounds the probe noise of one "
                "batch, not the spread over batches: use one of the two."
            )
        if not _DEVICE_PATTERN.fullmatch(self.device):
            raise ValueError(
                f"expected device to be 'auto', 'cpu', 'cuda' or 'cuda:N', got "
                f"{self.device!r}; pass one of those."
            )
        groups = _check_groups(groups)
        columns = list(metrics)
        if self.connectivity_pairs == "all" and "mode_connectivity_peak" in columns:
            columns.insert(columns.index("mode_connectivity_peak") + 1, CONNECTIVITY_STD)
        if any(group.eval_data is not None for group in groups):
            columns += [name for name in eval_columns() if name not in columns]
        if self.return_uncertainty:
            columns += [se_column(name) for name in columns if name != CONNECTIVITY_STD]
            if ("mode_connectivity_peak" in columns and (
                    self.connectivity_pairs == "first"
                    or any(len(group.members) < 3 for group in groups))):
                warnings.warn(
                    "mode_connectivity_peak_se is NaN for a group with one curve "
                    "(connectivity_pairs='first', or two members): one curve cannot measure "
                    "its own noise. Use connectivity_pairs='all' with three or more members.",
                    UserWarning, stacklevel=2)
        meta = []
        for group in groups:
            meta += [key for key in group.meta if key not in meta]
        clash = [key for key in meta if key in metric_names() or key in columns]
        if clash:
            raise ValueError(
                f"expected meta keys that differ from the metric columns, got {clash}; rename "
                "those meta entries."
            )
        self.meta_columns_ = tuple(meta)
        self.feature_names_out_ = np.asarray(columns + meta, dtype=object)
        return self

    def transform(self, groups):
        """Compute the features of each group (from the cache where possible).

        Parameters
        ----------
        groups : list of ModelGroup
            The groups to compute; names must be unique.

        Returns
        -------
        pandas.DataFrame of shape (n_groups, n_features_out)
            One row per group, indexed by the group names (``"group_<i>"`` for
            unnamed groups), columns ``feature_names_out_``.

        Raises
        ------
        TypeError
            If ``groups`` is not a list of :class:`ModelGroup`.
        ValueError
            If two groups share a name, ``cache_dir`` cannot be written, or (with
            ``on_error="raise"``) a group fails: too few members for connectivity or
            CKA, members of different architectures, a truncated checkpoint or one that
            needs pickle, labels beyond the model's classes, ... The message names the
            group and the member.
        FileNotFoundError
            If a checkpoint file is missing (``on_error="raise"``); the message names
            the group, the member and the path.
        """
        check_is_fitted(self)
        groups = _check_groups(groups)
        labels = _labels(groups)
        columns = list(self.feature_names_out_)
        metric_columns = columns[:len(columns) - len(self.meta_columns_)]
        units = list(dict.fromkeys(unit_of(c).name for c in metric_columns
                                   if unit_of(c) is not None))
        cache = FeatureCache(self.cache_dir) if self.cache_dir is not None else None
        values, failed, tasks, unit_keys = self._plan(groups, labels, units, cache)

        for outcome in self._run(tasks):
            label = labels[outcome.index]
            for note in outcome.notes:
                warnings.warn(note, UserWarning, stacklevel=2)
            if outcome.error is not None:
                self._fail(RuntimeError(outcome.error), label)
                failed[outcome.index] = True
                continue
            for unit, unit_values in outcome.values.items():
                if cache is not None:
                    cache.put(unit, unit_keys[outcome.index][unit], unit_values, label)
                values[outcome.index].update(unit_values)
        return self._table(groups, labels, values, failed, metric_columns)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : None
            Must be None: the input (a list of groups) has no feature names.

        Returns
        -------
        ndarray of str
            ``feature_names_out_``.

        Raises
        ------
        ValueError
            If ``input_features`` is not None.
        """
        check_is_fitted(self)
        if input_features is not None:
            raise ValueError(
                "expected input_features=None, got a value; the input of LandscapeFeaturizer is "
                "a list of ModelGroup, which has no feature names."
            )
        return self.feature_names_out_.copy()

    # ------------------------------------------------------------------ helpers
    def _check_metrics(self):
        metrics = list(self.metrics)
        if not metrics:
            raise ValueError(
                f"expected at least one metric, got none; pick from {list(metric_names())}."
            )
        for name in metrics:
            if unit_of(name) is None:
                raise ValueError(
                    f"expected metric names among {list(metric_names())}, got {name!r}; use the "
                    "published column names (note the spelling 'CKA')."
                )
        repeated = sorted({name for name in metrics if metrics.count(name) > 1})
        if repeated:
            raise ValueError(f"expected each metric once, got {repeated} repeated.")
        return metrics

    def _plan(self, groups, labels, units, cache):
        """Cached values, failed groups, tasks for what is missing, and every unit's key."""
        base, token = self._seed_base()
        values = [{} for _ in groups]
        failed = [False] * len(groups)
        keys, tasks, unit_keys = ContentKeys(), [], [{} for _ in groups]
        for index, (group, label) in enumerate(zip(groups, labels, strict=True)):
            try:
                self._precheck(group, label)
                wanted = [u for u in units
                          if unit_named(u).data != "eval" or group.eval_data is not None]
                group_key = keys.group(group, label) if wanted else None
            except Exception as error:
                self._fail(error, label)
                failed[index] = True
                continue
            for note in keys.notes.get(label, ()):
                warnings.warn(note, UserWarning, stacklevel=3)
            missing = []
            for unit in wanted:
                described = unit_named(unit)
                extra = keys.dataset(group.eval_data) if described.data == "eval" else None
                random_token = token if described.random else None
                unit_keys[index][unit] = key = unit_key(
                    group_key, unit, self._unit_options(unit, group), random_token, extra)
                cached = cache.get(unit, key) if cache is not None else None
                if cached is None:
                    missing.append(unit)
                else:
                    values[index].update(cached)
            if missing:
                tasks.append(self._task(index, label, group, missing, base, group_key))
        return values, failed, tasks, unit_keys

    def _precheck(self, group, label):
        if len(group.members) < 2:
            needing = [m for m in self.feature_names_out_
                       if unit_of(m) is not None and unit_of(m).pairwise]
            if needing:
                raise ValueError(
                    f"group {label!r}: expected at least 2 members for {needing}, got 1; add "
                    "a model trained from another seed, or drop those metrics."
                )
        explicit = [m for m in self.metrics if m in eval_columns()]
        if explicit and group.eval_data is None:
            raise ValueError(
                f"group {label!r}: expected eval_data for {explicit}, got none; pass "
                "ModelGroup(..., eval_data=held_out) or drop those metrics."
            )

    def _fail(self, error, label):
        if self.on_error == "raise":
            raise error
        warnings.warn(
            f"LandscapeFeaturizer: group {label!r} failed and gets NaN features: {error}",
            UserWarning, stacklevel=3)

    def _seed_base(self):
        """The base seed of this call and the token that stands for it in cache keys."""
        if isinstance(self.random_state, numbers.Integral):
            return str(int(self.random_state)), int(self.random_state)
        base = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return str(base), "unseeded"

    def _unit_options(self, unit, group):
        return unit_named(unit).options(self, group)

    def _task(self, index, label, group, units, base, group_key):
        n_members = len(group.members)
        options = {unit: self._unit_options(unit, group) for unit in units}

        def derive(*purpose):
            return derive_seed(base, group_key, *purpose)

        seeds = {unit: unit_named(unit).seeds(derive, n_members, options[unit])
                 for unit in units if unit_named(unit).random}
        return GroupTask(index=index, label=label, group=group, units=tuple(units),
                         options=options, seeds=seeds, device=self.device,
                         catch_errors=self.on_error == "nan")

    def _run(self, tasks):
        """Outcomes of the tasks, each as soon as it is finished (any order)."""
        if not tasks:
            return
        bar_wanted = self.progress and _stderr_is_terminal() and available("tqdm")
        with _progress_bar(len(tasks), bar_wanted) as bar:
            if effective_n_jobs(self.n_jobs) == 1:
                for task in tasks:
                    task = dataclasses.replace(task, progress=bar_wanted)
                    yield _worker.compute_group(task)
                    bar.update(1)
            else:
                parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
                for outcome in parallel(delayed(_worker.compute_group)(task)
                                        for task in tasks):
                    yield outcome
                    bar.update(1)

    def _table(self, groups, labels, values, failed, metric_columns):
        data = {}
        for column in metric_columns:
            data[column] = np.array(
                [np.nan if failed[i] else values[i].get(column, np.nan)
                 for i in range(len(groups))], dtype=np.float64)
        for key in self.meta_columns_:
            data[key] = [group.meta.get(key) for group in groups]
        index = pd.Index(labels, name="group")
        return pd.DataFrame(data, index=index, columns=list(self.feature_names_out_))




def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _progress_bar(total, wanted):
    return progress_bar(total=total, wanted=wanted, desc="landscape features", unit="group")
