"""Where a pretrained tree comes from: the paper's models, data, metric settings and the
region of feature values those models cover; and what to do for models outside it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TreeProvenance", "fit_your_own"]


def fit_your_own(name):
    """What to do instead of trusting pretrained tree ``name`` on models unlike the paper's."""
    return (
        f"fit your own tree on a small labelled collection of models trained like yours "
        f"(md_sklearn.collections.build_collection trains and labels one; then "
        f"MDTreeClassifier(bounds_from_data({name!r}, X)).fit(X, y); docs/your_models.rst, "
        f"'When a pretrained tree applies')"
    )


@dataclass(frozen=True)
class TreeProvenance:
    """The models a pretrained tree was fitted and scored on, read from the shipped file.

    Attributes
    ----------
    name : str
        The pretrained tree (``"q1"``, ...).
    models, dataset, training : str
        The paper's architecture, training data and recipe, in words.
    metrics : tuple of (str, str)
        Per feature the tree tests, how the paper measured it (its settings).
    fitted_on : tuple of (str, int)
        Collection and number of models the tree was fitted on.
    scored_on : tuple of (str, int, float)
        Collection, number of models and accuracy (0..1) the tree was scored on.
    measured_range : dict
        Feature -> (low, high): the values of every model of both published
        collections the tree's task covers -- the region the tree has evidence for.
    documentation : str
        Where the settings are described.
    """

    name: str
    models: str
    dataset: str
    training: str
    metrics: tuple
    fitted_on: tuple
    scored_on: tuple
    measured_range: dict
    documentation: str

    @classmethod
    def from_summary(cls, name, provenance, tree):
        """The provenance of tree ``name`` from the shipped file's blocks."""
        return cls(
            name=name,
            models=provenance["models"],
            dataset=provenance["dataset"],
            training=provenance["training"],
            metrics=tuple((f, provenance["metrics"][f]) for f in tree["features"]),
            fitted_on=(tree["rows"]["collection"], tree["rows"]["n_samples"]),
            scored_on=(tree["scored"]["collection"], tree["scored"]["n_samples"],
                       tree["scored"]["accuracy"]),
            measured_range={f: tuple(v) for f, v in tree["measured_range"].items()},
            documentation=provenance["documentation"],
        )

    def summary(self):
        """One sentence: the tree, its models and data, fit and score."""
        collection, n_fit = self.fitted_on
        scored, n_scored, accuracy = self.scored_on
        return (
            f"pretrained tree {self.name!r}: fitted on {n_fit} {self.models} models trained "
            f"on {self.dataset} (the paper's {collection} collection), scored "
            f"{100 * accuracy:.1f} % on {n_scored} of its {scored} ones; features measured "
            f"with the paper's settings ({self.documentation})"
        )

    def __str__(self):
        lines = [self.summary() + ".", f"  training: {self.training}"]
        lines += [f"  {feature}: {how}" for feature, how in self.metrics]
        return "\n".join(lines)
