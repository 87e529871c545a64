"""The ``forward(model, batch) -> (logits, labels)`` hook of every public extractor
(extractors/_common/_batch.py): the same numbers as the default path on the same data,
Hugging Face-style models with dict batches and ``.logits`` outputs, integer inputs and
CKA's mixup, the caller's model untouched, bad hooks refused."""

import pytest
import torch
from _hf_style import DictImages, TinyTextClassifier, TokenDataset, image_forward, text_forward
from _model_state import assert_unchanged, model_with_batchnorm_and_dropout, snapshot
from torch import nn
from torch.utils.data import TensorDataset

import extractors
from extractors.utils import BatchFormat


def _mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def _images(n=64):
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()


SMALL = {
    "error_and_loss": lambda f, m, d, **k: f(m[0], d, batch_size=16, device="cpu", **k),
    "hessian_trace": lambda f, m, d, **k: f(m[0], d, n_samples=32, max_probes=12,
                                            random_state=3, device="cpu", **k),
    "hessian_top_eigenvalue": lambda f, m, d, **k: f(m[0], d, n_samples=32, max_iter=30,
                                                     random_state=3, device="cpu", **k),
    "cka": lambda f, m, d, **k: f(m, d, n_batches=3, batch_size=16, random_state=3,
                                  device="cpu", **k),
    "mode_connectivity": lambda f, m, d, **k: f(m[0], m[1], d, epochs=2, batch_size=16,
                                                points=(0.0, 0.5, 1.0), random_state=3,
                                                device="cpu", **k),
    "linear_barrier": lambda f, m, d, **k: f(m[0], m[1], d, points=(0.0, 0.25, 0.5, 1.0),
                                             batch_size=16, device="cpu", **k),
    "manifold_size": lambda f, m, d, **k: f(m[0], d, method="radius", n_directions=2,
                                            n_samples=32, batch_size=16, random_state=3,
                                            device="cpu", **k),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_hook_on_dict_samples_gives_the_default_numbers(name):
    # the same data as dicts with an extra item, read through the hook: every number equal
    x, y = _images()
    models = [_mlp(0), _mlp(1)]
    function = getattr(extractors, name)
    plain = SMALL[name](function, models, TensorDataset(x, y))
    hooked = SMALL[name](function, models, DictImages(x, y), forward=image_forward)
    assert type(hooked) is type(plain)
    for field in ("value", "loss", "standard_error", "n_samples", "n_probes", "n_iter"):
        if hasattr(plain, field):
            torch.testing.assert_close(torch.tensor(getattr(hooked, field), dtype=torch.float64),
                                       torch.tensor(getattr(plain, field), dtype=torch.float64),
                                       rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_hugging_face_style_model_with_integer_inputs(name):
    data = TokenDataset()
    models = [TinyTextClassifier(0), TinyTextClassifier(1)]
    before = [snapshot(m) for m in models]
    options = {"mixup_alpha": None} if name == "cka" else {}
    result = SMALL[name](getattr(extractors, name), models, data, forward=text_forward,
                         **options)
    assert torch.isfinite(torch.tensor(float(result.value)))
    for model, state in zip(models, before, strict=True):
        assert_unchanged(model, state)


def test_error_through_the_hook_by_hand():
    data = TokenDataset(n=10)
    model = TinyTextClassifier(2)
    with torch.no_grad():
        logits = text_forward(model, {"input_ids": data.input_ids, "labels": data.labels,
                                      "attention_mask": data.attention_mask})[0].logits
    wrong = int((logits.argmax(1) != data.labels).sum())
    loss = float(nn.functional.cross_entropy(logits, data.labels))
    result = extractors.error_and_loss(model, data, batch_size=3, forward=text_forward,
                                       device="cpu")
    assert result.value == pytest.approx(100.0 * wrong / 10)
    assert result.loss == pytest.approx(loss, rel=1e-6)


def test_hessian_trace_through_the_hook_matches_the_dense_hessian():
    # float64 model, the whole dataset as the batch: the trace by enough probes is close to
    # the dense Hessian's, computed here by torch.autograd.functional.hessian
    data = TokenDataset(n=12)
    model = TinyTextClassifier(3, dtype=torch.float64)
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    batch = {"input_ids": data.input_ids, "attention_mask": data.attention_mask}

    def loss(theta):
        state = {n: t.view(s) for n, t, s in zip(names, theta.split(sizes), shapes, strict=True)}
        out = torch.func.functional_call(model, state, (), batch)
        return nn.functional.cross_entropy(out.logits, data.labels)

    exact = float(torch.autograd.functional.hessian(loss, flat).trace())
    result = extractors.hessian_trace(model, data, n_samples=12, max_probes=4000, rtol=0.0,
                                      random_state=0, device="cpu", forward=text_forward)
    assert abs(result.value - exact) <= 4 * result.standard_error + 1e-9


def test_cka_mixup_on_integer_inputs_says_how_to_disable_it():
    models = [TinyTextClassifier(0), TinyTextClassifier(1)]
    with pytest.raises(ValueError, match=r"only integer tensors.*mixup_alpha=None"):
        extractors.cka(models, TokenDataset(), n_batches=2, batch_size=8, random_state=0,
                       device="cpu", forward=text_forward)


def test_cka_mixes_only_the_floating_inputs():
    x, y = _images(16)
    fmt = BatchFormat(image_forward)
    batch = fmt.gather(DictImages(x, y), torch.arange(16))
    permutation = torch.arange(16).flip(0)
    mixed = fmt.mix(batch, 0.25, permutation)
    torch.testing.assert_close(mixed["pixels"], 0.25 * x + 0.75 * x.flip(0))
    assert torch.equal(mixed["label"], y) and torch.equal(mixed["index"], torch.arange(16))


def test_model_mode_and_state_untouched_with_batchnorm():
    model = model_with_batchnorm_and_dropout()
    other = model_with_batchnorm_and_dropout(1)
    before = snapshot(model)
    x = torch.randn(40, 4)
    data = DictImages(x, (x[:, 0] > 0).long())
    extractors.mode_connectivity(model, other, data, epochs=1, batch_size=8,
                                 points=(0.0, 0.5, 1.0), random_state=0, device="cpu",
                                 forward=image_forward)
    extractors.hessian_trace(model, data, n_samples=16, max_probes=4, random_state=0,
                             device="cpu", forward=image_forward)
    assert_unchanged(model, before)


def test_bad_hooks_are_refused():
    x, y = _images(16)
    data = DictImages(x, y)
    with pytest.raises(TypeError, match="expected forward to be a function"):
        extractors.error_and_loss(_mlp(0), data, forward="logits", device="cpu")
    with pytest.raises(ValueError, match=r"return \(logits, labels\)"):
        extractors.error_and_loss(_mlp(0), data, forward=lambda m, b: m(b["pixels"]),
                                  device="cpu")
    with pytest.raises(ValueError, match="labels as a tensor"):
        extractors.error_and_loss(_mlp(0), data, device="cpu",
                                  forward=lambda m, b: (m(b["pixels"]), b["label"].tolist()))
    with pytest.raises(ValueError, match=r"expected labels in \[0, 2\]"):
        extractors.error_and_loss(_mlp(0), data, device="cpu",
                                  forward=lambda m, b: (m(b["pixels"]), b["label"] + 3))
    # without the hook, dict samples are refused with the hook named as the fix
    with pytest.raises(ValueError, match="pass forward=fn"):
        extractors.error_and_loss(_mlp(0), data, device="cpu")


def test_default_path_accepts_outputs_with_logits():
    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _mlp(0)

        def forward(self, x):
            return {"logits": self.inner(x)}

    x, y = _images()
    wrapped = Wrapped()
    plain = extractors.error_and_loss(wrapped.inner, TensorDataset(x, y), device="cpu")
    assert extractors.error_and_loss(wrapped, TensorDataset(x, y), device="cpu") == plain


def test_tuple_samples_with_extra_items():
    # (input, label, sample index) triples: refused by default with the hook as the fix,
    # read through the hook with the default numbers
    x, y = _images()
    triples = TensorDataset(x, y, torch.arange(len(y)))
    with pytest.raises(ValueError, match="got 3 items"):
        extractors.error_and_loss(_mlp(0), triples, device="cpu")
    hooked = extractors.hessian_trace(_mlp(0), triples, n_samples=32, max_probes=8,
                                      random_state=1, device="cpu",
                                      forward=lambda model, batch: (model(batch[0]), batch[1]))
    plain = extractors.hessian_trace(_mlp(0), TensorDataset(x, y), n_samples=32, max_probes=8,
                                     random_state=1, device="cpu")
    assert hooked.value == pytest.approx(plain.value, rel=1e-12)


def test_a_hook_must_run_the_model_it_receives():
    # a hook that closes over the caller's model would evaluate it at its own weights on
    # every point of a curve or line: refused
    x, y = _images()
    data = DictImages(x, y)
    outside = _mlp(0)
    with pytest.raises(ValueError, match="call the model it receives"):
        extractors.linear_barrier(outside, _mlp(1), data, points=(0.0, 0.5, 1.0),
                                  device="cpu", forward=lambda _, b: (outside(b["pixels"]),
                                                                      b["label"]))


def test_per_token_rows_are_refused():
    data = TokenDataset(n=8)

    def per_token(model, batch):
        hidden = model.embed(batch["input_ids"])  # (batch, length, dim)
        logits = model.head(hidden).flatten(0, 1)
        return logits, batch["labels"].repeat_interleave(batch["input_ids"].shape[1])

    with pytest.raises(ValueError, match="one label .* per sample of the batch"):
        extractors.error_and_loss(TinyTextClassifier(), data, forward=per_token, device="cpu")
