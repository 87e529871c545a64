"""Install and CLI (issue 14, point 6): a missing optional package is one line naming the
extra, a skipped figure says why, --model imports from the current folder, --debug works
after the sub-command, the pickle message names --allow-pickle, the CLI sets the Hessian
probes and the curve budget, demo --help prints "10 %", and no result's repr holds a
whole model."""

import subprocess
import sys
import textwrap

import pytest
import torch

from md_sklearn._cli import _diagnose
from md_sklearn._cli._demo import _draw
from md_sklearn._cli._main import build_parser, main
from md_sklearn._utils import _extras
from tests._without_package import import_message_without

TORCH_EXTRA = 'pip install "md-sklearn[torch]"'
PLOT_EXTRA = 'pip install "md-sklearn[plot]"'


def run_without(package, code):
    """Run ``code`` in a fresh interpreter where ``package`` cannot be imported."""
    script = textwrap.dedent(f"""
        import sys
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name == {package!r} or name.startswith({package + '.'!r}):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        sys.meta_path.insert(0, Refuse())
    """) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)


# --- missing optional packages: one line naming the extra ---------------------------------------
@pytest.mark.parametrize("module", ["md_sklearn.models", "md_sklearn.collections"])
def test_missing_torch_names_the_torch_extra(module):
    message = import_message_without("torch", module)
    assert message.count("\n") == 1
    assert f"{module} needs torch, which is not installed" in message and TORCH_EXTRA in message


def test_missing_matplotlib_names_the_plot_extra():
    message = import_message_without("matplotlib", "md_sklearn.plotting")
    assert "md_sklearn.plotting needs matplotlib" in message and PLOT_EXTRA in message


def test_missing_tqdm_only_hides_the_progress_bars():
    assert import_message_without("tqdm", "md_sklearn.collections").strip() == \
        "imported without tqdm"
    result = run_without("tqdm", """
        from md_sklearn._utils._extras import progress_bar
        bar = progress_bar(range(3), wanted=True)
        bar.set_postfix(loss=1.0)
        print(list(bar))
    """)
    assert result.stdout.strip() == "[0, 1, 2]", result.stderr


def test_missing_safetensors_names_the_torch_extra(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "m.safetensors"
    save_file(torch.nn.Linear(2, 2).state_dict(), str(path))
    result = run_without("safetensors", f"""
        import torch
        from md_sklearn._featurizer._checkpoints import read_state_dict
        try:
            read_state_dict({str(path)!r})
        except ImportError as error:
            print(error)
    """)
    assert "needs safetensors, which is not installed" in result.stdout
    assert TORCH_EXTRA in result.stdout


def test_demo_without_torch_is_one_line_naming_the_extra(tmp_path):
    result = run_without("torch", f"""
        from md_sklearn._cli._main import main
        sys.exit(main(["demo", "--output", {str(tmp_path / "demo")!r}, "--no-progress"]))
    """)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "md-sklearn demo needs torch" in result.stderr and TORCH_EXTRA in result.stderr


def test_model_group_without_torch_names_the_extra():
    result = run_without("torch", """
        from md_sklearn import ModelGroup
        try:
            ModelGroup(["a.pt"], [1, 2], build_model=print)
        except ImportError as error:
            print(error)
    """)
    assert "ModelGroup needs torch" in result.stdout and TORCH_EXTRA in result.stdout


def test_a_skipped_figure_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(_extras, "available", lambda package: package != "matplotlib")
    figures, why = _draw({}, {}, tmp_path)
    assert figures == {}
    assert "drawing the figures needs matplotlib" in why and PLOT_EXTRA in why


# --- the command line ----------------------------------------------------------------------------
def test_model_is_imported_from_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "issue14_mymodels.py").write_text(
        "import torch\n\ndef make_net(width=2):\n    return torch.nn.Linear(4, width)\n")
    monkeypatch.chdir(tmp_path)
    # as under the md-sklearn script: its own folder, not the current one, is on the path
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "issue14_mymodels", raising=False)
    factory = _diagnose.import_factory("issue14_mymodels:make_net")
    assert isinstance(factory(3), torch.nn.Linear)


def test_a_module_that_is_nowhere_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"no issue14_absent\.py in the current folder"):
        _diagnose.import_factory("issue14_absent:make_net")


def test_debug_is_accepted_after_the_sub_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        main(["diagnose", str(tmp_path / "missing"), "--model", "md_sklearn.models:small_cnn",
              "--debug"])
    args = build_parser().parse_args(["demo", "--debug"])
    assert args.debug is True
    assert build_parser().parse_args(["--debug", "demo"]).debug is True
    assert build_parser().parse_args(["demo"]).debug is False


def test_the_pickle_message_names_allow_pickle(tmp_path, capsys):
    folder = tmp_path / "whole"
    folder.mkdir()
    torch.save(torch.nn.Linear(4, 3), folder / "seed0.pt")  # a whole module: needs pickle
    torch.save({"inputs": torch.zeros(4, 4), "labels": torch.zeros(4, dtype=torch.long)},
               tmp_path / "data.pt")
    status = main(["featurize", str(folder), "--model", "torch.nn:Linear", "--model-kwargs",
                   '{"in_features": 4, "out_features": 3}', "--data", str(tmp_path / "data.pt"),
                   "--metrics", "train_error", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1 and "--allow-pickle" in err


def test_the_cli_sets_hessian_probes_and_curve_steps():
    args = build_parser().parse_args(["featurize", "g", "--model", "m:f", "--hessian-probes",
                                      "7", "--curve-steps", "300", "--hessian-batches", "3"])
    featurizer = _diagnose.featurizer_for(args, ["hessian_t"])
    assert featurizer.hessian_max_probes == 7 and featurizer.curve_steps == 300
    assert featurizer.hessian_n_batches == 3
    default = _diagnose.featurizer_for(build_parser().parse_args(
        ["diagnose", "g", "--model", "m:f"]), ["hessian_t"])
    assert default.hessian_max_probes == 100 and default.curve_steps is None
    assert default.hessian_n_batches == 1


def test_demo_help_prints_ten_percent():
    result = subprocess.run([sys.executable, "-m", "md_sklearn", "demo", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "10 % label-noise" in text and "%%" not in result.stdout


# --- results stay printable --------------------------------------------------------------------
def test_a_result_repr_never_holds_the_weights():
    import extractors

    big = {"weight": torch.randn(512, 512), "bias": torch.randn(512)}
    result = extractors.ModeConnectivityResult(
        value=-3.0, points=(0.25, 0.5), errors=(2.0, 3.0), losses=(0.1, 0.2), middle=big,
        epochs=2, init="random")
    assert len(repr(result)) < 300 and "tensor" not in repr(result)
    assert result.middle is big
