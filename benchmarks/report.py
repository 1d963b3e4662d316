"""Rows of the benchmark table, the table as aligned text and as markdown, and the README section."""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

README_START, README_END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


@dataclass
class Row:
    """One measurement against its peer.

    For times (unit "s") `value` and `peer_value` are median seconds and
    `ratio` is the speed-up `peer_value / value` (above 1: ours is faster).
    For accuracies (unit "accuracy") `ratio` is `value / peer_value`.
    `met` is None when the goal is not judged on this run (quick sizes, sample data).
    """

    part: str
    name: str
    value: float
    peer: str
    peer_value: float
    goal: str
    met: bool | None
    unit: str = "s"
    reps: int = 1
    seconds: list[float] = field(default_factory=list)       # every repetition of ours
    peer_seconds: list[float] = field(default_factory=list)  # every repetition of the peer
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.unit == "accuracy":
            return self.value / self.peer_value if self.peer_value else math.nan
        return self.peer_value / self.value if self.value else math.nan

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def speed_row(part: str, name: str, ours: list[float], peer: str, theirs: list[float], goal_ratio: float | None,
              goal: str, judged: bool = True, note: str = "") -> Row:
    """A time row from the seconds of every repetition; met when the speed-up reaches `goal_ratio`."""
    row = Row(part, name, statistics.median(ours), peer, statistics.median(theirs), goal, None,
              reps=len(ours), seconds=list(ours), peer_seconds=list(theirs), note=note)
    if judged and goal_ratio is not None:
        row.met = bool(row.ratio >= goal_ratio)
    return row


def format_value(value: float, unit: str) -> str:
    """Seconds in a readable unit (µs, ms, s, min), or an accuracy in percent; "-" when there is none."""
    if value is None or not math.isfinite(value):  # the JSON stores NaN as null
        return "-"
    if unit == "accuracy":
        return f"{100 * value:.1f}%"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    if value < 120:
        return f"{value:.2f} s"
    return f"{value / 60:.1f} min"


def format_ratio(row: dict) -> str:
    ratio = row["ratio"]
    if ratio is None or not math.isfinite(ratio):
        return "-"
    if row["unit"] == "accuracy":
        return f"{100 * (row['value'] - row['peer_value']):+.1f} pt"
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.2f}x"


def _met(row: dict) -> str:
    return {True: "yes", False: "NO", None: "-"}[row["met"]]


HEADER = ("part", "measurement", "ours", "peer", "peer's", "ratio", "goal", "met")


def _cells(row: dict) -> tuple[str, ...]:
    name = row["name"] + (f" ({row['note']})" if row.get("note") else "")
    return (row["part"], name, format_value(row["value"], row["unit"]), row["peer"],
            format_value(row["peer_value"], row["unit"]), format_ratio(row), row["goal"], _met(row))


def text_table(rows: list[dict]) -> str:
    """The rows as aligned plain text."""
    lines = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(rows: list[dict]) -> str:
    """The rows as a markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def machine_line(machine: dict) -> str:
    """The machine and the libraries measured, in one line."""
    blas = machine.get("blas", {})
    return (f"{machine.get('cpu', 'unknown CPU')}, {machine.get('cores', '?')} cores, "
            f"{machine.get('memory_gib', '?')} GiB; Python {machine.get('python', '?')}, "
            f"NumPy {machine.get('numpy', '?')} ({blas.get('name', 'BLAS')} {blas.get('version', '')}), "
            f"PyTorch {machine.get('torch') or 'not installed'}")


def _loads(results: dict) -> str:
    """'part start → end' of the 1-minute load average, for every part."""
    loads = []
    for name, part in results["parts"].items():
        start, end = part["load_average"]["start"][0], part["load_average"]["end"][0]
        loads.append(f"{name} {start:.2f} → {end:.2f}")
    return ", ".join(loads)


def readme_section(results: dict) -> str:
    """The README's benchmark section: the table, the machine and the load it ran under."""
    rows = [r for part in results["parts"].values() for r in part["rows"]]
    dates = sorted({part["measured_at"][:10] for part in results["parts"].values()})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
    return "\n".join([
        README_START,
        f"Measured {when} with `{results['command']}` on {machine_line(results['machine'])}, "
        f"{results['threads']} BLAS and PyTorch threads. Load average (1 minute) at the start → end of each "
        f"part: {_loads(results)}. Each figure is the median of the repetitions; the ratio is the peer's time "
        "over ours (above 1: ours is faster; for notebooks the peer is the time budget), for accuracies the "
        "difference in points.",
        "",
        markdown_table(rows),
        README_END,
    ])


def update_readme(readme: Path, results: dict) -> None:
    """Rewrites the part of `readme` between the benchmark markers."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} section to rewrite.")
    readme.write_text(pattern.sub(lambda _: readme_section(results), text, count=1))
