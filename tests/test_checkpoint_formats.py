"""Checkpoints as people save them (issue 14, point 1): Lightning .ckpt files, nested state
dicts, wrapper prefixes (DataParallel/DDP ``module.``, ``torch.compile`` ``_orig_mod.``,
a Lightning module's ``model.``), and short key differences when nothing fits."""

import warnings

import pytest
import torch
from torch.utils.data import TensorDataset

from md_sklearn import LandscapeFeaturizer, ModelGroup
from md_sklearn._cli import _diagnose
from md_sklearn._featurizer._checkpoints import load_member
from md_sklearn._featurizer._groups import CHECKPOINT_SUFFIXES
from md_sklearn._featurizer._state_keys import KeyMismatch, key_difference, match_keys


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)
        self.norm = torch.nn.BatchNorm2d(2)
        self.fc = torch.nn.Linear(2, 3)

    def forward(self, x):
        return self.fc(self.norm(self.conv(x)).mean(dim=(2, 3)))


class LitModule(torch.nn.Module):
    """What a LightningModule holds: the network under ``model`` and, here, a loss with a buffer."""

    def __init__(self, net, with_loss=False):
        super().__init__()
        self.model = net
        if with_loss:
            self.criterion = torch.nn.CrossEntropyLoss(weight=torch.ones(3))


def net(seed=0):
    torch.manual_seed(seed)
    return Net()


def same_weights(model, reference):
    got, want = model.state_dict(), reference.state_dict()
    return got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def lightning_checkpoint(reference, **kwargs):
    return {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.2.0",
            "state_dict": LitModule(reference, **kwargs).state_dict(),
            "optimizer_states": [], "lr_schedulers": [], "hyper_parameters": {"lr": 0.1}}


# --- the table's first row: a Lightning .ckpt --------------------------------------------------
def test_ckpt_is_a_checkpoint_ending():
    assert ".ckpt" in CHECKPOINT_SUFFIXES


def test_lightning_ckpt_loads_and_says_it_removed_model_prefix(tmp_path):
    reference = net()
    path = tmp_path / "epoch=3-step=120.ckpt"
    torch.save(lightning_checkpoint(reference), path)
    group = ModelGroup([path], TensorDataset(torch.zeros(2, 1, 5, 5)), build_model=Net)
    notes = []
    model = load_member(group.members[0], Net, allow_pickle=False, notes=notes)
    assert same_weights(model, reference)
    assert notes == ["removed the prefix 'model.' from the checkpoint's keys to match the "
                     "module build_model() returns"]


def test_lightning_module_with_other_state_uses_the_matching_part():
    reference = net()
    notes = []
    model = load_member(lightning_checkpoint(reference, with_loss=True), Net, False, notes)
    assert same_weights(model, reference)
    assert "left out 1 key(s) outside it ('criterion.weight')" in notes[0]


def test_cli_group_folder_of_ckpt_files_is_a_group(tmp_path):
    folder = tmp_path / "lightning"
    folder.mkdir()
    for seed in range(3):
        torch.save(lightning_checkpoint(net(seed)), folder / f"seed{seed}.ckpt")
    (name, files, _), = _diagnose.discover_groups([folder])
    assert name == "lightning" and [f.name for f in files] == [f"seed{s}.ckpt" for s in range(3)]


@pytest.mark.parametrize("layout", ["state_dict", "model_state_dict", "model", "nested twice",
                                    "only mapping"])
def test_nested_state_dicts_are_found(layout):
    reference = net()
    state = reference.state_dict()
    checkpoint = {
        "state_dict": {"state_dict": state, "epoch": 1},
        "model_state_dict": {"model_state_dict": state, "optimizer_state_dict": {}},
        "model": {"model": state, "step": 5},
        "nested twice": {"checkpoint": 1, "model": {"state_dict": state}},
        "only mapping": {"weights": state, "step": 5},
    }[layout]
    assert same_weights(load_member(checkpoint, Net, False), reference)


