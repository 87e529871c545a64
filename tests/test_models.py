"""Tests for md_sklearn.models: the paper's width-k ResNet-18 and the small CNN."""

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from md_sklearn.models import BasicBlock, resnet18_width, small_cnn  # noqa: E402
from tests._without_package import import_message_without  # noqa: E402


def _n_parameters(model):
    return sum(parameter.numel() for parameter in model.parameters())


def _meta_resnet(k, num_classes=10):
    """Build on the meta device: shapes only, no memory (k = 128 has 44.7M parameters)."""
    with torch.device("meta"):
        return resnet18_width(k, num_classes=num_classes)


# ---------------------------------------------------------------- parameter counts
def test_resnet_parameter_counts_equal_the_published_table(published_tables):
    table = published_tables["clean"]
    counts = table.groupby("width")["para_amount"].unique()
    assert len(counts) == 13
    for width, published in counts.items():
        assert len(published) == 1, f"width {width} has several para_amount values"
        model = _meta_resnet(int(width))
        assert _n_parameters(model) == int(published[0]), f"width {width}"


def test_noisy_table_has_the_same_parameter_counts(published_tables):
    clean = published_tables["clean"].groupby("width")["para_amount"].first()
    noisy = published_tables["noisy"].groupby("width")["para_amount"].first()
    for width, published in noisy.items():
        assert _n_parameters(_meta_resnet(int(width))) == int(published)
        assert clean[width] == published


@pytest.mark.parametrize(("k", "expected"), [(2, 11_420), (16, 701_466), (64, 11_173_962)])
def test_resnet_parameter_counts_quoted_in_the_issue(k, expected):
    assert _n_parameters(_meta_resnet(k)) == expected


@pytest.mark.parametrize("k", [1, 3, 5])
def test_meta_build_counts_like_a_real_build(k):
    assert _n_parameters(resnet18_width(k)) == _n_parameters(_meta_resnet(k))


def test_resnet_parameter_count_closed_form():
    # stem 27k + 2k BN; stage s (width w = m k) first block 9 c w + 9 w^2 + 4 w BN
    # (+ c w + 2 w shortcut when it changes), second block 18 w^2 + 4 w; head 8k K + K.
    def expected(k, num_classes):
        total = 27 * k + 2 * k
        channels = k
        for multiplier in (1, 2, 4, 8):
            width = multiplier * k
            total += 9 * channels * width + 9 * width**2 + 4 * width
            if channels != width:
                total += channels * width + 2 * width
            total += 18 * width**2 + 4 * width
            channels = width
        return total + 8 * k * num_classes + num_classes

    for k, num_classes in [(1, 2), (7, 10), (20, 100)]:
        assert _n_parameters(_meta_resnet(k, num_classes)) == expected(k, num_classes)


@settings(deadline=None, max_examples=30)
@given(
    width=st.integers(1, 24),
    num_classes=st.integers(2, 50),
    in_channels=st.integers(1, 4),
)
def test_small_cnn_parameter_count_formula(width, num_classes, in_channels):
    model = small_cnn(width, num_classes=num_classes, in_channels=in_channels)
    expected = 90 * width**2 + (9 * in_channels + 14 + 4 * num_classes) * width + num_classes
    assert _n_parameters(model) == expected


# ---------------------------------------------------------------- forward passes
@pytest.mark.parametrize(("k", "num_classes"), [(2, 10), (4, 100), (3, 2)])
def test_resnet_forward_shape(k, num_classes):
    torch.manual_seed(0)
    model = resnet18_width(k, num_classes=num_classes)
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, num_classes)
    assert torch.isfinite(out).all()


def test_small_cnn_forward_on_digits_sized_input():
    torch.manual_seed(0)
    model = small_cnn(4)
    out = model(torch.randn(4, 1, 8, 8))
    assert out.shape == (4, 10)
    assert torch.isfinite(out).all()
    rgb = small_cnn(2, num_classes=3, in_channels=3)
    assert rgb(torch.randn(4, 3, 8, 8)).shape == (4, 3)


