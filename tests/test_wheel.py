"""A wheel that works (issue 14): ``python -m build`` makes a wheel and an sdist; the wheel,
installed into a fresh virtual environment, imports, loads a pretrained tree (its package
data is there) and runs ``md-sklearn --help``, from a folder outside the clone.

The environment sees this interpreter's packages (``--system-site-packages``) so that
numpy, scikit-learn and torch are not downloaded; md-sklearn itself comes from the wheel
(the test checks where it was imported from). Needs ``build`` and ``wheel`` (the ``dev``
extra); about 20 s.
"""

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("build")
pytest.importorskip("wheel")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build requirements are those of this environment (no download)
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(REPO)], check=True, capture_output=True, text=True, timeout=600)
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    return wheels[0], sdists[0]


def test_wheel_holds_the_packages_and_their_data_not_the_benchmarks(dist):
    wheel, sdist = dist
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"md_sklearn", "extractors"} <= tops and "benchmarks" not in tops
    assert "md_sklearn/_data/pretrained_trees.json" in names
    assert not any(name.startswith("tests/") for name in names)
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert any(name.endswith("md_sklearn/_data/pretrained_trees.json") for name in members)


def test_wheel_installs_into_a_fresh_environment_and_works(dist, tmp_path):
    wheel, _ = dist
    env = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env)
    python = env / "bin" / "python"
    outside = tmp_path / "elsewhere"  # not the clone: nothing imports from its folder
    outside.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    "--no-warn-script-location", str(wheel)],
                   check=True, capture_output=True, text=True, cwd=outside, env=clean_env,
                   timeout=300)
    code = ("import sys, md_sklearn\n"
            "from md_sklearn import pretrained\n"
            "clf = pretrained('q1')\n"
            "print(md_sklearn.__file__)\n"
            "print(list(clf.feature_names_in_))\n"
            "print('torch' in sys.modules)\n")
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                            cwd=outside, env=clean_env, timeout=300, check=True)
    where, columns, torch_loaded = result.stdout.strip().splitlines()
    assert Path(where).resolve().is_relative_to(env.resolve()), where  # from the wheel
    assert columns == "['train_error', 'mode_connectivity_peak', 'hessian_t']"
    assert torch_loaded == "False"
    helped = subprocess.run([str(env / "bin" / "md-sklearn"), "--help"], capture_output=True,
                            text=True, cwd=outside, env=clean_env, timeout=300)
    assert helped.returncode == 0 and "diagnose" in helped.stdout
    # the suite is not in the wheel: outside a clone the command says where to run it
    # (unless this interpreter's editable install of an older layout still maps it)
    found = subprocess.run([str(python), "-c", "import importlib.util as u; "
                            "print(u.find_spec('benchmarks') is None)"], capture_output=True,
                           text=True, cwd=outside, env=clean_env, timeout=300, check=True)
    if found.stdout.strip() == "True":
        bench = subprocess.run([str(env / "bin" / "md-sklearn"), "benchmark", "paper"],
                               capture_output=True, text=True, cwd=outside, env=clean_env,
                               timeout=300)
        assert bench.returncode == 1 and "run it from a clone" in bench.stderr