# --- the table's second row: wrapper prefixes ----------------------------------------------------
@pytest.mark.parametrize("wrap, prefix", [
    (torch.nn.DataParallel, "module."),
    (torch.compile, "_orig_mod."),
    (lambda m: torch.nn.DataParallel(torch.compile(m)), "module._orig_mod."),
    (lambda m: torch.nn.Sequential(m), "0."),  # any prefix that makes the keys match exactly
])
def test_wrapper_prefix_is_removed_and_named(tmp_path, wrap, prefix):
    reference = net()
    state = wrap(reference).state_dict()
    assert all(key.startswith(prefix) for key in state)
    torch.save(state, tmp_path / "wrapped.pt")
    notes = []
    model = load_member(str(tmp_path / "wrapped.pt"), Net, False, notes)
    assert same_weights(model, reference)
    assert notes == [f"removed the prefix {prefix!r} from the checkpoint's keys to match the "
                     "module build_model() returns"]


def test_featurizer_warns_once_per_group_about_the_prefix(tmp_path):
    paths = []
    for seed in (0, 1):
        paths.append(tmp_path / f"seed{seed}.pt")
        torch.save(torch.nn.DataParallel(net(seed)).state_dict(), paths[-1])
    data = TensorDataset(torch.randn(8, 1, 5, 5), torch.randint(0, 3, (8,)))
    group = ModelGroup(paths, data, build_model=Net, name="ddp")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = LandscapeFeaturizer(["train_error"], device="cpu", progress=False).fit_transform(
            [group])
    notes = [str(w.message) for w in caught if "prefix" in str(w.message)]
    assert notes == ["group 'ddp', members 0, 1: removed the prefix 'module.' from the "
                     "checkpoint's keys to match the module build_model() returns."]
    assert table.shape == (1, 1)


def test_two_fitting_prefixes_are_ambiguous():
    state = {f"{p}{k}": v for p in ("model.", "ema.") for k, v in net().state_dict().items()}
    with pytest.raises(ValueError, match=r"several prefixes \('model\.', 'ema\.'\).*keep the one"):
        load_member(state, Net, False)


def test_keys_as_saved_are_used_as_saved():
    assert match_keys(["a.weight", "b"], ["b", "a.weight"]).note() is None


# --- when nothing fits: a short difference ------------------------------------------------------
def test_mismatch_is_short_and_readable():
    big = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(200)])
    state = {f"backbone.{k}": v for k, v in big.state_dict().items()}
    other = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(201)])
    with pytest.raises(ValueError) as error:
        load_member(state, lambda: other, False)
    message = str(error.value)
    assert len(message) < 800, message
    assert "402 of the module's 402 key(s) missing" in message
    assert "400 of the checkpoint's 400 key(s) unknown" in message
    assert "'0.weight', '0.bias', '1.weight', ... 399 more" in message
    assert "most unknown keys start with 'backbone.'" in message


def test_shape_mismatch_names_the_tensor():
    with pytest.raises(ValueError, match=r"1 tensor\(s\) of another shape \('fc.weight': "
                                         r"checkpoint \(5, 2\), module \(3, 2\)"):
        load_member({**net().state_dict(), "fc.weight": torch.zeros(5, 2)}, Net, False)


def test_key_difference_hints_at_a_wrapper_built_by_build_model():
    text = key_difference(["w", "b"], ["inner.w", "inner.b"])
    assert "most missing keys start with 'inner.'" in text
    with pytest.raises(KeyMismatch):
        match_keys(["w", "b"], ["inner.w", "inner.b"])


def test_difference_says_what_is_left_after_the_likely_prefix():
    state = {f"backbone.{k}": v for k, v in net().state_dict().items() if k != "fc.bias"}
    with pytest.raises(ValueError, match=r"start with 'backbone\.'.*without it, still missing: "
                                         r"'fc\.bias'"):
        load_member(state, Net, False)
