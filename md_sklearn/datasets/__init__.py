"""The MD tree paper's published model-diagnosis collections."""

from md_sklearn.datasets._model_diagnosis import load_model_diagnosis

__all__ = ["load_model_diagnosis"]
