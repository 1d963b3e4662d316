"""Grade table, grades CSV and class summary from a list of grading results."""
from __future__ import annotations

import csv
import statistics
from collections import Counter
from pathlib import Path

from autograder.grading import Result


def grade_table(results: list[Result]) -> str:
    """A plain-text table: one row per submission, scores and where the feedback is."""
    header = f"{'student':<24} {'assignment':<16} {'score':>7} {'max':>6} {'manual':>7}  notes"
    rows = [header, "-" * len(header)]
    for r in sorted(results, key=lambda r: (r.assignment, r.student)):
        note = r.problem or "; ".join(r.notes) or (str(r.feedback) if r.feedback else "")
        rows.append(f"{r.student:<24} {r.assignment:<16} {r.score:>7.2f} {r.max_score:>6g} "
                    f"{r.manual_pending:>7g}  {note}")
    return "\n".join(rows)


def write_csv(results: list[Result], path: Path) -> Path:
    """One row per submission: student, assignment, score, max_score, manual_pending, problem."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "manual_pending", "problem"])
        for r in sorted(results, key=lambda r: (r.assignment, r.student)):
            writer.writerow([r.student, r.assignment, f"{r.score:.2f}", f"{r.max_score:g}",
                             f"{r.manual_pending:g}", r.problem or ""])
    return path


def score_histograms(results: list[Result], path: Path) -> Path:
    """One histogram of scores per assignment, side by side, saved as PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assignments = sorted({r.assignment for r in results})
    fig, axes = plt.subplots(1, len(assignments), figsize=(4 * len(assignments), 3), squeeze=False)
    for ax, assignment in zip(axes[0], assignments):
        group = [r for r in results if r.assignment == assignment]
        top = max(r.max_score for r in group) or 1
        ax.hist([r.score for r in group], bins=10, range=(0, top), color="C0", edgecolor="white")
        ax.set_title(assignment)
        ax.set_xlabel(f"score (of {top:g})")
        ax.set_ylabel("submissions")
    fig.suptitle("Score distribution")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_summary(results: list[Result], folder: Path) -> Path:
    """Writes summary.md and scores.png into `folder`; returns the markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    if results:
        score_histograms(results, folder / "scores.png")
    path = folder / "summary.md"
    path.write_text(class_summary(results))
    return path


def class_summary(results: list[Result]) -> str:
    """Markdown: score statistics, per-question pass rates and the most frequent diagnosed mistakes."""
    lines = ["# Class summary", "", "![Score distribution](scores.png)", ""]
    for assignment in sorted({r.assignment for r in results}):
        group = [r for r in results if r.assignment == assignment]
        scores = [r.score for r in group]
        pending = sum(r.manual_pending for r in group)
        written = f"{pending:g} points of written answers not yet graded" if pending else "written answers graded"
        lines += [f"## {assignment}", "",
                  f"{len(group)} submissions; score mean {statistics.mean(scores):.2f}, "
                  f"median {statistics.median(scores):.2f}, min {min(scores):.2f}, max {max(scores):.2f} "
                  f"(out of {max(r.max_score for r in group):g}; {written}).", "",
                  "| question | mean score | full marks (pass rate) |", "|---|---|---|"]
        per_check: dict[str, list[dict]] = {}
        for r in group:
            for c in r.checks:
                per_check.setdefault(c["check"], []).append(c)
        for check, cs in per_check.items():
            full = sum(c["score"] >= c["points"] for c in cs)
            lines.append(f"| {check} | {statistics.mean(c['score'] for c in cs):.2f} / {cs[0]['points']:g} "
                         f"| {full}/{len(cs)} ({100 * full / len(cs):.0f}%) |")
        mistakes = Counter(f"{c['check']}: {d}" for r in group for c in r.checks for d in c["diagnoses"])
        lines += ["", "Most frequent diagnosed mistakes:", ""]
        lines += [f"- {n} x {m}" for m, n in mistakes.most_common(10)] or ["- none"]
        problems = [f"- {r.student}: {r.problem or '; '.join(r.notes)}" for r in group if r.problem or r.notes]
        if problems:
            lines += ["", "Submissions that could not be graded fully:", "", *problems]
        lines.append("")
    return "\n".join(lines)
