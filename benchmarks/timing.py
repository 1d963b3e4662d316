"""Timing: several repetitions of each contender, alternated, each measured with `time.perf_counter`."""
from __future__ import annotations

import time
from typing import Callable


def interleaved(runs: dict[str, Callable[[], object]], reps: int,
                setups: dict[str, Callable[[], object]] | None = None, warmup: bool = True) -> dict[str, list[float]]:
    """Seconds of each of `runs`, run `reps` times, alternating between them repetition by repetition.

    Alternating spreads a change of machine load (other jobs starting or
    stopping) over every contender instead of penalising whichever ran last.
    `setups[name]()`, if given, runs untimed before each repetition of `name`.
    With `warmup`, each runs once untimed first (caches, lazy imports, allocator).
    """
    setups = setups or {}
    if warmup:
        for name, run in runs.items():
            setups.get(name, lambda: None)()
            run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(reps, 1)):
        for name, run in runs.items():
            setups.get(name, lambda: None)()
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return seconds
