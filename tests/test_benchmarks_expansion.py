"""`python -m benchmarks expansion`: the model-expansion experiment, at its smoke size."""

import json
import math

import pytest

from benchmarks import BENCHMARKS, expansion

CANDIDATE_KEYS = {"name", "predictors", "manifold", "seconds", "accuracy_before", "accuracy_after", "gains",
                  "gain", "gain_std", "finetune_seconds"}
CORRELATION_KEYS = {"spearman", "spearman_p", "kendall", "kendall_p", "top_candidate",
                    "top_is_best", "regret"}


@pytest.fixture(scope="module")
def smoke_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("expansion") / "out" / "expansion.json"
    assert expansion.main(["--smoke", "--json", str(path), "--no-plot", "--quiet"]) == 0
    return json.loads(path.read_text())


def test_registered_with_a_one_line_summary():
    assert BENCHMARKS["expansion"] == "benchmarks.expansion"
    assert expansion.__doc__.strip().splitlines()[0].endswith("?")


def test_json_has_every_family_candidate_and_predictor(smoke_json):
    assert set(smoke_json) == {"settings", "predictors", "families", "pooled", "seconds",
                               "seconds_including_imports", "machine"}
    assert smoke_json["settings"]["finetune_seeds"] == [0, 1]
    assert set(smoke_json["predictors"]) == set(expansion.PREDICTORS)
    assert set(smoke_json["families"]) == {"cnn", "mlp"}
    for family in smoke_json["families"].values():
        assert set(family) == {"base", "candidates", "correlations"}
        assert [c["name"] for c in family["candidates"]] == ["wider_x2", "deeper_+1"]
        for candidate in family["candidates"]:
            assert set(candidate) == CANDIDATE_KEYS
            assert set(candidate["predictors"]) == set(expansion.PREDICTORS)
            assert len(candidate["gains"]) == 2 == len(candidate["accuracy_after"])
            assert candidate["gain"] == pytest.approx(sum(candidate["gains"]) / 2)
            assert 0 <= candidate["predictors"]["manifold_lmc"] <= 1
            assert set(candidate["manifold"]) == {"simplex", "radius", "lmc"}
            assert candidate["manifold"]["radius"]["dimension"] == 2
        assert family["candidates"][0]["predictors"]["parameter_count"] > family["base"]["parameters"]
        assert set(family["correlations"]) == set(expansion.PREDICTORS)
        for corr in family["correlations"].values():
            assert set(corr) == CORRELATION_KEYS
            assert corr["spearman"] is None  # two candidates: too few to rank
    pooled = smoke_json["pooled"]["correlations"]
    assert all(set(c) == CORRELATION_KEYS for c in pooled.values())
    assert pooled["parameter_count"]["top_candidate"] == "cnn/wider_x2"


def test_correlations_orient_predictors_and_flag_the_best():
    candidates = [{"name": f"c{i}", "gain": float(i),
                   "predictors": {name: float(i) for name in expansion.PREDICTORS}}
                  for i in range(5)]
    for c in candidates:
        c["predictors"]["manifold_lmc"] = 1.0  # constant: ranks nothing
        c["predictors"]["manifold_simplex"] = -math.inf if c["name"] == "c0" else 1.0 * c["gain"]
    out = expansion.correlations(candidates)
    assert out["parameter_count"]["spearman"] == pytest.approx(1.0)
    assert out["parameter_count"]["kendall"] == pytest.approx(1.0)
    assert out["parameter_count"]["spearman_p"] < 0.05
    assert out["parameter_count"]["top_is_best"] and out["parameter_count"]["regret"] == 0.0
    assert out["hessian_trace"]["spearman"] == pytest.approx(-1.0)  # lower predicts more gain
    assert out["hessian_trace"]["top_candidate"] == "c0"
    assert out["hessian_trace"]["regret"] == pytest.approx(4.0)
    assert out["manifold_lmc"]["spearman"] is None and out["manifold_lmc"]["kendall"] is None
    assert out["manifold_simplex"]["spearman"] == pytest.approx(1.0)  # -inf ranks lowest


def test_table_and_plot(smoke_json, tmp_path):
    table = expansion.format_table(smoke_json)
    assert all(name in table for name in expansion.PREDICTORS)
    assert "pooled (n=4)" in table
    pytest.importorskip("matplotlib")
    path = expansion.plot(smoke_json, tmp_path / "expansion.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
