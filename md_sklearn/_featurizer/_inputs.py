"""The featurizer's input checks: a list of ModelGroup with unique names."""

from __future__ import annotations

from md_sklearn._featurizer._groups import ModelGroup

__all__ = ["check_groups", "group_labels"]


def check_groups(groups):
    """``groups`` as a list, refused with the fix unless it is a non-empty list of ModelGroup."""
    if isinstance(groups, ModelGroup) or not isinstance(groups, (list, tuple)):
        raise TypeError(
            f"expected a list of ModelGroup, got {type(groups).__name__}; wrap each trained "
            "configuration as ModelGroup(members, data) and pass a list."
        )
    if not groups:
        raise ValueError("expected at least one ModelGroup, got an empty list.")
    for index, group in enumerate(groups):
        if not isinstance(group, ModelGroup):
            raise TypeError(
                f"expected a list of ModelGroup, got {type(group).__name__} at position "
                f"{index}; wrap it as ModelGroup(members, data)."
            )
    return list(groups)


def group_labels(groups):
    """The groups' names (``group_<i>`` for unnamed ones), refused when one repeats."""
    labels = [g.name if g.name is not None else f"group_{i}" for i, g in enumerate(groups)]
    seen, repeated = set(), []
    for label in labels:
        if label in seen and label not in repeated:
            repeated.append(label)
        seen.add(label)
    if repeated:
        raise ValueError(
            f"expected unique group names, got {repeated} more than once; give each "
            "ModelGroup its own name."
        )
    return labels
