"""Grids, training budgets and evaluation cases of the validation study, with their reasons.

Every number below was chosen by measuring on this project's machine (2 CPU cores,
no GPU, one torch thread per worker, two workers), 2025 session of issue 13:

**Training cost per epoch** (one thread, seconds per pass over the training set):

=====================  =======  =======  =======  =======  =======
digits small CNN        w2       w4       w8       w16      w32
=====================  =======  =======  =======  =======  =======
bs 16 (1,347 images)    0.12     0.12     0.12     0.14     0.23
bs 128                  0.03     0.04     0.05     0.07     0.14
=====================  =======  =======  =======  =======  =======

MNIST-1D, 4,000 signals: a 1-D CNN (3 conv + BatchNorm, widths 4/16/64) costs
0.35-1.3 s/epoch at bs 16 and, at width 32 after 40 epochs, still sat at 97.6-98 %
train accuracy at bs 16 (27 s per model): too slow to interpolate within budget.
The 2-hidden-layer ReLU MLP on the first 2,000 signals costs 0.06-0.09 s/epoch at
bs 16 (widths 16-256), 0.02 s at bs 128, and at width 256, lr 0.02, 60 epochs it
interpolates at bs 16 (train 100 %, test 60 %) and bs 128 (98.8 %). Hence the MLP.

**Convergence.** Digits, lr 0.2 (the demo's measured choice: both batch-size
failures appear inside the grid), width 16: train accuracy 99.93 % (bs 16) and
100 % (bs 128) after 20 epochs; 30 epochs leave room for the narrower widths and
the fractions (which get ``1 / fraction`` times the epochs: constant SGD steps, as
the paper's research code).

**Features.** One group of 4 digits CNNs, paper settings (Hessian 200 samples /
100 probes, curve 50 epochs at batch 128, CKA 6 batches): 2.1 s (width 4) to 5.0 s
(width 16). The curve keeps a constant number of steps: ``curve_epochs =
round(CURVE_EPOCHS / fraction)`` (or ``curve_steps`` when the featurizer has it).

**Total** (estimate from the table, two workers): digits training 2 collections x
90 configurations x 4 seeds ~ 15 min, MNIST-1D ~ 10 min, features 360 groups ~
12 min: ~ 40 min, leaving room for a CPU shared with other work (budget 2 h).
``--quick`` (6 configurations per collection, 2 seeds, short budgets): 62 s wall from
an empty cache (collections 40 s, features 11 s, evaluation 4 s), measured with the
full run paused but other work on the machine (load ~6).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: The study's datasets, in the order they are run.
DATASETS = ("digits", "mnist1d")
#: Collections per dataset: (name, label noise). 10 %-symmetric noise as the paper's F'.
COLLECTIONS = (("clean", 0.0), ("noisy", 0.1))
#: Seed of the data split, the label noise and the metrics' random draws.
STUDY_SEED = 0
#: MNIST-1D: training signals kept (the first of the 4,000 of ``make_dataset()``);
#: halves the cost against all 4,000 and lets the MLP interpolate (measured above).
MNIST1D_TRAIN = 2000
#: Curve training at the paper's settings: 50 epochs on the full training set.
CURVE_EPOCHS = 50
#: Bump when the study's code changes what a cached result means.
STUDY_FORMAT = 1


@dataclass(frozen=True)
class DatasetGrid:
    """The collection grid and training budget of one dataset."""

    widths: tuple
    batch_sizes: tuple
    data_fractions: tuple
    seeds: tuple
    #: Epochs on the full training set (a fraction f trains round(epochs / f) epochs).
    epochs: int
    #: Constant SGD learning rate (momentum 0.9, weight decay 5e-4: the paper's recipe).
    lr: float
    #: Epochs of the connectivity curve on the full training set (scaled like ``epochs``).
    curve_epochs: int = CURVE_EPOCHS


@dataclass(frozen=True)
class StudyGrid:
    """Both datasets' grids and the evaluation's sample factors."""

    name: str
    grids: dict
    #: ``random`` draws: (data, width) combinations per training draw.
    random_k: int
    #: ``width_limit``: how many of the narrowest widths the training draw keeps.
    narrow_widths: int
    repetition_seeds: tuple = (42, 90, 38, 18, 72)
    bootstrap: int = 10000
    #: ``{"featurizer": {...}}``: LandscapeFeaturizer options replacing the paper's
    #: settings (tests only; part of the cache key when set).
    extra: dict = field(default_factory=dict)

    def settings(self):
        """Every setting of the study, as plain data (reported in the JSON)."""
        data = asdict(self)
        data.update(self.training_settings())
        return data

    def training_settings(self):
        """What changes a trained model or a feature row: the cache folder's key.

        The evaluation's settings (sample factors, repetition seeds, bootstrap) are
        not part of it: each evaluation is cached under a digest of its own inputs.
        """
        settings = {"grids": {name: asdict(spec) for name, spec in self.grids.items()},
                    "format": STUDY_FORMAT, "seed": STUDY_SEED, "mnist1d_train": MNIST1D_TRAIN,
                    "collections": [list(c) for c in COLLECTIONS]}
        if self.extra:
            settings["extra"] = self.extra
        return settings


_BATCHES = (16, 32, 64, 128, 256, 512)
GRIDS = {
    "full": StudyGrid(
        "full",
        {
            # 5 widths x 6 batch sizes x 3 fractions x 4 seeds = 360 models per collection.
            "digits": DatasetGrid(widths=(2, 4, 8, 16, 32), batch_sizes=_BATCHES,
                                  data_fractions=(0.25, 0.5, 1.0), seeds=(0, 1, 2, 3),
                                  epochs=30, lr=0.2),
            "mnist1d": DatasetGrid(widths=(16, 32, 64, 128, 256), batch_sizes=_BATCHES,
                                   data_fractions=(0.25, 0.5, 1.0), seeds=(0, 1, 2, 3),
                                   epochs=60, lr=0.02),
        },
        # 4 of the 15 (data, width) combinations: 24 configurations before ties are
        # dropped (the paper: 8 of 130 combinations of 13 batch sizes each).
        random_k=4,
        narrow_widths=2,
    ),
    "quick": StudyGrid(
        "quick",
        {
            # 2 widths x 3 batch sizes x 1 fraction x 2 seeds = 12 models per collection;
            # batch 32 rather than 16 and a few epochs: the pipeline, not the claim. With
            # two fractions it took 183 s while the full run shared both cores; now 62 s.
            "digits": DatasetGrid(widths=(4, 16), batch_sizes=(32, 128, 512),
                                  data_fractions=(1.0,), seeds=(0, 1), epochs=6, lr=0.2,
                                  curve_epochs=4),
            "mnist1d": DatasetGrid(widths=(32, 128), batch_sizes=(32, 128, 512),
                                   data_fractions=(1.0,), seeds=(0, 1), epochs=8, lr=0.02,
                                   curve_epochs=4),
        },
        random_k=2,
        narrow_widths=1,
        bootstrap=2000,
    ),
}


@dataclass(frozen=True)
class StudyCase:
    """One evaluation case: train on a draw of one collection, test on all of another."""

    name: str
    title: str
    task: str  # "q1" or "q2_width"
    sampling: str  # TransferSplit protocol
    train: tuple  # (dataset, collection)
    test: tuple  # (dataset, collection)
    primary: bool = False


def cases(grid, datasets=DATASETS):
    """The study's cases for ``datasets`` (Table B's five per dataset, then cross-dataset).

    The Table B cases, per dataset: Q1 clean->noisy with ``random`` draws of
    ``random_k`` combinations; Q1 ``data_limit`` (the smallest fraction only); Q1
    ``width_limit`` (the ``narrow_widths`` narrowest widths); Q2 ``random_data`` (one
    data fraction); Q2 ``data_limit``. Cross-dataset (both datasets given): each
    task fitted on one dataset's clean collection (``random`` draws) and tested on the
    other's noisy collection.
    """
    found = []
    for dataset in datasets:
        clean, noisy = (dataset, "clean"), (dataset, "noisy")
        found += [
            StudyCase(f"{dataset}/q1_random", f"{dataset}: Q1 dataset transfer (clean -> noisy)",
                      "q1", "random", clean, noisy, primary=True),
            StudyCase(f"{dataset}/q1_data_limit",
                      f"{dataset}: Q1 scale transfer (smallest data fraction)",
                      "q1", "data_limit", clean, noisy),
            StudyCase(f"{dataset}/q1_width_limit",
                      f"{dataset}: Q1 scale transfer (narrowest widths)",
                      "q1", "width_limit", clean, noisy),
            StudyCase(f"{dataset}/q2_random_data",
                      f"{dataset}: Q2 dataset transfer (clean -> noisy)",
                      "q2_width", "random_data", clean, noisy, primary=True),
            StudyCase(f"{dataset}/q2_data_limit",
                      f"{dataset}: Q2 scale transfer (smallest data fraction)",
                      "q2_width", "data_limit", clean, noisy),
        ]
    if len(datasets) == 2:
        for source, target in (datasets, datasets[::-1]):
            for task, label in (("q1", "Q1"), ("q2_width", "Q2")):
                found.append(StudyCase(
                    f"{source}->{target}/{task}",
                    f"{label} cross-dataset ({source} clean -> {target} noisy)",
                    task, "random", (source, "clean"), (target, "noisy")))
    return found


def sample_factor(case, grid):
    """``k`` of :class:`~md_sklearn.model_selection.TransferSplit` for ``case``."""
    source = grid.grids[case.train[0]]
    if case.sampling == "random":
        return grid.random_k
    if case.sampling == "random_data":
        return 1
    if case.sampling == "data_limit":
        return min(source.data_fractions)
    if case.sampling == "width_limit":
        return sorted(source.widths)[grid.narrow_widths - 1]
    raise ValueError(f"expected a known sampling, got {case.sampling!r}.")
