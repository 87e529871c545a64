"""Constants of the MD tree paper and of its published data, each with its source."""

# ---------------------------------------------------------------------------
# Published model-diagnosis collections (loader: ``md_sklearn.datasets``).
# Source: shared/data/model_diagnosis/README.md, which lists the files of the
# reference repository YefanZhou/ModelDiagnosis (model_diagnosis_dataset/dataframe/).
# ---------------------------------------------------------------------------

#: collection name -> (file name, SHA-256 of the published file); "clean" is the
#: paper's F (training pool), "noisy" is F' (10 % label noise, the test set).
PUBLISHED_FILES = {
    "clean": (
        "dataframe_normal_public.csv",
        "3e1fb0019ff555252839c7d096b0a28300d30215c522334670fb61438df582fe",
    ),
    "noisy": (
        "dataframe_noise_public.csv",
        "9e8c35c1438d456fcd5729293f2cbbc1ed06b2cede0e0e75192b2e53dd81d70c",
    ),
}

#: Public download address of the published files (data README).
DOWNLOAD_URL_TEMPLATE = (
    "https://raw.githubusercontent.com/YefanZhou/ModelDiagnosis/main/"
    "model_diagnosis_dataset/dataframe/{filename}"
)

#: Seconds a download may wait on the network before failing (our choice).
DOWNLOAD_TIMEOUT_S = 60.0

#: Environment variable naming a folder that holds the published CSV files (our choice;
#: CI sets it to ../shared/data/model_diagnosis).
DATA_ENV_VAR = "MD_SKLEARN_DATA"

#: Folder name of the download cache under $XDG_CACHE_HOME or ~/.cache (our choice).
CACHE_DIR_NAME = "md_sklearn"

# ---------------------------------------------------------------------------
# Training grid of the collections: ResNet-18 of width k on CIFAR-10.
# Source: data README ("Grid") and generate_data.py of the reference repository.
# ---------------------------------------------------------------------------

#: Width multipliers k (column ``width``).
WIDTHS = (2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128)

#: Batch sizes (column ``bs``); the optimizer temperature grows as the batch shrinks.
BATCH_SIZES = (16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024)

#: Data levels 1 ... 10 = 10 % ... 100 % of the 50,000 CIFAR-10 images (column ``data``).
DATA_LEVELS = tuple(range(1, 11))

# ---------------------------------------------------------------------------
# Room for improvement (RFI) and diagnosis labels (``md_sklearn.labels``).
# Source: data README ("Columns and units", "Label rules").
# ---------------------------------------------------------------------------

#: RFI column names, in the order of the published tables.
RFI_COLUMNS = ("rfi_width", "rfi_data", "rfi_inc_temp", "rfi_dec_temp")

#: Diagnosis task -> label column of the published tables: Q1 (is the temperature too
#: small or too large), Q2 (model width or optimizer), Q2 variant (data amount or optimizer).
LABEL_COLUMNS = {"q1": "bs_failure", "q2_width": "width_vs_batch", "q2_data": "data_vs_batch"}

#: Label strings of each label column, as published (the tie label is "optimal").
LABEL_CLASSES = {
    "bs_failure": ("small", "large", "optimal"),
    "width_vs_batch": ("width", "batch", "optimal"),
    "data_vs_batch": ("data", "batch", "optimal"),
}

# ---------------------------------------------------------------------------
# MD tree thresholds: (feature column, initial value, search bounds).
# Source: the paper, Appendix D, Table 4 ("Initial values and search ranges of
# loss landscape metric threshold used in MD tree"), and paper-protocol.md §1.
# train_error is in percent, so the root asks "is the train error <= ~1 %".
# ---------------------------------------------------------------------------
TRAIN_ERROR_SPLIT = ("train_error", 0.5, (0.0, 1.0))
CONNECTIVITY_SPLIT = ("mode_connectivity_peak", -10.0, (-30.0, 0.0))
HESSIAN_SPLIT = ("hessian_t", 7.0, (4.0, 9.0))
#: The OOD variant of Q1 starts the Hessian node at 5 instead of 7.
HESSIAN_OOD_SPLIT = ("hessian_t", 5.0, (4.0, 9.0))
#: Appendix H: CKA similarity in place of sharpness.
CKA_SPLIT = ("CKA", 0.5, (0.2, 0.8))

# ---------------------------------------------------------------------------
# Evaluation protocol of Table B. Source: paper-protocol.md §2-§4 (seeds of the
# reference scripts, evaluate_diagnosis_acc.py).
# ---------------------------------------------------------------------------
#: Repetition seeds; each seeds the legacy NumPy generator before one draw.
PAPER_SEEDS = (42, 90, 38, 18, 72)
#: Depth of the DecisionTreeClassifier baselines.
BASELINE_TREE_DEPTH = 4

