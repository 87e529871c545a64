"""Shared fixtures: the published tables (skipped cleanly where they are not available)."""

import os

import pytest


@pytest.fixture(scope="session")
def published_tables():
    """``{"clean": DataFrame, "noisy": DataFrame}`` read through ``MD_SKLEARN_DATA``."""
    folder = os.environ.get("MD_SKLEARN_DATA")
    if not folder or not os.path.isdir(folder):
        pytest.skip("the published tables are not available: set MD_SKLEARN_DATA to their folder")
    from md_sklearn.datasets import load_model_diagnosis

    return {
        name: load_model_diagnosis(name, data_home=folder, download=False)
        for name in ("clean", "noisy")
    }
