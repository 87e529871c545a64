"""md-sklearn diagnose prints each group's confidence by default (docs/featurizer.rst)."""

import io

import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from md_sklearn._cli._main import main  # noqa: E402
from tests._landscape_groups import digits, saved_group  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("groups")
    out = []
    for name, epochs in (("short", 1), ("long", 4)):
        folder = root / name
        folder.mkdir()
        saved_group(folder, name, epochs)
        out.append(folder)
    x, y = digits()[0].tensors
    torch.save({"inputs": x, "labels": y}, root / "digits.pt")
    return out, root / "digits.pt"


def _diagnose(folders, data, *extra, capsys):
    status = main(["diagnose", *map(str, folders), "--model", "md_sklearn.models:small_cnn",
                   "--model-kwargs", '{"width": 2}', "--data", str(data), "--curve-epochs", "1",
                   "--hessian-probes", "8", "--no-progress", "--device", "cpu",
                   "--random-state", "0", *extra])
    assert status == 0
    return capsys.readouterr().out


def test_diagnose_prints_a_confidence_per_group(folders, capsys):
    groups, data = folders
    text = _diagnose(groups, data, capsys=capsys)
    for name in ("short", "long"):
        block = text.split(f"sample {name}:")[1]
        assert "confidence: " in block.split("sample ")[0]
    assert "hessian_t_se" in text and "SE)" in text
    assert "FRAGILE above 0.2" in text
    assert "note: mode_connectivity_peak_se is unknown for 2 group(s)" in text
    assert "treated as 0" in text


def test_diagnose_csv_and_without_confidence(folders, capsys):
    groups, data = folders
    table = pd.read_csv(io.StringIO(_diagnose(groups, data, "--format", "csv", capsys=capsys)),
                        index_col=0)
    assert {"flip_probability", "fragile", "refine"} <= set(table.columns)
    assert table["flip_probability"].between(0, 1).all()
    plain = _diagnose(groups, data, "--no-confidence", capsys=capsys)
    assert "confidence" not in plain and "_se" not in plain
