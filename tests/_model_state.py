"""A caller's model must come back from every extractor exactly as it went in."""

import torch
from torch import nn


def model_with_batchnorm_and_dropout(seed=0):
    """A model in a mixed mode with moved running statistics and gradients set."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(8, 3))
    model.train()
    model(torch.randn(16, 4)).sum().backward()  # moves the running stats, sets .grad
    model[3].eval()  # a mixed mode that must come back as it was
    return model


def snapshot(model):
    """Everything an extractor must leave alone: state, modes, gradients, trainable flags."""
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [m.training for m in model.modules()],
            [None if p.grad is None else p.grad.clone() for p in model.parameters()],
            [p.requires_grad for p in model.parameters()])


def assert_unchanged(model, before):
    state, modes, grads, flags = snapshot(model)
    assert state.keys() == before[0].keys()
    assert all(torch.equal(state[k], before[0][k]) for k in state)
    assert modes == before[1]
    assert all((a is None and b is None) or torch.equal(a, b)
               for a, b in zip(grads, before[2], strict=True))
    assert flags == before[3]
