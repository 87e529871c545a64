"""Same weights, same numbers (issue 14, point 2): the per-group seeds and cache keys come
from the weights as loaded and the data, not from how the weights were stored."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from md_sklearn import LandscapeFeaturizer, ModelGroup
from md_sklearn._featurizer import _worker
from md_sklearn._featurizer._keys import ContentKeys
from tests._landscape_groups import FAST, build_cnn, digits, torch_threads, trained_cnn

SEEDS = (0, 1)
METRICS = ("train_error", "hessian_t", "mode_connectivity_peak", "CKA")


@pytest.fixture(autouse=True)
def one_torch_thread():
    with torch_threads(1):
        yield


def stored(form, folder):
    """The members (small CNNs trained 1 epoch from seeds 0 and 1) stored one way."""
    members = []
    for seed in SEEDS:
        model = trained_cnn(1, seed)
        state = model.state_dict()
        path = folder / f"form{FORMS.index(form)}-seed{seed}"  # .with_suffix adds the ending
        if form == "module":
            members.append(model)
        elif form == "state dict":
            members.append({k: v.clone() for k, v in state.items()})
        elif form == ".pt":
            torch.save(state, path.with_suffix(".pt"))
            members.append(path.with_suffix(".pt"))
        elif form == ".safetensors":
            save_file({k: v.contiguous() for k, v in state.items()},
                      str(path.with_suffix(".safetensors")))
            members.append(path.with_suffix(".safetensors"))
        elif form == "lightning .ckpt":
            torch.save({"epoch": 1, "state_dict": {f"model.{k}": v for k, v in state.items()}},
                       path.with_suffix(".ckpt"))
            members.append(path.with_suffix(".ckpt"))
        elif form == "DataParallel .pth":
            torch.save(torch.nn.DataParallel(model).state_dict(), path.with_suffix(".pth"))
            members.append(path.with_suffix(".pth"))
    build = None if form == "module" else build_cnn
    return ModelGroup(members, digits()[0], build_model=build, name=form)


FORMS = ("module", "state dict", ".pt", ".safetensors", "lightning .ckpt", "DataParallel .pth")


def test_one_set_of_weights_stored_six_ways_gives_one_row(tmp_path):
    groups = [stored(form, tmp_path) for form in FORMS]
    keys = {ContentKeys().group(group, group.name) for group in groups}
    assert len(keys) == 1
    with pytest.warns(UserWarning, match="removed the prefix"):
        table = LandscapeFeaturizer(METRICS, **FAST).fit_transform(groups)
    reference = table.loc["module"].to_numpy()
    assert np.isfinite(reference).all()
    for form in FORMS:
        np.testing.assert_array_equal(table.loc[form].to_numpy(), reference, err_msg=form)


def test_a_cache_filled_from_one_form_serves_the_others(tmp_path, monkeypatch):
    calls = []
    compute = _worker.compute_group
    monkeypatch.setattr(_worker, "compute_group", lambda task: calls.append(task.label)
                        or compute(task))
    featurizer = LandscapeFeaturizer(["train_error", "hessian_t"],
                                     **{**FAST, "cache_dir": tmp_path / "cache"})
    first = featurizer.fit_transform([stored(".pt", tmp_path)])
    assert calls == [".pt"]
    again = featurizer.fit_transform([stored(".safetensors", tmp_path)])
    assert calls == [".pt"]  # read from the cache: the same weights
    np.testing.assert_array_equal(again.to_numpy(), first.to_numpy())


def test_other_weights_give_another_key(tmp_path):
    group = stored(".pt", tmp_path)
    state = trained_cnn(1, 0).state_dict()
    state["linear.bias"] = state["linear.bias"] + 1e-6
    torch.save(state, group.members[0])
    assert ContentKeys().group(group, "g") != ContentKeys().group(stored("module", tmp_path), "g")


def test_a_checkpoint_rewritten_in_place_is_hashed_again(tmp_path):
    """The in-process memo is keyed by the file's bytes, never by its name or time stamp."""
    group = stored(".pt", tmp_path)
    before = ContentKeys().group(group, "g")
    state = trained_cnn(1, 1).state_dict()
    torch.save(state, group.members[0])  # same size, same name: other weights
    assert ContentKeys().group(group, "g") != before
