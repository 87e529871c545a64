"""A metric that is not part of the package, registered by a test as a user would add one.

``docs/architecture.rst`` ("Adding a metric") shows the same two pieces: the extractor
function and one registry entry.
"""

import math
from dataclasses import dataclass

import torch

from md_sklearn._featurizer._context import per_member
from md_sklearn._featurizer._metrics import MetricUnit


@dataclass(frozen=True)
class WeightNormResult:
    value: float

    def __float__(self):
        return self.value


def weight_norm(model, *, device="cpu"):
    """Euclidean norm of all trainable parameters (a pure function of the model)."""
    with torch.no_grad():
        total = sum(float(p.detach().double().pow(2).sum()) for p in model.parameters()
                    if p.requires_grad)
    return WeightNormResult(math.sqrt(total))


def _compute(task, models, device, notes):
    import extractors

    results = per_member(task, models, "weight_norm",
                         lambda i, m: extractors.weight_norm(m, device=device))
    return {"weight_norm": math.fsum(r.value for r in results) / len(results)}


WEIGHT_NORM = MetricUnit(name="weight_norm", columns=("weight_norm",),
                         extractors=("weight_norm",), compute=_compute,
                         options=lambda featurizer, group: {})
