"""The estimator: a declared tree shape whose thresholds are fitted one split at a time.

- ``_hierarchy``: :class:`Split` and :class:`Leaf`, the nodes a user declares;
- ``_flat``: a hierarchy as arrays (preorder node ids) and its fitting order;
- ``_presets``: the paper's trees by name; ``_bounds``: search intervals on a user's scale;
- ``_routing``: which leaf each sample reaches; ``_search``: the threshold searches;
- ``_classifier``: :class:`MDTreeClassifier`; ``_inputs``: checks of its ``X``;
  ``_state``: its fitted attributes from thresholds and class counts;
- ``_fitted``: facts of a fitted tree every reader shares (regimes, feature names,
  leaf support and purity, the nodes a sample visits);
- ``_ranges``: the out-of-range check; ``_export``: a fitted tree as text;
  ``_pretrained``: the paper's fitted trees.

``md_sklearn._tree.MDTreeClassifier`` is the path pickles of trees saved before
this folder existed refer to, so it stays importable from here.
"""

from md_sklearn._tree._bounds import bounds_from_data
from md_sklearn._tree._classifier import MDTreeClassifier
from md_sklearn._tree._export import export_text
from md_sklearn._tree._hierarchy import Leaf, Split, iter_splits
from md_sklearn._tree._presets import PRESET_NAMES, get_hierarchy
from md_sklearn._tree._pretrained import PRETRAINED_NAMES, pretrained

__all__ = [
    "PRESET_NAMES",
    "PRETRAINED_NAMES",
    "Leaf",
    "MDTreeClassifier",
    "Split",
    "bounds_from_data",
    "export_text",
    "get_hierarchy",
    "iter_splits",
    "pretrained",
]