def test_small_cnn_trains_on_load_digits():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = torch.tensor(digits.images[:256] / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target[:256])
    torch.manual_seed(0)
    model = small_cnn(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    with torch.no_grad():
        initial_loss = loss_fn(model(x), y).item()
    for _ in range(30):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * initial_loss


# ---------------------------------------------------------------- architecture
def test_resnet_stem_and_head():
    model = resnet18_width(5, num_classes=7)
    assert model.conv1.weight.shape == (5, 3, 3, 3)
    assert model.conv1.bias is None
    assert model.conv1.stride == (1, 1)
    assert model.linear.in_features == 40
    assert model.linear.out_features == 7
    assert model.linear.bias is not None
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert not any(m.bias is not None for m in model.modules() if isinstance(m, torch.nn.Conv2d))


def test_resnet_stage_widths_strides_and_shortcuts():
    k = 3
    model = resnet18_width(k)
    for index, (multiplier, stride) in enumerate(zip((1, 2, 4, 8), (1, 2, 2, 2))):
        stage = getattr(model, f"layer{index + 1}")
        assert len(stage) == 2
        first, second = stage
        assert first.conv1.out_channels == multiplier * k
        assert first.conv1.stride == (stride, stride)
        assert second.conv1.stride == (1, 1)
        # a 1x1 conv + BN shortcut exactly where the stride or the width changes
        assert len(first.shortcut) == (0 if index == 0 else 2)
        assert len(second.shortcut) == 0
    keys = set(model.state_dict())
    assert "layer2.0.shortcut.0.weight" in keys
    assert "layer2.0.shortcut.1.running_var" in keys
    assert not any(key.startswith("layer1.0.shortcut") for key in keys)
    assert {"conv1.weight", "bn1.weight", "linear.weight", "linear.bias"} <= keys


def test_resnet_feature_map_is_4x4_before_pooling_for_cifar_input():
    model = resnet18_width(2).eval()
    seen = {}
    model.layer4.register_forward_hook(lambda module, args, output: seen.update(out=output))
    with torch.no_grad():
        model(torch.randn(2, 3, 32, 32))
    assert seen["out"].shape == (2, 16, 4, 4)


def test_block_is_post_activation_with_identity_shortcut():
    # With conv2 zeroed, the residual branch is bn2(0) = beta = 0, so the block is
    # relu(0 + x): a ReLU after the addition (a pre-activation block would return x).
    torch.manual_seed(0)
    block = BasicBlock(4, 4).eval()
    with torch.no_grad():
        block.conv2.weight.zero_()
        x = torch.randn(3, 4, 6, 6)
        out = block(x)
    torch.testing.assert_close(out, torch.relu(x), rtol=0, atol=0)
    assert (x < 0).any()


def test_block_is_post_activation_with_projection_shortcut():
    torch.manual_seed(0)
    block = BasicBlock(2, 4, stride=2).eval()
    with torch.no_grad():
        block.conv2.weight.zero_()
        x = torch.randn(3, 2, 6, 6)
        out = block(x)
        projected = block.shortcut(x)
    assert out.shape == (3, 4, 3, 3)
    torch.testing.assert_close(out, torch.relu(projected), rtol=0, atol=0)
    assert (projected < 0).any()


def test_every_block_output_is_non_negative():
    torch.manual_seed(0)
    model = resnet18_width(2)
    outputs = []
    for module in model.modules():
        if isinstance(module, BasicBlock):
            module.register_forward_hook(lambda m, args, output: outputs.append(output))
    logits = model(torch.randn(2, 3, 32, 32))
    assert len(outputs) == 8
    assert all((output >= 0).all() for output in outputs)
    assert (logits < 0).any()  # the head itself is linear, not ReLU'd


def test_models_start_in_training_mode_and_are_fresh():
    torch.manual_seed(0)
    first = resnet18_width(2)
    second = resnet18_width(2)
    assert first.training
    assert not torch.equal(first.conv1.weight, second.conv1.weight)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", [2.0, "16", None, True])
def test_resnet_width_type_error(bad):
    with pytest.raises(TypeError, match=r"expected k to be an int >= 1, got .*; pass"):
        resnet18_width(bad)


@pytest.mark.parametrize("bad", [0, -4])
def test_resnet_width_value_error(bad):
    with pytest.raises(ValueError, match=r"expected k to be an int >= 1, got -?\d+; pass"):
        resnet18_width(bad)


def test_num_classes_errors():
    with pytest.raises(ValueError, match=r"expected num_classes to be an int >= 2, got 1"):
        resnet18_width(2, num_classes=1)
    with pytest.raises(TypeError, match=r"expected num_classes to be an int >= 2, got float"):
        small_cnn(2, num_classes=10.0)
    with pytest.raises(ValueError, match=r"expected num_classes to be an int >= 2, got 0"):
        small_cnn(2, num_classes=0)


def test_small_cnn_errors():
    with pytest.raises(ValueError, match=r"expected width to be an int >= 1, got 0; pass"):
        small_cnn(0)
    with pytest.raises(TypeError, match=r"expected width to be an int >= 1, got str"):
        small_cnn("8")
    with pytest.raises(ValueError, match=r"expected in_channels to be an int >= 1, got 0"):
        small_cnn(4, in_channels=0)


def test_numpy_integers_are_accepted():
    np = pytest.importorskip("numpy")
    assert _n_parameters(_meta_resnet(np.int64(2))) == 11_420
    assert isinstance(small_cnn(np.int32(2)).width, int)


# ---------------------------------------------------------------- imports
def test_importing_md_sklearn_does_not_import_torch():
    code = "import sys, md_sklearn; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clear_import_error_without_torch():
    # as on an installation without the torch extra
    message = import_message_without("torch", "md_sklearn.models")
    assert "md_sklearn.models needs torch" in message
    assert 'pip install "md-sklearn[torch]"' in message
