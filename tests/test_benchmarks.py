"""The benchmark command runs end to end at quick sizes and writes well-formed results.

Benchmarks are measurements, not tests: no time is asserted here, only that
every figure is a positive finite ratio and that the JSON says where it ran.
"""
import json
import math

from benchmarks.__main__ import main


def test_quick_losses_and_training_write_positive_finite_ratios(tmp_path, capsys):
    path = tmp_path / "results.json"
    assert main(["--quick", "--only", "losses", "training", "--reps", "1", "--json", str(path)]) == 0
    results = json.loads(path.read_text())

    assert results["quick"] is True and set(results["parts"]) == {"losses", "training"}
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["numpy"] and len(machine["load_average"]) == 3
    for name, part in results["parts"].items():
        assert len(part["load_average"]["start"]) == len(part["load_average"]["end"]) == 3
        assert part["rows"], f"{name} measured nothing"
        for row in part["rows"]:
            assert row["part"] == name and row["reps"] >= 1 and row["goal"]
            if row["note"].startswith("skipped"):  # torch not installed
                continue
            assert math.isfinite(row["ratio"]) and row["ratio"] > 0, row
            assert all(s > 0 for s in row["seconds"] + row["peer_seconds"]), row
    assert len(results["parts"]["losses"]["rows"]) == 4
    out = capsys.readouterr().out
    assert "| part | measurement |" in out and "naive loops" in out
