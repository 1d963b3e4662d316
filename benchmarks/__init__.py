"""Measured performance: the references, the library and the grader against their peers.

    python -m benchmarks [--only NAME ...] [--reps N] [--quick] [--json PATH] [--threads N]
    python -m benchmarks --readme      rewrite the README's table from the JSON

One module per measurement (`losses`, `training`, `grading`, `notebooks`),
each with `run(quick, reps, threads) -> (rows, details)`. Every figure is a ratio
against a peer measured in the same run, the median of several repetitions.
These are measurements, not tests: nothing here fails on a slow machine.
"""
