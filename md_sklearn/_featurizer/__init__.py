"""Featurization: groups of trained torch models in, the paper's feature table out.

- ``_groups``: :class:`ModelGroup`, one input sample (no torch needed);
- ``_metrics``: the metric registry, the one table every other module reads;
- ``_transformer``: :class:`LandscapeFeaturizer` (settings, planning, parallel runs);
- ``_worker``: computes one group's missing metric units (imports torch);
- ``_checkpoints``: the one checkpoint reader; ``_keys``: content keys and seeds;
- ``_cache``: the on-disk feature cache and the fingerprint of the metric code.

``md_sklearn._featurizer.LandscapeFeaturizer`` is the path pickles saved before this
folder existed refer to, so it stays importable from here.
"""

from md_sklearn._featurizer._groups import ModelGroup
from md_sklearn._featurizer._transformer import LandscapeFeaturizer

__all__ = ["LandscapeFeaturizer", "ModelGroup"]
