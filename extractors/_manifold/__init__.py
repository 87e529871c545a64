"""Size of the low-loss manifold around an (expanded) model: :func:`manifold_size`.

Our own estimator in the spirit of Malviya et al. (arXiv 2405.15895), described in
``docs/expansion.rst``.  One module per piece:

- ``_size``: the public :func:`manifold_size`, which draws the sample and dispatches;
- ``_landscape``: the loss at flat parameter vectors, directions and the line search;
- ``_simplex``, ``_radius``, ``_lmc``: the three methods;
- ``_volume``: log-volumes of simplices;
- ``_result``: :class:`ManifoldSizeResult`.
"""

from ._result import ManifoldSizeResult
from ._size import manifold_size

__all__ = ["ManifoldSizeResult", "manifold_size"]
