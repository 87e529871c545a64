"""Warnings of md-sklearn."""

__all__ = ["FeatureRangeWarning"]


class FeatureRangeWarning(UserWarning):
    """A feature value lies far outside the range an MD tree was fitted on.

    Issued by :meth:`~md_sklearn.MDTreeClassifier.predict`,
    :meth:`~md_sklearn.MDTreeClassifier.predict_proba`,
    :meth:`~md_sklearn.MDTreeClassifier.apply`,
    :meth:`~md_sklearn.MDTreeClassifier.decision_path` and
    :func:`~md_sklearn.explain`, once per call and feature. The usual cause is a
    unit mismatch: an error in percent where the tree saw fractions, a raw
    Hessian trace where it saw its natural log, a flipped sign. The message names
    the feature, the value, the training range and the likely fix.

    A pretrained tree (:func:`~md_sklearn.pretrained`) also warns, more tightly,
    about a value beyond the range of the paper's ResNet-18/CIFAR-10 models it
    was fitted and scored on (by more than 5 % of that range's width): the
    message gives both ranges and says to fit your own tree on a small labelled
    collection instead.

    Examples
    --------
    >>> import warnings
    >>> from md_sklearn.exceptions import FeatureRangeWarning
    >>> issubclass(FeatureRangeWarning, UserWarning)
    True
    >>> warnings.simplefilter("error", FeatureRangeWarning)  # make it an error
    >>> warnings.resetwarnings()
    """
