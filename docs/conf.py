"""Sphinx configuration of the md-sklearn documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
from the repository root. No extension needs network access.
"""

import os
import sys

# Document the working tree, not an installed copy.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import md_sklearn  # noqa: E402

project = "md-sklearn"
author = "md-sklearn developers"
copyright = "2024, md-sklearn developers"
release = md_sklearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "numpydoc",
]

# numpydoc: methods are listed by autodoc's :members:, not a second time by numpydoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

autodoc_member_order = "bysource"
autodoc_typehints = "none"

nitpicky = False
exclude_patterns = ["_build"]
root_doc = "index"
templates_path = []
html_static_path = ["_static"]

html_theme = "alabaster"
html_title = f"md-sklearn {release}"
