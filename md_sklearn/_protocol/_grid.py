"""The training grid of the paper's collections: ResNet-18 of width k on CIFAR-10.

Source: the published tables (``docs/data.rst``, "What is in them") and
``generate_data.py`` of the reference repository.
"""

__all__ = ["BATCH_SIZES", "DATA_LEVELS", "WIDTHS"]

#: Width multipliers k (column ``width``).
WIDTHS = (2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128)

#: Batch sizes (column ``bs``); the optimizer temperature grows as the batch shrinks.
BATCH_SIZES = (16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024)

#: Data levels 1 ... 10 = 10 % ... 100 % of the 50,000 CIFAR-10 images (column ``data``).
DATA_LEVELS = tuple(range(1, 11))
