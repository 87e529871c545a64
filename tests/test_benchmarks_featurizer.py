"""`python -m benchmarks featurizer --quick`: the smoke run completes and reports every figure."""

import json
import math

from benchmarks import BENCHMARKS, featurizer


def test_quick_run_reports_every_figure(tmp_path, capsys):
    assert BENCHMARKS["featurizer"] == "benchmarks.featurizer"
    path = tmp_path / "featurizer.json"
    assert featurizer.main(["--quick", "--json", str(path)]) == 0
    printed = capsys.readouterr().out
    for label in ("(a) serial", "(b) n_jobs=2", "(c) rerun from the warm cache", "(d) 6 groups"):
        assert label in printed
    payload = json.loads(path.read_text())
    speed, memory = payload["speed"], payload["memory"]
    assert payload["quick"] is True and speed["groups"] == 2
    for key in ("seconds_serial", "seconds_n_jobs_2_cold", "seconds_n_jobs_2_warm",
                "seconds_warm_cache_rerun"):
        assert speed[key] > 0
    assert speed["speedup_warm"] == speed["seconds_serial"] / speed["seconds_n_jobs_2_warm"]
    assert speed["cache_rerun_identical"] is True
    assert math.isfinite(speed["max_difference_parallel_vs_serial"])
    assert len(speed["table"]) == 2 and {"train_error", "CKA"} <= set(speed["table"][0])
    assert memory["groups"] == 6 and memory["workers"] == 2
    assert memory["checkpoint_bytes_all"] == 6 * memory["checkpoint_bytes_one_group"]
    assert memory["serial_peak_rss"] >= memory["serial_idle_rss"] > 0
