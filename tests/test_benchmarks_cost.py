"""`python -m benchmarks cost` (docs/cost.rst): the composition of Table 3 against a hand
computation, the JSON it writes, a tiny quick run; and `device-check` on the CPU."""

import json

import pytest

from benchmarks import BENCHMARKS, cost, device_check

PIECES = {"training_per_sample": 2e-3, "trace_first_probe": 3.0, "trace_per_probe": 0.5,
          "curve_per_sample": 2.2e-3, "evaluation_per_sample": 1.5e-3}


def test_composition_by_hand():
    table = cost.compose(PIECES)
    training = 5 * 150 * 50_000 * 2e-3  # 75,000 s
    sharpness = 5 * (3.0 + 99 * 0.5)  # 262.5 s: set-up + first probe, then 99 more
    curve = 50 * 50_000 * 2.2e-3  # 5,500 s
    evaluation = 3 * 50_000 * 1.5e-3  # 225 s
    assert table["training_seconds"] == pytest.approx(training)
    assert table["sharpness_seconds"] == pytest.approx(sharpness)
    assert table["connectivity_seconds"] == pytest.approx(curve + evaluation)
    assert table["sharpness_percent"] == pytest.approx(100 * 262.5 / 75_000)  # 0.35 %
    assert table["connectivity_percent"] == pytest.approx(100 * 5725 / 75_000)  # 7.63 %
    assert table["sharpness_probes_seconds"] == pytest.approx(5 * 100 * 0.5)
    assert table["sharpness_setup_seconds"] == pytest.approx(5 * (3.0 - 0.5))
    assert table["connectivity_curve_training_seconds"] == pytest.approx(curve)
    assert table["connectivity_evaluation_seconds"] == pytest.approx(evaluation)
    assert table["probe_vs_training_on_same_samples"] == pytest.approx(0.5 / (200 * 2e-3))
    assert table["curve_vs_training_epoch"] == pytest.approx(1.1)
    assert table["evaluation_vs_training_epoch"] == pytest.approx(0.75)
    # 0.244 % of 75,000 s = 183 s = 5 x 36.6 s per model = 3 s + 67.2 further probes
    assert table["probes_per_model_at_paper_percent"] == pytest.approx(1 + (36.6 - 3.0) / 0.5)


def test_paper_numbers_are_consistent():
    paper, protocol = cost.PAPER, cost.PROTOCOL
    epochs = protocol["seeds"] * protocol["training_epochs"]
    assert paper["training_seconds"] == pytest.approx(epochs * paper["seconds_per_training_epoch"],
                                                      rel=1e-3)
    assert 100 * paper["sharpness_seconds"] / paper["training_seconds"] == pytest.approx(
        paper["sharpness_percent"], abs=5e-4)
    # the paper truncates: 1,232.76 / 17,492.25 = 7.047 %, printed 7.04 %
    assert 100 * paper["connectivity_seconds"] / paper["training_seconds"] == pytest.approx(
        paper["connectivity_percent"], abs=0.01)


def test_featurizer_prediction_by_hand():
    predicted = cost.predict_featurizer(PIECES, members=2, probes=4, curve_epochs=1, samples=512)
    assert predicted == pytest.approx(2 * (3.0 + 3 * 0.5) + 512 * (2.2e-3 + 3 * 1.5e-3))


def test_tiny_quick_run_writes_every_key(tmp_path, capsys):
    assert BENCHMARKS["cost"] == "benchmarks.cost"
    path = tmp_path / "cost.json"
    argv = ["--quick", "--device", "cpu", "--width", "1", "--samples", "200", "--repeats", "1",
            "--probes", "1", "--json", str(path)]
    assert cost.main(argv) == 0
    printed = capsys.readouterr().out
    for label in ("training", "sharpness", "connectivity", "0.244 %", "7.040 %", "check:"):
        assert label in printed
    payload = json.loads(path.read_text())
    assert {"machine", "device", "quick", "width", "parameters", "samples", "repeats", "protocol",
            "paper", "pieces", "runs_seconds", "table", "targets_met", "featurizer_check",
            "load_average_start", "load_average_end", "seconds_total"} <= set(payload)
    assert payload["width"] == 1 and payload["samples"] == 200 and payload["device"] == "cpu"
    assert set(payload["pieces"]) == set(PIECES)
    assert payload["table"] == pytest.approx(cost.compose(payload["pieces"]))
    check = payload["featurizer_check"]
    assert check["seconds_measured"] > 0 and check["seconds_predicted"] > 0
    assert check["relative_error"] == pytest.approx(
        (check["seconds_predicted"] - check["seconds_measured"]) / check["seconds_measured"])
    assert payload["targets_met"]["sharpness"] == (
        payload["table"]["sharpness_percent"] <= cost.PAPER["sharpness_percent"])


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        cost.main(["--samples", "100"])
    assert "expected --width >= 1, --samples >= 200" in capsys.readouterr().err


def test_device_check_runs_on_the_cpu(tmp_path):
    assert BENCHMARKS["device-check"] == "benchmarks.device_check"
    path = tmp_path / "device.json"
    assert device_check.main(["--small", "--device", "cpu", "--only", "cuda_tests",
                              "--json", str(path)]) == 0
    payload = json.loads(path.read_text())
    assert payload["ok"] is True and list(payload["steps"]) == ["cuda_tests"]
    step = payload["steps"]["cuda_tests"]
    assert step["returncode"] == 0  # pytest passed (here: the CUDA tests skipped cleanly)
    # the full plan names the paper's model and writes one JSON per benchmark step
    plan = dict(device_check.steps("cuda", small=False))
    assert plan["cost"][plan["cost"].index("--width") + 1] == "64"
    assert all("{json}" in command for name, command in plan.items() if name != "cuda_tests")


def test_device_check_small_plan_sizes_every_extractors_part():
    # --small runs in CI on two CPU cores: parts (d) and (e) (the trace's stopping rules and
    # Hutch++) must be sized down with the rest, or the step runs past its timeout
    plan = dict(device_check.steps("cpu", small=True))
    command = plan["extractors"]

    def value(flag):
        return command[command.index(flag) + 1]

    assert int(value("--target-max-probes")) <= 200
    assert value("--targets") == "0.05"
    assert int(value("--hutchpp-seeds")) <= 4 and int(value("--train-epochs")) <= 5
