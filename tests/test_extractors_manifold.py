"""Tests of extractors.manifold_size and its pieces (volume, line search, barriers)."""

import dataclasses
import math

import pytest
import torch
from _model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import TensorDataset

from extractors import ManifoldSizeResult, linear_barrier, manifold_size
from extractors._manifold._landscape import (
    Landscape,
    filter_normalised_direction,
    geometric_line_search,
)
from extractors._manifold._lmc import largest_clique, linear_loss_barrier
from extractors._manifold._volume import edges_log_volume, simplex_log_volume
from extractors.utils import sample_indices


# --- a logistic model with exactly flat directions -------------------------------------
class Logistic(nn.Module):
    """Two-class logits ``(0, w·x)``: no softmax shift symmetry, so the loss is strictly
    convex in the weights of the features that vary and exactly flat in the others."""

    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1, bias=False)

    def forward(self, x):
        z = self.linear(x)
        return torch.cat([torch.zeros_like(z), z], dim=1)


def flat_problem(n_flat, n_used=4, n=256):
    """The fitted logistic model on ``n_used`` informative features plus ``n_flat``
    all-zero ones (whose weights are ``n_flat`` exactly flat directions), float64."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, n_used, generator=g, dtype=torch.float64)
    w_true = torch.randn(n_used, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g, dtype=torch.float64) < torch.sigmoid(x @ w_true)).long()
    w = torch.zeros(n_used, dtype=torch.float64)
    for _ in range(25):  # Newton's method on the mean logistic loss
        p = torch.sigmoid(x @ w)
        gradient = x.T @ (p - y) / n
        hessian = (x.T * (p * (1 - p))) @ x / n
        w = w - torch.linalg.solve(hessian, gradient)
    assert gradient.abs().max() < 1e-12  # the anchor is the minimum
    model = Logistic(n_used + n_flat).double()
    with torch.no_grad():
        model.linear.weight.zero_()
        model.linear.weight[0, :n_used] = w.detach()
    inputs = torch.cat([x, torch.zeros(n, n_flat, dtype=torch.float64)], dim=1)
    return model, TensorDataset(inputs, y)


def dataset(n=64, features=4, classes=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, features, generator=g),
                         torch.randint(0, classes, (n,), generator=g))


def fields(result):
    """Every field but the wall time."""
    return {k: v for k, v in dataclasses.asdict(result).items() if k != "seconds"}


# --- the volume --------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_unit_right_simplex_has_log_volume_minus_log_k_factorial(k):
    vertices = torch.cat([torch.zeros(1, k + 3), torch.eye(k, k + 3)]).double()
    assert simplex_log_volume(vertices) == pytest.approx(-math.log(math.factorial(k)), abs=1e-12)


def test_log_volume_is_the_sum_of_log_heights_minus_log_k_factorial():
    g = torch.Generator().manual_seed(0)
    edges = torch.randn(4, 9, generator=g, dtype=torch.float64)
    heights = torch.linalg.qr(edges.T).R.diagonal().abs()  # Gram-Schmidt heights
    expected = float(heights.log().sum()) - math.log(24)
    assert float(edges_log_volume(edges)) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), k=st.integers(1, 5), scale=st.floats(0.1, 10.0))
def test_log_volume_ignores_vertex_order_and_shifts_and_scales_as_k_log_c(seed, k, scale):
    g = torch.Generator().manual_seed(seed)
    vertices = torch.randn(k + 1, k + 2, generator=g, dtype=torch.float64)
    base = simplex_log_volume(vertices)
    permuted = vertices[torch.randperm(k + 1, generator=g)]
    shifted = vertices + torch.randn(1, k + 2, generator=g, dtype=torch.float64)
    assert simplex_log_volume(permuted) == pytest.approx(base, abs=1e-9)
    assert simplex_log_volume(shifted) == pytest.approx(base, abs=1e-9)
    assert simplex_log_volume(scale * vertices) == pytest.approx(base + k * math.log(scale),
                                                                 abs=1e-9)


def test_degenerate_simplex_has_minus_infinite_log_volume_and_a_point_zero():
    vertices = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    assert simplex_log_volume(vertices) == -math.inf
    assert simplex_log_volume(vertices[:1]) == 0.0


# --- the line search and the directions ------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(boundary=st.floats(1e-3, 50.0))
def test_line_search_brackets_the_boundary_to_the_bisection_resolution(boundary):
    calls = []

    def passes(s):
        calls.append(s)
        return s <= boundary

    found = geometric_line_search(passes, 1.0, max_doublings=8, max_halvings=12, n_bisections=4)
    assert found <= boundary
    assert found * 2 ** (1 / 16) > boundary * (1 - 1e-12)
    assert len(calls) <= 1 + 12 + 4


def test_line_search_caps_and_floors():
    assert geometric_line_search(lambda s: True, 0.5, 3, 3, 4) == 4.0
    assert geometric_line_search(lambda s: False, 0.5, 3, 3, 4) == 0.0


def test_filter_normalised_direction_matches_every_filter_norm_and_skips_vectors():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    landscape = Landscape(model, dataset(8, 1, 2), 4, torch.device("cpu"))
    direction = landscape.layout.unflatten(
        filter_normalised_direction(landscape.layout, landscape.anchor,
                                    torch.Generator().manual_seed(0)))
    for name, p in model.named_parameters():
        if p.ndim < 2:
            assert not direction[name].any()
        else:
            torch.testing.assert_close(direction[name].flatten(1).norm(dim=1),
                                       p.detach().flatten(1).norm(dim=1))


# --- flat directions ---------------------------------------------------------------------------
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**20))
def test_radius_grows_with_the_number_of_flat_directions(seed):
    values = [manifold_size(*flat_problem(n_flat, n_used=16), method="radius",
                            n_directions=16, random_state=seed, device="cpu").value
              for n_flat in (0, 16, 48)]
    assert values[0] < values[1] < values[2]


def test_radius_is_the_boundary_of_the_low_loss_region():
    model, data = flat_problem(0, n_used=16)
    result = manifold_size(model, data, method="radius", n_directions=4, random_state=0,
                           device="cpu")
    assert result.dimension == 4 and result.n_evaluations > 4 and result.n_train_steps == 0
    assert all(loss <= result.threshold for loss in result.interior_losses)
    # rebuild the directions: one bisection step further out is above the threshold
    landscape = Landscape(model, data, 128, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    sample_indices(len(data), 1024, gen)  # the draws manifold_size makes first (none here)
    for relative in result.distances:
        direction = filter_normalised_direction(landscape.layout, landscape.anchor, gen)
        radius = relative * landscape.anchor_norm / float(direction.norm())
        assert landscape.loss(landscape.anchor + radius * direction) <= result.threshold
        outside = landscape.loss(landscape.anchor + radius * 2 ** (1 / 16) * direction)
        assert outside > result.threshold


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**20))
def test_simplex_volume_grows_with_the_number_of_flat_directions(seed):
    results = [manifold_size(*flat_problem(n_flat), method="simplex", n_steps=100, lr=1.0,
                             random_state=seed, device="cpu")
               for n_flat in (0, 1, 2, 3)]
    values = [r.value for r in results]
    assert values == sorted(values) and len(set(values)) == 4
    for result in results:
        assert result.dimension == 3
        assert result.value == pytest.approx(result.log_volume / 3)
        assert all(loss <= result.threshold for loss in result.interior_losses)


# --- lmc and barriers -----------------------------------------------------------------------
def test_straight_line_barrier_between_a_model_and_itself_is_zero():
    model = model_with_batchnorm_and_dropout()
    data = dataset(n=48)
    landscape = Landscape(model, data, 16, torch.device("cpu"))
    loss = landscape.loss(landscape.anchor)
    theta = landscape.anchor
    assert linear_loss_barrier(landscape, theta, theta, loss, loss) == 0.0
    assert linear_barrier(model, model, data, batch_size=16, device="cpu").value == 0.0


def test_lmc_on_identical_copies_reports_every_pair_connected():
    model = model_with_batchnorm_and_dropout()
    result = manifold_size(model, dataset(n=48), method="lmc", n_copies=4, n_steps=0,
                           random_state=0, device="cpu")
    assert result.value == 1.0
    assert result.barriers == (0.0,) * 6
    assert result.dimension == 3 and result.n_requested == 4
    assert result.distances == (0.0,) * 4
    assert result.log_volume == -math.inf  # four copies of one point span no volume
    assert result.interior_losses == (result.anchor_loss,) * 4


def test_lmc_fine_tunes_copies_that_stay_connected_on_a_convex_loss():
    model, data = flat_problem(2)
    result = manifold_size(model, data, method="lmc", n_copies=3, n_steps=5, lr=0.1,
                           random_state=0, device="cpu")
    assert result.n_train_steps == 15 and len(result.barriers) == 3
    assert all(d > 0 for d in result.distances)
    assert result.value == 1.0 and result.dimension == 2  # convex: no barrier above the ends
    assert math.isfinite(result.log_volume)


def test_largest_clique():
    assert largest_clique(4, {(0, 1), (0, 2), (1, 2), (2, 3)}) == (0, 1, 2)
    assert largest_clique(3, set()) == (0,)
    assert largest_clique(3, {(1, 2)}) == (1, 2)


# --- the public function ---------------------------------------------------------------------
def test_anchor_loss_uses_the_batchnorm_reestimate_of_linear_barrier():
    model = model_with_batchnorm_and_dropout()
    data = dataset(n=48)
    result = manifold_size(model, data, method="radius", n_directions=1, batch_size=16,
                           random_state=0, device="cpu")
    expected = linear_barrier(model, model, data, batch_size=16, device="cpu").losses[0]
    assert result.anchor_loss == pytest.approx(expected, rel=1e-6)
    assert result.threshold == pytest.approx(1.05 * result.anchor_loss + 1e-3)
    assert result.n_samples == 48


@pytest.mark.parametrize("method", ["simplex", "radius", "lmc"])
def test_deterministic_and_model_unchanged(method):
    model = model_with_batchnorm_and_dropout()
    before = snapshot(model)
    data = dataset(n=48)
    kwargs = dict(method=method, n_vertices=2, n_directions=2, n_copies=2, n_steps=3,
                  n_samples=40, batch_size=16, random_state=3, device="cpu")
    first = manifold_size(model, data, **kwargs)
    second = manifold_size(model, data, **kwargs)
    assert_unchanged(model, before)
    assert isinstance(first, ManifoldSizeResult) and float(first) == first.value
    assert fields(first) == fields(second)
    assert first.method == method and first.n_samples == 40 and first.seconds > 0
    other = manifold_size(model, data, **{**kwargs, "random_state": 4})
    assert fields(other) != fields(first)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.value = 0.0


def test_simplex_diagnostics_are_consistent():
    model, data = flat_problem(1)
    result = manifold_size(model, data, n_vertices=2, n_steps=10, lr=1.0, random_state=0,
                           device="cpu")
    assert result.method == "simplex" and result.n_requested == 2 and result.dimension == 2
    assert len(result.distances) == 2 and len(result.interior_losses) == 2
    assert result.barriers == () and result.n_train_steps == 20
    assert result.anchor_loss < result.threshold


def test_a_vertex_that_never_fits_stops_growth_and_scores_minus_infinity():
    model, data = flat_problem(0)
    # a tolerance far below the noise of the first step: nothing is accepted
    result = manifold_size(model, data, n_vertices=2, n_steps=0, rtol=1e-12, atol=0.0,
                           random_state=0, device="cpu")
    assert result.dimension == 0 and result.value == -math.inf
    assert result.distances == () and result.log_volume == 0.0


class OnlyScale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))

    def forward(self, x):
        return x * self.scale


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("model", None), {}, TypeError, "expected model to be a torch.nn.Module"),
        ((None, "data"), {}, TypeError, "expected data to be a torch.utils.data.Dataset"),
        ((None, None), {"method": "volume"}, ValueError,
         "expected method to be one of 'simplex', 'radius', 'lmc', got 'volume'"),
        ((None, None), {"method": 1}, TypeError, "expected method to be a str"),
        ((None, None), {"n_copies": 1}, ValueError, "expected n_copies >= 2"),
        ((None, None), {"n_copies": 17}, ValueError, "expected n_copies <= 16"),
        ((None, None), {"rtol": 0.0}, ValueError, "expected rtol > 0"),
        ((None, None), {"atol": -1.0}, ValueError, "expected atol >= 0"),
        ((None, None), {"n_vertices": 0}, ValueError, "expected n_vertices >= 1"),
        ((None, None), {"n_steps": 2.5}, TypeError, "expected n_steps to be an int"),
        ((None, None), {"lr": float("inf")}, ValueError, "expected finite"),
        ((None, None), {"device": "tpu"}, ValueError, "expected device"),
    ],
)
def test_bad_arguments(args, kwargs, error, match):
    model, data = nn.Linear(4, 3), dataset()
    args = tuple(default if given_arg is None else given_arg
                 for given_arg, default in zip(args, (model, data)))
    with pytest.raises(error, match=match):
        manifold_size(*args, device=kwargs.pop("device", "cpu"), **kwargs)


def test_zero_data():
    empty = TensorDataset(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="expected a non-empty data, got a dataset of 0"):
        manifold_size(nn.Linear(4, 3), empty, device="cpu")


def test_non_finite_anchor_loss_is_rejected_and_the_model_kept():
    model = nn.Linear(4, 3)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="expected a finite loss at the model, got nan"):
        manifold_size(model, dataset(), device="cpu")
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, before[name], rtol=0, atol=0, equal_nan=True)


def test_radius_needs_a_weight_matrix():
    with pytest.raises(ValueError, match="expected a model with at least one weight of two"):
        manifold_size(OnlyScale(), dataset(features=3), method="radius", device="cpu")


def test_malformed_labels_are_reported():
    data = TensorDataset(torch.randn(8, 4), torch.full((8,), 7))
    with pytest.raises(ValueError, match=r"expected labels in \[0, 2\]"):
        manifold_size(nn.Linear(4, 3), data, device="cpu")