#: Columns each Table B method reads (paper-protocol.md section 3, the reference
#: scripts' feature lists). Hyperparameters of Q1 leave out the batch size, which
#: is what the diagnosis is about.
BASELINE_HYPERPARAMETERS = {"q1": ("log_data_amount", "log_para_amount"),
                            "q2_width": ("log_data_amount",)}
BASELINE_VALIDATION = ("train_error", "train_loss", "test_loss", "test_error")
BASELINE_LANDSCAPE = ("train_error", "mode_connectivity_peak", "CKA", "hessian_t")
#: Features of the MD trees of Table B, and the label column of each question.
MD_TREE_FEATURES = {"q1": ("train_error", "mode_connectivity_peak", "hessian_t"),
                    "q2_width": ("train_error", "mode_connectivity_peak")}
TASK_LABELS = {"q1": "bs_failure", "q2_width": "width_vs_batch"}

# ---------------------------------------------------------------------------
# Pretrained paper trees (``md_sklearn.pretrained``): hierarchy name -> label column
# and the narrowest width kept. Source: paper-protocol.md §1-§2 (rows labelled
# "optimal" are dropped per task; the data-vs-optimizer tree used widths >= 32).
# ---------------------------------------------------------------------------
PRETRAINED_TREES = {
    "q1": ("bs_failure", None),
    "q1_cka": ("bs_failure", None),
    "q2_width": ("width_vs_batch", None),
    "q2_data": ("data_vs_batch", 32),
}

# ---------------------------------------------------------------------------
# Out-of-range warning (``md_sklearn.exceptions.FeatureRangeWarning``). Our choice,
# measured on the published tables: a feature's reference interval is the hull of
# its training values and of the search bounds of the splits testing it; its scale is
# max(width, largest magnitude). Beyond 3 scales, a value is far out. Over every draw
# of Table B (clean -> noisy), of the few-shot curves of Q1/Q2 (random k = 1 ... 24,
# data_limit, width_limit) and of 5-fold cross-validation of either table, the
# farthest value lies 2.1 scales out (random k = 1). It does fire, rightly, for the
# q2_data tree fitted on data level 1 alone (train errors <= 4 %, noisy ones up to 51 %).
# A raw Hessian trace given to a tree fitted on its log lies beyond 3 scales for 92 %
# of the noisy rows, and an error in percent given to a tree fitted on fractions (with
# the paper's bounds (0, 1)) for every row above 4 %. An error in fractions given to a
# tree fitted on percent stays inside the range and cannot be caught sample by sample.
# ---------------------------------------------------------------------------
RANGE_WARNING_SCALES = 3.0
#: For a feature whose reference interval lies on one side of zero (train error >= 0,
#: mode_connectivity_peak <= 0), a value of the other sign beyond this fraction of the
#: scale is far out too (a flipped sign convention); no published value has one.
RANGE_WARNING_SIGN_FRACTION = 0.05
#: Unit slips worth suggesting for the published columns, whose units the data README
#: gives ("Columns and units"): errors and the connectivity peak in percent (the peak
#: <= 0), Hessian trace and eigenvalue as natural logs, CKA in [0, 1]. Other features
#: get every conversion that brings the value back into range.
FEATURE_UNIT_SLIPS = {
    "train_error": ("percent_to_fraction", "fraction_to_percent"),
    "test_error": ("percent_to_fraction", "fraction_to_percent"),
    "mode_connectivity_peak": ("flip_sign", "percent_to_fraction", "fraction_to_percent"),
    "hessian_t": ("natural_log", "exp"),
    "hessian_e": ("natural_log", "exp"),
    "CKA": ("percent_to_fraction", "fraction_to_percent"),
}

# ---------------------------------------------------------------------------
# Diagnoses in words (``md_sklearn.explain``): label column -> label -> (failure
# source, suggested action). Source: data README ("Label rules"): bs_failure is a
# verdict on the optimizer temperature, which grows as the batch size shrinks.
# ---------------------------------------------------------------------------
DIAGNOSIS_WORDS = {
    "bs_failure": {
        "small": ("optimizer temperature too small", "batch size too large: decrease it"),
        "large": ("optimizer temperature too large", "batch size too small: increase it"),
        "optimal": ("optimizer temperature about right", "nothing to change"),
    },
    "width_vs_batch": {
        "width": ("model size", "model too small: widen it"),
        "batch": ("optimizer", "optimizer setting: tune the batch size"),
        "optimal": ("model size and optimizer equally", "no single change preferred"),
    },
    "data_vs_batch": {
        "data": ("amount of training data", "too little data: add training data"),
        "batch": ("optimizer", "optimizer setting: tune the batch size"),
        "optimal": ("training data and optimizer equally", "no single change preferred"),
    },
}
