"""Figures of a fitted MD tree and of the few-shot benchmark (needs matplotlib).

``import md_sklearn`` never imports matplotlib; this subpackage does, and
tells how to install it (``pip install 'md-sklearn[plot]'``) when it is
missing. Every function draws on the ``ax`` (or ``axes``) it is given, or on
a new figure, returns what it drew on and never calls ``plt.show``.
"""

try:
    import matplotlib  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised with matplotlib hidden
    raise ImportError(
        "md_sklearn.plotting needs matplotlib, which is not installed; install the 'plot' "
        "extra: pip install 'md-sklearn[plot]' (or pip install matplotlib)."
    ) from error

from md_sklearn.plotting._plot_fewshot import plot_fewshot
from md_sklearn.plotting._plot_regimes import plot_regimes
from md_sklearn.plotting._plot_tree import plot_tree

__all__ = ["plot_fewshot", "plot_regimes", "plot_tree"]
