"""ModelGroup: validation when made, lazy checkpoint reading, and no torch import."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

import extractors.defaults as paper
from md_sklearn import LandscapeFeaturizer, ModelGroup
from md_sklearn._featurizer._checkpoints import load_member
from tests._landscape_groups import build_cnn, digits, trained_cnn

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def data():
    return TensorDataset(torch.randn(16, 4), torch.randint(0, 3, (16,)))


def linear():
    return torch.nn.Linear(4, 3)


# --- making a group -------------------------------------------------------------------------
def test_members_of_every_kind_are_kept(tmp_path, data, monkeypatch):
    module = linear()
    state = linear().state_dict()
    torch.save(linear().state_dict(), tmp_path / "a.pt")
    monkeypatch.chdir(tmp_path)  # a relative path is made absolute against the working folder
    group = ModelGroup([module, state, "a.pt", tmp_path / "a.pt"], data, build_model=linear,
                       name="g", meta={"width": 4, "optimizer": "sgd", "note": None})
    assert group.members[0] is module and group.members[1] is state
    assert group.members[2] == group.members[3] == str(tmp_path / "a.pt")
    assert len(group) == 4 and group.name == "g" and group.eval_data is None
    assert group.meta == {"width": 4, "optimizer": "sgd", "note": None}
    assert repr(group) == ("ModelGroup(name='g', members=4, data=TensorDataset of 16, "
                           "meta={'width': 4, 'optimizer': 'sgd', 'note': None})")


def test_meta_is_copied(data):
    meta = {"width": 4}
    group = ModelGroup([linear()], data, meta=meta)
    meta["width"] = 8
    assert group.meta == {"width": 4}


def test_paths_without_build_model_need_the_pickle_opt_in(tmp_path, data):
    path = tmp_path / "whole.pt"
    with pytest.raises(ValueError, match=r"expected build_model for members\[0\]"):
        ModelGroup([path], data)
    group = ModelGroup([path], data, allow_pickle=True)
    assert group.build_model is None and group.allow_pickle


@pytest.mark.parametrize(
    ("members", "kwargs", "error", "match"),
    [
        ([], {}, ValueError, "at least one member"),
        ("model.pt", {}, TypeError, "expected members to be a list"),
        ({"weight": 1}, {}, TypeError, "expected members to be a list"),
        ([3.0], {}, TypeError, r"members\[0\] to be a torch.nn.Module, a state dict"),
        (["model.h5"], {"build_model": linear}, ValueError, r"\.pt, \.pth, \.ckpt, \.safetensors file"),
        ([{}], {}, ValueError, r"expected build_model for members\[0\], got a state dict"),
        (["m.pt"], {"build_model": "Linear"}, TypeError, "build_model to be a callable"),
        (["m.pt"], {"build_model": linear, "name": 3}, TypeError, "name to be a str"),
        (["m.pt"], {"build_model": linear, "name": ""}, ValueError, "non-empty name"),
        (["m.pt"], {"build_model": linear, "meta": [1]}, TypeError, "meta to be a mapping"),
        (["m.pt"], {"build_model": linear, "meta": {1: 2}}, TypeError, "meta keys to be str"),
        (["m.pt"], {"build_model": linear, "meta": {"w": [1]}}, TypeError, r"meta\['w'\]"),
        (["m.pt"], {"build_model": linear, "allow_pickle": 1}, TypeError, "allow_pickle"),
        (["m.pt"], {"build_model": linear, "eval_data": [1]}, TypeError,
         "eval_data to be a torch.utils.data.Dataset"),
    ],
)
def test_bad_arguments(members, kwargs, error, match, data):
    with pytest.raises(error, match=match):
        ModelGroup(members, data, **kwargs)


def test_bad_data():
    with pytest.raises(TypeError, match="data to be a torch.utils.data.Dataset, got list"):
        ModelGroup([linear()], [(torch.zeros(4), 0)])
    empty = TensorDataset(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="non-empty data, got a dataset of 0 samples"):
        ModelGroup([linear()], empty)


# --- reading members (what the worker does) -----------------------------------------------------
def test_state_dict_checkpoints_load_into_build_model(tmp_path):
    reference = trained_cnn(0, 0)
    state = reference.state_dict()
    torch.save(state, tmp_path / "plain.pt")
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "nested.pth")
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "m.safetensors"))
    for member in (state, str(tmp_path / "plain.pt"), str(tmp_path / "nested.pth"),
                   str(tmp_path / "m.safetensors")):
        model = load_member(member, build_cnn, allow_pickle=False)
        assert model is not reference
        loaded = model.state_dict()
        assert all(torch.equal(loaded[k], v) for k, v in state.items())
    module = trained_cnn(0, 1)
    assert load_member(module, None, allow_pickle=False) is module


def test_whole_module_checkpoint_needs_the_opt_in(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(trained_cnn(0, 0), path)
    with pytest.raises(ValueError, match=r"needs pickle.*allow_pickle=True.*arbitrary code"):
        load_member(str(path), build_cnn, allow_pickle=False)
    model = load_member(str(path), None, allow_pickle=True)
    assert isinstance(model, torch.nn.Module)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 trained_cnn(0, 0).state_dict().values(),
                                                 strict=True))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_truncated_checkpoint_names_the_path(tmp_path, suffix):
    full = tmp_path / f"full{suffix}"
    if suffix == ".pt":
        torch.save(linear().state_dict(), full)
    else:
        from safetensors.torch import save_file

        save_file(linear().state_dict(), str(full))
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"expected a complete .*{cut.name}.*truncated"):
        load_member(str(cut), linear, allow_pickle=False)


def test_missing_checkpoint_names_the_path(tmp_path):
    path = str(tmp_path / "gone.pt")
    with pytest.raises(FileNotFoundError, match=r"checkpoint file at '.*gone\.pt', got no such"):
        load_member(path, linear, allow_pickle=False)


def test_checkpoint_of_another_architecture_names_the_parameter(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(torch.nn.Linear(4, 5).state_dict(), path)
    with pytest.raises(ValueError, match=r"fit the module build_model\(\) returns.*weight"):
        load_member(str(path), linear, allow_pickle=False)


def test_checkpoint_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(ValueError, match="to hold a state dict"):
        load_member(str(path), linear, allow_pickle=False)


def test_build_model_must_return_a_module():
    with pytest.raises(TypeError, match=r"build_model\(\) to return a torch.nn.Module"):
        load_member(linear().state_dict(), lambda: "net", allow_pickle=False)


def test_making_groups_reads_no_file(tmp_path):
    """Loading is lazy: a group of paths that do not exist yet can be made."""
    group = ModelGroup([tmp_path / "later.pt"], digits()[0], build_model=build_cnn)
    assert group.members == (str(tmp_path / "later.pt"),)


# --- torch stays out of import md_sklearn --------------------------------------------------------
def test_import_and_construction_do_not_import_torch():
    script = (
        "import sys\n"
        "import md_sklearn\n"
        "from md_sklearn import LandscapeFeaturizer, ModelGroup\n"
        "params = LandscapeFeaturizer().get_params()\n"
        "try:\n"
        "    ModelGroup(['a.pt'], data=[1, 2], build_model=len)\n"
        "except TypeError as error:\n"
        "    assert 'torch.utils.data.Dataset' in str(error)\n"
        "print('torch' in sys.modules, params['hessian_n_samples'], params['curve_epochs'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=REPO, env=env, check=True).stdout.split()
    assert out == ["False", str(paper.HESSIAN_N_SAMPLES), str(paper.CURVE_EPOCHS)]


def test_featurizer_defaults_are_the_extractor_constants():
    params = LandscapeFeaturizer().get_params()
    assert params["hessian_n_samples"] == paper.HESSIAN_N_SAMPLES == 200
    assert params["hessian_max_probes"] == paper.TRACE_MAX_PROBES == paper.EIGEN_MAX_ITER == 100
    assert params["hessian_rtol"] == paper.TRACE_RTOL == paper.EIGEN_RTOL
    assert params["curve_epochs"] == paper.CURVE_EPOCHS
    assert params["curve_batch_size"] == paper.CURVE_BATCH_SIZE
    assert params["curve_lr"] == paper.CURVE_LR
    assert params["cka_n_batches"] == paper.CKA_N_BATCHES
    assert params["cka_batch_size"] == paper.CKA_BATCH_SIZE
    assert params["cka_mixup_alpha"] == paper.CKA_MIXUP_ALPHA
