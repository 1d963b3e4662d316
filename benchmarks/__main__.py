"""`python -m benchmarks`: run the measurements, print the table, write the JSON (see `benchmarks`)."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from benchmarks import grading, losses, machine, notebooks, report, training

PARTS = {"losses": losses.run, "training": training.run, "grading": grading.run, "notebooks": notebooks.run}
RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"


def _finite(value):
    """NaN and infinities as null: the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def run_part(name: str, quick: bool, reps: int | None, threads: int) -> dict:
    """One part's rows and details, with the load average before and after it."""
    load_start, started = machine.load_average(), machine.now()
    rows, details = PARTS[name](quick, reps, threads)
    return {"measured_at": started, "finished_at": machine.now(),
            "load_average": {"start": load_start, "end": machine.load_average()},
            "rows": [row.as_dict() for row in rows], "details": details}


def run(names: list[str], quick: bool, reps: int | None, threads: int, previous: dict | None = None) -> dict:
    """Runs the parts `names`; parts of `previous` not run again are kept."""
    results = {"machine": machine.machine_info(), "quick": quick, "threads": threads,
               "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
               "parts": dict(previous["parts"]) if previous else {}}
    for name in names:
        print(f"measuring {name} ...", flush=True)
        results["parts"][name] = run_part(name, quick, reps, threads)
        print(report.text_table(results["parts"][name]["rows"]) + "\n", flush=True)
    results["parts"] = {name: results["parts"][name] for name in PARTS if name in results["parts"]}
    results["machine"]["load_average_end"] = machine.load_average()
    return _finite(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=list(PARTS), metavar="NAME",
                        help=f"parts to run (default: all of {', '.join(PARTS)}); the JSON keeps the others")
    parser.add_argument("--reps", type=int, help="repetitions of every measurement (default: per part)")
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute in all (a smoke test)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads of NumPy's BLAS and PyTorch (default: all cores; our grading kernels use 1 each)")
    parser.add_argument("--json", type=Path, help="where to write the results (default: "
                        "benchmarks/results/latest.json, or quick.json with --quick)")
    parser.add_argument("--readme", action="store_true",
                        help="only rewrite the README's benchmark section from the JSON")
    args = parser.parse_args(argv)
    path = args.json or RESULTS / ("quick.json" if args.quick else "latest.json")
    if args.readme:
        report.update_readme(README, json.loads(path.read_text()))
        print(f"rewrote the benchmark section of {README} from {path}")
        return 0
    previous = json.loads(path.read_text()) if args.only and path.exists() else None
    if previous and previous.get("quick") != args.quick:
        previous = None  # never mix quick sizes with full ones
    results = run(args.only or list(PARTS), args.quick, args.reps, args.threads, previous)
    rows = [row for part in results["parts"].values() for row in part["rows"]]
    print(report.text_table(rows))
    print("\n" + report.markdown_table(rows))
    print(f"\n{report.machine_line(results['machine'])}; load average {results['machine']['load_average']} "
          f"at the start, {results['machine']['load_average_end']} at the end")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
