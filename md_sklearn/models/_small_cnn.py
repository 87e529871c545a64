"""A small width-scalable CNN for small images (e.g. the 8x8 digits of scikit-learn)."""

from torch import nn

from md_sklearn.models._resnet import _check_int

SMALL_CNN_MULTIPLIERS = (1, 2, 4)
"""Channels of the three convolutions as multiples of ``width``."""

SMALL_CNN_STRIDES = (1, 2, 2)
"""Strides of the three convolutions: an 8x8 image ends as a 2x2 map."""


class SmallCNN(nn.Module):
    """Three 3x3 convolution + BatchNorm + ReLU layers, global average pooling, a linear head.

    Build it with :func:`small_cnn`, which validates the arguments.

    Parameters
    ----------
    width : int
        Channels of the first convolution; the others have ``2 * width`` and ``4 * width``.
    num_classes : int, default=10
        Outputs of the linear head.
    in_channels : int, default=1
        Channels of the input images.
    """

    def __init__(self, width, num_classes=10, in_channels=1):
        super().__init__()
        self.width = width
        self.num_classes = num_classes
        layers = []
        channels = in_channels
        for multiplier, stride in zip(SMALL_CNN_MULTIPLIERS, SMALL_CNN_STRIDES):
            out_channels = multiplier * width
            layers += [
                nn.Conv2d(channels, out_channels, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            ]
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x):
        """Return the logits, shape ``(N, num_classes)``, for images ``x`` of shape ``(N, C, H, W)``."""
        return self.linear(self.pool(self.features(x)).flatten(1))


def small_cnn(width, num_classes=10, in_channels=1):
    """A small CNN whose size scales with ``width``, for tests and quick experiments.

    Three bias-free 3x3 convolutions with ``width``, ``2 * width`` and
    ``4 * width`` channels and strides 1, 2, 2, each followed by BatchNorm and
    ReLU; global average pooling; a linear head with bias. Any image size
    works (an 8x8 digit of :func:`sklearn.datasets.load_digits` ends as a 2x2
    map). The number of parameters is, with ``w = width``, ``c = in_channels``
    and ``K = num_classes``::

        90 * w**2 + (9 * c + 14 + 4 * K) * w + K

    (convolutions ``9cw + 18w² + 72w²``, BatchNorm scales and shifts ``14w``,
    head ``4wK + K``); with one input channel and 10 classes that is 163 for
    width 1, 1,702 for width 4, 6,274 for width 8 and 24,058 for width 16.

    Needs the ``torch`` extra (``pip install md-sklearn[torch]``).

    Parameters
    ----------
    width : int
        Channels of the first convolution (>= 1).
    num_classes : int, default=10
        Number of classes, i.e. outputs of the linear head (>= 2).
    in_channels : int, default=1
        Channels of the input images (>= 1): 1 for grey-scale, 3 for RGB.

    Returns
    -------
    model : SmallCNN
        A freshly initialised ``torch.nn.Module`` in training mode.

    Raises
    ------
    TypeError
        If ``width``, ``num_classes`` or ``in_channels`` is not an int.
    ValueError
        If ``width`` < 1, ``num_classes`` < 2 or ``in_channels`` < 1.

    Examples
    --------
    >>> import torch
    >>> from md_sklearn.models import small_cnn
    >>> model = small_cnn(4)
    >>> sum(p.numel() for p in model.parameters())
    1702
    >>> model.eval()(torch.zeros(5, 1, 8, 8)).shape
    torch.Size([5, 10])
    """
    width = _check_int(width, "width", minimum=1, fix="pass the first-layer width, e.g. width=8")
    num_classes = _check_int(
        num_classes, "num_classes", minimum=2, fix="pass the number of classes, e.g. num_classes=10"
    )
    in_channels = _check_int(
        in_channels, "in_channels", minimum=1, fix="pass 1 for grey-scale or 3 for RGB images"
    )
    return SmallCNN(width, num_classes=num_classes, in_channels=in_channels)
