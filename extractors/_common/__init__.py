"""Shared plumbing of the extractors, one idea per module: argument checks (``_checks``),
seeds (``_random``), devices (``_device``), batch indices (``_data``), model state
(``_model``), logits and the loss (``_loss``), batches of any form and the ``forward``
hook (``_batch``).

Other packages import these names from :mod:`extractors.utils`.
"""

from ._batch import BatchFormat, check_forward, gather, iter_batches, summed_error_and_loss
from ._checks import check_dataset, check_int, check_model, check_real, check_same_architecture
from ._data import batch_slices, sample_indices
from ._device import resolve_device
from ._loss import check_outputs, cross_entropy
from ._model import floating_dtype, functional_state, owned_buffers, preserved_modes, to_model_input
from ._random import fork_rng_seeded, generator, seed_from

__all__ = [
    "BatchFormat",
    "batch_slices",
    "check_dataset",
    "check_forward",
    "check_int",
    "check_model",
    "check_outputs",
    "check_real",
    "check_same_architecture",
    "cross_entropy",
    "floating_dtype",
    "fork_rng_seeded",
    "functional_state",
    "gather",
    "generator",
    "iter_batches",
    "owned_buffers",
    "preserved_modes",
    "resolve_device",
    "sample_indices",
    "seed_from",
    "summed_error_and_loss",
    "to_model_input",
]
