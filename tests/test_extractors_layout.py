"""Tests of the flat-parameter pieces shared by connectivity and manifold size:
extractors.utils.ParameterLayout and extractors.utils.PointEvaluator."""

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from extractors import error_and_loss
from extractors.utils import ParameterLayout, PointEvaluator


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))


def test_flatten_and_unflatten_round_trip():
    net = model()
    layout = ParameterLayout(net)
    flat = layout.flatten(net, "cpu")
    assert flat.shape == (sum(p.numel() for p in net.parameters()),)
    assert not flat.requires_grad
    for name, value in layout.unflatten(flat).items():
        assert torch.equal(value, dict(net.named_parameters())[name])


def test_unflatten_gives_views_that_carry_gradients():
    layout = ParameterLayout(model())
    flat = torch.zeros(sum(layout.sizes), requires_grad=True)
    sum(p.sum() for p in layout.unflatten(flat).values()).backward()
    assert torch.equal(flat.grad, torch.ones_like(flat))


def test_layout_refuses_mixed_or_missing_dtypes():
    net = model()
    net[2].double()
    with pytest.raises(ValueError, match="share one floating dtype"):
        ParameterLayout(net)
    with pytest.raises(ValueError, match="no parameters"):
        ParameterLayout(nn.ReLU())


def test_evaluator_at_the_models_own_parameters_matches_error_and_loss():
    net = model()
    g = torch.Generator().manual_seed(1)
    data = TensorDataset(torch.randn(40, 3, generator=g), torch.randint(0, 2, (40,), generator=g))
    layout = ParameterLayout(net)
    evaluator = PointEvaluator(net, torch.device("cpu"))
    error, loss = evaluator.error_and_loss(layout.unflatten(layout.flatten(net, "cpu")), data, 16)
    expected = error_and_loss(net, data, device="cpu")
    assert error == pytest.approx(expected.value)
    assert loss == pytest.approx(expected.loss)
    assert all(not p.requires_grad for p in evaluator.module.parameters())
    assert all(p.requires_grad for p in net.parameters())  # the model is not touched
