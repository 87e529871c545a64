"""The diagnosis questions, their label columns and label strings, and the tie label.

Source: the published tables and their label rules (``docs/data.rst``, "What is in
them" and "The labels").
"""

__all__ = ["HIERARCHY_TASKS", "LABEL_CLASSES", "LABEL_COLUMNS", "RFI_COLUMNS", "TIE_LABEL",
           "decided_classes"]

#: RFI column names, in the order of the published tables.
RFI_COLUMNS = ("rfi_width", "rfi_data", "rfi_inc_temp", "rfi_dec_temp")

#: Diagnosis task -> label column of the published tables: Q1 (is the temperature too
#: small or too large), Q2 (model width or optimizer), Q2 variant (data amount or optimizer).
LABEL_COLUMNS = {"q1": "bs_failure", "q2_width": "width_vs_batch", "q2_data": "data_vs_batch"}

#: The label of a tie: both changes help equally. The paper drops these rows per task.
TIE_LABEL = "optimal"

#: Label strings of each label column, as published (the tie label last).
LABEL_CLASSES = {
    "bs_failure": ("small", "large", TIE_LABEL),
    "width_vs_batch": ("width", "batch", TIE_LABEL),
    "data_vs_batch": ("data", "batch", TIE_LABEL),
}

#: Name of each of the paper's trees (``get_hierarchy``) -> the task it answers.
HIERARCHY_TASKS = {"q1": "q1", "q1_cka": "q1", "q1_ood": "q1", "q2_width": "q2_width",
                   "q2_data": "q2_data"}


def decided_classes(label_column):
    """The labels of a column other than the tie, in published order."""
    return [label for label in LABEL_CLASSES[label_column] if label != TIE_LABEL]
