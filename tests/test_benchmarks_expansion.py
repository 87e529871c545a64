"""`python -m benchmarks expansion`: the model-expansion experiment, at its smoke size."""

import dataclasses
import json
import math

import pytest
import torch

from benchmarks import BENCHMARKS, expansion

CANDIDATE_KEYS = {"name", "predictors", "manifold", "seconds", "accuracy_before", "accuracy_after", "gains",
                  "gain", "gain_std", "finetune_seconds"}
CORRELATION_KEYS = {"spearman", "spearman_p", "kendall", "kendall_p", "top_candidate",
                    "top_is_best", "regret"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """The smoke run's JSON, the splits it used, and the data every proxy and every
    fine-tune for the gain was trained and scored on (recorded by spies)."""
    path = tmp_path_factory.mktemp("expansion") / "out" / "expansion.json"
    splits, proxy_calls, gain_calls = [], [], []

    def split_data(settings):
        splits.append(real_split_data(settings))
        return splits[-1]

    def short_finetune_accuracy(candidate, train, validation, settings):
        proxy_calls.append((train, validation))
        return real_proxy(candidate, train, validation, settings)

    def fine_tune_gain(model, train, test, settings):
        gain_calls.append((train, test))
        return real_gain(model, train, test, settings)

    real_split_data, real_proxy = expansion.split_data, expansion.short_finetune_accuracy
    real_gain = expansion.fine_tune_gain
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expansion, "split_data", split_data)
        patch.setattr(expansion, "short_finetune_accuracy", short_finetune_accuracy)
        patch.setattr(expansion, "fine_tune_gain", fine_tune_gain)
        assert expansion.main(["--smoke", "--json", str(path), "--no-plot", "--quiet"]) == 0
    return {"json": json.loads(path.read_text()), "splits": splits, "proxy_calls": proxy_calls,
            "gain_calls": gain_calls}


@pytest.fixture(scope="module")
def smoke_json(smoke_run):
    return smoke_run["json"]


def test_registered_with_a_one_line_summary():
    assert BENCHMARKS["expansion"] == "benchmarks.expansion"
    assert expansion.__doc__.strip().splitlines()[0].endswith("?")


def test_json_has_every_family_candidate_and_predictor(smoke_json):
    assert set(smoke_json) == {"settings", "data_sizes", "predictors", "families", "pooled",
                               "seconds", "seconds_including_imports", "machine"}
    assert smoke_json["data_sizes"] == {"train": 200, "validation": 270, "test": 450}
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


def _rows(dataset):
    inputs, labels = dataset.tensors
    return {(int(label), image.numpy().tobytes()) for image, label in zip(inputs, labels)}


def test_split_holds_out_a_stratified_validation_fifth_of_the_training_images():
    from md_sklearn.collections import load_digits_data

    full_train, full_test = load_digits_data(random_state=0)
    train, validation, test = expansion.split_data(expansion.FULL)
    assert (len(train), len(validation), len(test)) == (1077, 270, 450)  # 270 = ceil(0.2 * 1347)
    assert torch.equal(test.tensors[0], full_test.tensors[0])
    assert torch.equal(test.tensors[1], full_test.tensors[1])
    # disjoint, and together exactly the training split (the images are distinct as rows)
    assert len(_rows(full_train)) == len(full_train)
    assert _rows(train) | _rows(validation) == _rows(full_train)
    assert not _rows(train) & _rows(validation)
    # stratified: every class's share within one image of its share of the training split
    expected = torch.bincount(full_train.tensors[1], minlength=10) * 0.2
    counts = torch.bincount(validation.tensors[1], minlength=10)
    assert torch.all((counts - expected).abs() <= 1)
    # deterministic for a random_state, different for another
    again = expansion.split_data(expansion.FULL)
    assert all(torch.equal(a, b) for a, b in zip(validation.tensors, again[1].tensors))
    other = expansion.split_data(dataclasses.replace(expansion.FULL, random_state=1))
    assert _rows(other[1]) != _rows(validation)
    # train_size cuts the training part only
    small_train, small_validation, _ = expansion.split_data(expansion.SMOKE)
    assert torch.equal(small_train.tensors[0], train.tensors[0][:200])
    assert torch.equal(small_validation.tensors[0], validation.tensors[0])


def test_proxy_is_scored_on_validation_and_gain_on_test(smoke_run):
    (train, validation, test), = smoke_run["splits"]
    # two candidates per family, two families
    assert len(smoke_run["proxy_calls"]) == 4
    assert all(t is train and v is validation for t, v in smoke_run["proxy_calls"])
    # every candidate and each family's unexpanded reference
    assert len(smoke_run["gain_calls"]) == 6
    assert all(t is train and s is test for t, s in smoke_run["gain_calls"])


def test_short_finetune_accuracy_is_the_validation_accuracy_of_the_proxy():
    from md_sklearn.collections import train_classifier

    train, validation, _ = expansion.split_data(expansion.SMOKE)
    torch.manual_seed(0)
    model = expansion.mlp(4)
    value = expansion.short_finetune_accuracy(model, train, validation, expansion.SMOKE)
    proxy = train_classifier(model, train, epochs=1, batch_size=64, lr=0.01,
                             random_state=expansion.SMOKE.proxy_seed, device="cpu")
    x, y = validation.tensors
    with torch.no_grad():
        correct = (proxy.eval()(x).argmax(1) == y).double().mean().item()
    assert value == pytest.approx(100 * correct, abs=1e-9)


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
