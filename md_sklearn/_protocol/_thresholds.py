"""MD tree thresholds of the paper: (feature column, initial value, search bounds).

Source: the paper, Appendix D, Table 4 ("Initial values and search ranges of loss
landscape metric threshold used in MD tree"); ``docs/hierarchies.rst`` ("The paper's
trees") draws them. train_error is
in percent, so the root asks "is the train error <= ~1 %".
"""

__all__ = ["CKA_SPLIT", "CONNECTIVITY_SPLIT", "HESSIAN_OOD_SPLIT", "HESSIAN_SPLIT",
           "TRAIN_ERROR_SPLIT"]

TRAIN_ERROR_SPLIT = ("train_error", 0.5, (0.0, 1.0))
CONNECTIVITY_SPLIT = ("mode_connectivity_peak", -10.0, (-30.0, 0.0))
HESSIAN_SPLIT = ("hessian_t", 7.0, (4.0, 9.0))
#: The OOD variant of Q1 starts the Hessian node at 5 instead of 7.
HESSIAN_OOD_SPLIT = ("hessian_t", 5.0, (4.0, 9.0))
#: Appendix H: CKA similarity in place of sharpness.
CKA_SPLIT = ("CKA", 0.5, (0.2, 0.8))
