"""Room for improvement of each training knob and the diagnosis labels built from it.

``bs_failure`` labels are verdicts on the optimizer temperature: ``small`` means the
batch size is too large (the fix is a smaller batch), ``large`` means the batch size
is too small (the fix is a larger batch).
"""

from md_sklearn.labels._diagnosis import diagnosis_labels, label_collection
from md_sklearn.labels._rfi import room_for_improvement
from md_sklearn.labels._tolerance import seed_tolerance

__all__ = ["diagnosis_labels", "label_collection", "room_for_improvement", "seed_tolerance"]
