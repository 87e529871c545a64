"""Figures of a fitted MD tree and of the few-shot benchmark (needs matplotlib).

``import md_sklearn`` never imports matplotlib; this subpackage does, and
tells how to install it (``pip install "md-sklearn[plot]"``) when it is
missing. Every function draws on the ``ax`` (or ``axes``) it is given, or on
a new figure, returns what it drew on and never calls ``plt.show``.
"""

from md_sklearn._utils._extras import require

require("matplotlib", "md_sklearn.plotting")

from md_sklearn.plotting._plot_fewshot import plot_fewshot  # noqa: E402
from md_sklearn.plotting._plot_regimes import plot_regimes  # noqa: E402
from md_sklearn.plotting._plot_tree import plot_tree  # noqa: E402

__all__ = ["plot_fewshot", "plot_regimes", "plot_tree"]
