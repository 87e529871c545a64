"""Building blocks of the extractors that other packages reuse (public, stable names).

``md_sklearn.collections`` trains and evaluates models with the same validation,
batching, device and seeding rules as the metrics; the featurizer checks that a group's
members share one architecture; the benchmarks (``python -m benchmarks extractors`` and
``expansion``) time the metrics' pieces against plain baselines fed exactly the same
batches and probes.  They import these names from here, never from the extractors'
private modules.

Flat parameter vectors and the evaluation at them (mode connectivity, linear barrier,
manifold size): :class:`ParameterLayout`, :class:`PointEvaluator`, and the curve's
training loop :func:`train_curve` with its schedule :func:`garipov_lr_factor`.  The
random draws of the metrics: :func:`sample_indices` (the Hessian and manifold batch),
:func:`rademacher_probe` / :func:`rademacher_probes` (Hutchinson probes) and
:func:`mixed_batches` (the mixed-up batches of :func:`extractors.cka`).  How a batch of
any form becomes logits and labels, by default or through a user's ``forward`` hook:
:class:`BatchFormat`.
"""

from ._cka import mixed_batches
from ._common import (
    BatchFormat,
    check_dataset,
    check_int,
    check_model,
    check_outputs,
    check_real,
    check_same_architecture,
    cross_entropy,
    floating_dtype,
    fork_rng_seeded,
    gather,
    generator,
    iter_batches,
    resolve_device,
    sample_indices,
    seed_from,
    summed_error_and_loss,
    to_model_input,
)
from ._connectivity import garipov_lr_factor, train_curve
from ._evaluator import PointEvaluator
from ._hessian import rademacher_probe, rademacher_probes
from ._layout import ParameterLayout

__all__ = [
    "BatchFormat",
    "ParameterLayout",
    "PointEvaluator",
    "check_dataset",
    "check_int",
    "check_model",
    "check_outputs",
    "check_real",
    "check_same_architecture",
    "cross_entropy",
    "floating_dtype",
    "fork_rng_seeded",
    "gather",
    "garipov_lr_factor",
    "generator",
    "iter_batches",
    "mixed_batches",
    "rademacher_probe",
    "rademacher_probes",
    "resolve_device",
    "sample_indices",
    "seed_from",
    "summed_error_and_loss",
    "to_model_input",
    "train_curve",
]
