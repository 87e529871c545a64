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
