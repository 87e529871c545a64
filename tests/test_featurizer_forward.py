"""``ModelGroup(forward=fn)``: the hook reaches every metric of the featurizer, runs in
the workers, and is part of the cache key (md_sklearn/_featurizer/_groups.py, _keys.py)."""

import functools
import math
import pickle

import numpy as np
import pytest
import torch
from _hf_style import (
    DictImages,
    TinyTextClassifier,
    TokenDataset,
    image_forward,
    text_forward,
    trained_text_classifier,
)
from torch import nn
from torch.utils.data import TensorDataset

from md_sklearn import LandscapeFeaturizer, ModelGroup
from md_sklearn._featurizer._keys import function_digest

SMALL = {"hessian_n_samples": 16, "hessian_max_probes": 6, "curve_epochs": 1,
         "curve_batch_size": 16, "cka_n_batches": 2, "cka_batch_size": 16,
         "device": "cpu", "random_state": 0}
METRICS = ["train_error", "train_loss", "hessian_t", "mode_connectivity_peak", "CKA"]


def _text_groups(n_groups=2, eval_data=True):
    groups = []
    for g in range(n_groups):
        data = TokenDataset(n=32, seed=g)
        members = [trained_text_classifier(2 * g + i, data) for i in range(2)]
        groups.append(ModelGroup(members, data, name=f"text{g}", forward=text_forward,
                                 eval_data=TokenDataset(n=16, seed=10 + g) if eval_data else None))
    return groups


def test_text_model_features_are_finite_and_match_the_extractors():
    import extractors

    groups = _text_groups()
    table = LandscapeFeaturizer(METRICS, cka_mixup_alpha=None, **SMALL).fit_transform(groups)
    assert np.isfinite(table[METRICS + ["test_error"]].to_numpy(float)).all()
    # the error columns are the members' exact errors through the hook, averaged
    for group in groups:
        errors = [extractors.error_and_loss(m, group.data, forward=text_forward,
                                            device="cpu").value for m in group.members]
        assert table.loc[group.name, "train_error"] == pytest.approx(np.mean(errors))


def test_cka_mixup_on_token_ids_fails_naming_the_fix():
    featurizer = LandscapeFeaturizer(["CKA"], **SMALL)
    with pytest.raises(ValueError, match="cka_mixup_alpha=None"):
        featurizer.fit_transform(_text_groups(1))


def test_dict_images_through_the_hook_match_the_default_errors():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=generator)
    y = (x[:, 0] > 0).long()
    models = [nn.Linear(4, 2), nn.Linear(4, 2)]
    plain = ModelGroup(models, TensorDataset(x, y), name="g")
    hooked = ModelGroup(models, DictImages(x, y), name="g", forward=image_forward)
    featurizer = LandscapeFeaturizer(["train_error", "train_loss"], **SMALL)
    np.testing.assert_allclose(featurizer.fit_transform([hooked]).to_numpy(float),
                               featurizer.fit_transform([plain]).to_numpy(float), rtol=1e-6)


def _relabelled(model, batch):  # another hook: labels shifted by one class
    out, labels = text_forward(model, batch)
    return out, (labels + 1) % 3


def test_the_hook_is_part_of_the_cache_key(tmp_path):
    featurizer = LandscapeFeaturizer(["train_error"], cache_dir=tmp_path, **SMALL)
    group = _text_groups(1, eval_data=False)[0]
    first = featurizer.fit_transform([group])
    assert len(list(tmp_path.glob("*.json"))) == 1
    again = featurizer.fit_transform([group])  # same hook: read from the cache
    assert len(list(tmp_path.glob("*.json"))) == 1 and again.equals(first)
    other = ModelGroup(group.members, group.data, name=group.name, forward=_relabelled)
    changed = featurizer.fit_transform([other])
    assert len(list(tmp_path.glob("*.json"))) == 2
    assert changed.loc[group.name, "train_error"] != first.loc[group.name, "train_error"]


def test_function_digest_follows_code_and_captured_values():
    def make(shift):
        def hook(model, batch):
            out, labels = text_forward(model, batch)
            return out, (labels + shift) % 3
        return hook

    assert function_digest(text_forward) == function_digest(text_forward)
    assert function_digest(text_forward) != function_digest(_relabelled)
    assert function_digest(make(1)) == function_digest(make(1))
    assert function_digest(make(1)) != function_digest(make(2))
    partial = functools.partial(_relabelled)
    assert function_digest(partial) != function_digest(_relabelled)


_HEAD_SCRIPT = """
import torch
from md_sklearn._featurizer._keys import function_digest
torch.manual_seed(0)
head = torch.nn.Linear(6, 3)
weights = torch.ones(3)
def hook(model, batch):
    return head(model(batch[0])) * weights, batch[1]
print(function_digest(hook))
"""


def test_function_digest_is_the_same_in_every_process():
    # a closure over a module and a tensor: hashed by content, not by memory address
    import subprocess
    import sys

    digests = {subprocess.run([sys.executable, "-c", _HEAD_SCRIPT], capture_output=True,
                              text=True, check=True, timeout=120).stdout.strip()
               for _ in range(2)}
    assert len(digests) == 1 and len(digests.pop()) == 64


class _Scaled:
    def __init__(self, scale):
        self.scale = scale

    def __call__(self, model, batch):
        out, labels = text_forward(model, batch)
        return out, labels

    def method(self, model, batch):
        return self(model, batch)


def test_function_digest_of_common_callables():
    assert function_digest(_Scaled(1)) == function_digest(_Scaled(1))
    assert function_digest(_Scaled(1)) != function_digest(_Scaled(2))
    assert function_digest(_Scaled(1).method) != function_digest(_Scaled(2).method)
    assert function_digest(len) != function_digest(abs)
    # partial arguments that cannot be pickled, and a closure cell not yet filled
    function_digest(functools.partial(_relabelled, extra=lambda x: x))

    def outer():
        def hook(model, batch):
            return later(model, batch)
        digest = function_digest(hook)
        later = text_forward
        return digest

    assert len(outer()) == 64
    cyclic = _Scaled(1)
    cyclic.scale = cyclic
    assert len(function_digest(cyclic)) == 64


def test_workers_get_the_hook():
    groups = _text_groups()
    one = LandscapeFeaturizer(["train_error", "hessian_t"], n_jobs=1, **SMALL)
    two = LandscapeFeaturizer(["train_error", "hessian_t"], n_jobs=2, **SMALL)
    np.testing.assert_array_equal(one.fit_transform(groups).to_numpy(float),
                                  two.fit_transform(groups).to_numpy(float))


def test_model_group_checks_and_old_pickles():
    with pytest.raises(TypeError, match="expected forward to be a function"):
        ModelGroup([TinyTextClassifier()], TokenDataset(), forward="logits")
    group = _text_groups(1)[0]
    assert "forward=text_forward" in repr(group)
    # a group pickled before the keyword existed has no instance attribute: reads None
    state = pickle.loads(pickle.dumps(group))
    del state.__dict__["forward"]
    assert state.forward is None
    assert math.isfinite(LandscapeFeaturizer(["train_error"], **SMALL).fit_transform(
        [ModelGroup(group.members, group.data, forward=text_forward)]).iloc[0, 0])
