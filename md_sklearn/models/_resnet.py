"""Post-activation ResNet-18 of width ``k`` with the CIFAR stem: the paper's architecture.

The model diagnosis collection (Zhou et al., ICML 2024) was trained with the
width-scaled ResNet-18 of Yang et al. (NeurIPS 2021, "Taxonomizing local versus
global structure in neural network loss landscapes"). Facts carried over from
that public code: a 3x3 stride-1 stem convolution without bias followed by
BatchNorm and ReLU (no max-pool), four stages of two basic blocks with widths
``k, 2k, 4k, 8k`` and strides ``1, 2, 2, 2``, bias-free convolutions, a 1x1
convolution + BatchNorm shortcut where the stride or the width changes, ReLU
after the residual addition, global average pooling and a linear head with
bias. The module names (``conv1``, ``bn1``, ``layer1`` … ``layer4``,
``linear``; inside a block ``conv1``, ``bn1``, ``conv2``, ``bn2``,
``shortcut``) follow that code, so its state dicts load unchanged.
"""

import numbers

from torch import nn

STAGE_MULTIPLIERS = (1, 2, 4, 8)
"""Stage widths as multiples of ``k`` (ResNet-18, Yang et al. 2021)."""

STAGE_STRIDES = (1, 2, 2, 2)
"""Stride of the first block of each stage (CIFAR ResNet-18)."""

BLOCKS_PER_STAGE = 2
"""Basic blocks per stage: 4 stages x 2 blocks x 2 convolutions + stem + head = 18 layers."""


def _check_int(value, name, *, minimum, fix):
    """Return ``value`` as an int; raise TypeError/ValueError "expected …, got …" plus ``fix``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"expected {name} to be an int >= {minimum}, got {type(value).__name__} "
            f"{value!r}; {fix}"
        )
    if value < minimum:
        raise ValueError(f"expected {name} to be an int >= {minimum}, got {value!r}; {fix}")
    return int(value)


class BasicBlock(nn.Module):
    """Post-activation basic block: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    out_channels : int
        Channels of the output.
    stride : int, default=1
        Stride of the first convolution (and of the shortcut).
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False
        )
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Sequential()  # identity, and no state-dict keys
        self.relu = nn.ReLU()

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, in_channels, H, W)``."""
        residual = self.relu(self.bn1(self.conv1(x)))
        residual = self.bn2(self.conv2(residual))
        return self.relu(residual + self.shortcut(x))


class ResNet18Width(nn.Module):
    """Post-activation ResNet-18 with stage widths ``k, 2k, 4k, 8k`` and the CIFAR stem.

    Build it with :func:`resnet18_width`, which validates the arguments.

    Parameters
    ----------
    k : int
        Width of the first stage.
    num_classes : int, default=10
        Outputs of the linear head.
    in_channels : int, default=3
        Channels of the input images.
    """

    def __init__(self, k, num_classes=10, in_channels=3):
        super().__init__()
        self.k = k
        self.num_classes = num_classes
        self.conv1 = nn.Conv2d(in_channels, k, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(k)
        self.relu = nn.ReLU()
        channels = k
        for index, (multiplier, stride) in enumerate(zip(STAGE_MULTIPLIERS, STAGE_STRIDES)):
            width = multiplier * k
            blocks = [BasicBlock(channels, width, stride)]
            blocks += [BasicBlock(width, width) for _ in range(BLOCKS_PER_STAGE - 1)]
            self.add_module(f"layer{index + 1}", nn.Sequential(*blocks))
            channels = width
        # Average over the whole map: the 4x4 map of a 32x32 input, as avg_pool2d(4) did.
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x):
        """Return the logits, shape ``(N, num_classes)``, for images ``x`` of shape ``(N, C, H, W)``."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(self.pool(out).flatten(1))


def resnet18_width(k, num_classes=10):
    """Post-activation ResNet-18 of width ``k``: the architecture of the paper's models.

    Stage widths ``k, 2k, 4k, 8k``; CIFAR stem (3x3 stride-1 convolution, no
    max-pool), so a 32x32 image ends as a 4x4 map before global average pooling.
    Its parameter count equals the ``para_amount`` column of the published
    tables for every width of the collection (k = 2 … 128). Module names follow
    the public research code, so its checkpoints load with ``load_state_dict``.

    Needs the ``torch`` extra (``pip install md-sklearn[torch]``).

    Parameters
    ----------
    k : int
        Width of the first stage (>= 1); the paper uses 2, 3, 4, 6, 8, 11, 16,
        23, 32, 45, 64, 91 and 128 (k = 64 is the standard CIFAR ResNet-18).
    num_classes : int, default=10
        Number of classes, i.e. outputs of the linear head (>= 2).

    Returns
    -------
    model : ResNet18Width
        A freshly initialised ``torch.nn.Module`` in training mode, on the
        default device (use ``with torch.device("meta"):`` to build one without
        allocating memory, e.g. to count parameters).

    Raises
    ------
    TypeError
        If ``k`` or ``num_classes`` is not an int.
    ValueError
        If ``k`` < 1 or ``num_classes`` < 2.

    Examples
    --------
    >>> import torch
    >>> from md_sklearn.models import resnet18_width
    >>> model = resnet18_width(2)
    >>> sum(p.numel() for p in model.parameters())
    11420
    >>> model.eval()(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 10])
    >>> with torch.device("meta"):
    ...     big = resnet18_width(64)
    >>> sum(p.numel() for p in big.parameters())
    11173962
    """
    k = _check_int(k, "k", minimum=1, fix="pass the first-stage width, e.g. k=16")
    num_classes = _check_int(
        num_classes, "num_classes", minimum=2, fix="pass the number of classes, e.g. num_classes=10"
    )
    return ResNet18Width(k, num_classes=num_classes)
