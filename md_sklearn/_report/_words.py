"""Diagnoses in words: label column -> label -> (failure source, suggested action).

Source: the published label rules (``docs/data.rst``, "The labels"): ``bs_failure`` is a verdict
on the optimizer temperature, which grows as the batch size shrinks.
"""

from md_sklearn._protocol import TIE_LABEL

__all__ = ["DIAGNOSIS_WORDS"]

DIAGNOSIS_WORDS = {
    "bs_failure": {
        "small": ("optimizer temperature too small", "batch size too large: decrease it"),
        "large": ("optimizer temperature too large", "batch size too small: increase it"),
        TIE_LABEL: ("optimizer temperature about right", "nothing to change"),
    },
    "width_vs_batch": {
        "width": ("model size", "model too small: widen it"),
        "batch": ("optimizer", "optimizer setting: tune the batch size"),
        TIE_LABEL: ("model size and optimizer equally", "no single change preferred"),
    },
    "data_vs_batch": {
        "data": ("amount of training data", "too little data: add training data"),
        "batch": ("optimizer", "optimizer setting: tune the batch size"),
        TIE_LABEL: ("training data and optimizer equally", "no single change preferred"),
    },
}
