"""Old import path of :class:`ModelGroup`, kept for saved objects (see ``md_sklearn._featurizer``)."""

from md_sklearn._featurizer._groups import ModelGroup

__all__ = ["ModelGroup"]
