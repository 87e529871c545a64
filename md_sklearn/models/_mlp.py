"""A width-scalable multilayer perceptron for 1-D signals (e.g. MNIST-1D)."""

from torch import nn

from md_sklearn.models._resnet import _check_int


class MLP(nn.Module):
    """``depth`` hidden Linear + ReLU layers of ``width`` units, then a linear head.

    Build it with :func:`mlp`, which validates the arguments.

    Parameters
    ----------
    width : int
        Units of every hidden layer.
    in_features : int, default=40
        Length of the (flattened) input.
    num_classes : int, default=10
        Outputs of the linear head.
    depth : int, default=2
        Number of hidden layers.
    """

    def __init__(self, width, in_features=40, num_classes=10, depth=2):
        super().__init__()
        self.width = width
        self.num_classes = num_classes
        layers = [nn.Flatten()]
        features = in_features
        for _ in range(depth):
            layers += [nn.Linear(features, width), nn.ReLU()]
            features = width
        layers.append(nn.Linear(features, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Return the logits, shape ``(N, num_classes)``; ``x`` is flattened after the batch axis."""
        return self.layers(x)


def mlp(width, in_features=40, num_classes=10, depth=2):
    """A fully connected ReLU network whose size scales with ``width``.

    ``depth`` hidden layers of ``width`` units (Linear with bias, then ReLU), no
    normalisation, and a linear head; the input is flattened first, so a signal of
    shape ``(N, 40)`` or ``(N, 1, 40)`` both work. With ``w = width``,
    ``d = in_features``, ``K = num_classes`` and two hidden layers it has
    ``w**2 + (d + K + 2) * w + K`` parameters: with the MNIST-1D defaults (40 inputs,
    10 classes) 1,098 for width 16, 2,698 for width 32 and 78,858 for width 256.

    Needs the ``torch`` extra (``pip install md-sklearn[torch]``).

    Parameters
    ----------
    width : int
        Units per hidden layer (>= 1).
    in_features : int, default=40
        Input length (>= 1); MNIST-1D signals have 40 samples.
    num_classes : int, default=10
        Number of classes (>= 2).
    depth : int, default=2
        Number of hidden layers (>= 1).

    Returns
    -------
    model : MLP
        A freshly initialised ``torch.nn.Module`` in training mode.

    Raises
    ------
    TypeError
        If an argument is not an int.
    ValueError
        If an argument is below its minimum.

    Examples
    --------
    >>> import torch
    >>> from md_sklearn.models._mlp import mlp
    >>> model = mlp(32)
    >>> sum(p.numel() for p in model.parameters())
    2698
    >>> model.eval()(torch.zeros(5, 40)).shape
    torch.Size([5, 10])
    """
    width = _check_int(width, "width", minimum=1, fix="pass the hidden width, e.g. width=64")
    in_features = _check_int(
        in_features, "in_features", minimum=1, fix="pass the input length, e.g. in_features=40"
    )
    num_classes = _check_int(
        num_classes, "num_classes", minimum=2, fix="pass the number of classes, e.g. num_classes=10"
    )
    depth = _check_int(depth, "depth", minimum=1, fix="pass the number of hidden layers, e.g. 2")
    return MLP(width, in_features=in_features, num_classes=num_classes, depth=depth)
