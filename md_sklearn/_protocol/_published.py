"""The paper's published model-diagnosis collections: where they are and how to check them.

Source: the reference repository YefanZhou/ModelDiagnosis
(``model_diagnosis_dataset/dataframe/``), whose files and SHA-256 sums are listed in
``docs/data.rst``.
"""

__all__ = ["CACHE_DIR_NAME", "DATA_ENV_VAR", "DOWNLOAD_TIMEOUT_S", "DOWNLOAD_URL_TEMPLATE",
           "PUBLISHED_FILES"]

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

#: Public download address of the published files.
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
