"""The paper's protocol in one place: its published data, grid, labels, thresholds and
Table B evaluation, each module with its source. The demo, the benchmarks and the
validation study read these; nothing here imports torch.
"""

from md_sklearn._protocol._grid import BATCH_SIZES, DATA_LEVELS, WIDTHS
from md_sklearn._protocol._labels import (
    HIERARCHY_TASKS,
    LABEL_CLASSES,
    LABEL_COLUMNS,
    RFI_COLUMNS,
    TIE_LABEL,
    decided_classes,
)
from md_sklearn._protocol._published import (
    CACHE_DIR_NAME,
    DATA_ENV_VAR,
    DOWNLOAD_TIMEOUT_S,
    DOWNLOAD_URL_TEMPLATE,
    PUBLISHED_FILES,
)
from md_sklearn._protocol._table_b import (
    BASELINE_TREE_DEPTH,
    METHOD_TITLES,
    METHODS,
    PAPER_SEEDS,
    make_pipeline,
    method_features,
)
from md_sklearn._protocol._thresholds import (
    CKA_SPLIT,
    CONNECTIVITY_SPLIT,
    HESSIAN_OOD_SPLIT,
    HESSIAN_SPLIT,
    TRAIN_ERROR_SPLIT,
)

__all__ = [
    "BASELINE_TREE_DEPTH",
    "BATCH_SIZES",
    "CACHE_DIR_NAME",
    "CKA_SPLIT",
    "CONNECTIVITY_SPLIT",
    "DATA_ENV_VAR",
    "DATA_LEVELS",
    "DOWNLOAD_TIMEOUT_S",
    "DOWNLOAD_URL_TEMPLATE",
    "HESSIAN_OOD_SPLIT",
    "HESSIAN_SPLIT",
    "HIERARCHY_TASKS",
    "LABEL_CLASSES",
    "LABEL_COLUMNS",
    "METHODS",
    "METHOD_TITLES",
    "PAPER_SEEDS",
    "PUBLISHED_FILES",
    "RFI_COLUMNS",
    "TIE_LABEL",
    "TRAIN_ERROR_SPLIT",
    "WIDTHS",
    "decided_classes",
    "make_pipeline",
    "method_features",
]
