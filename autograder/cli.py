"""`optimlab-grade`: release assignments, grade submissions, run the demo.

    optimlab-grade release [ASSIGNMENT ...]     rebuild assignments/, sample submissions, adversarial corpus
    optimlab-grade grade SOURCE [--assignment A] [--course-dir DIR] [--workers N | --scheduler ADDRESS]
                                                grade a folder of submissions, or one notebook
    optimlab-grade report [--course-dir DIR]    grade table, CSV and summary from the gradebook,
                                                with the written answers graded since
    optimlab-grade demo                         release, then grade the bundled sample class
    optimlab-grade handout [ASSIGNMENT ...] --out DIR
                                                write the student edition into DIR and DIR.zip
    optimlab-grade gradescope ASSIGNMENT --out FILE.zip [--visibility V]
                                                write the Gradescope autograder of one assignment

Grading options: --workers, --scheduler, --cell-timeout, --notebook-timeout, --memory-gib, --disk-mib.

Every user error ends in one sentence on stderr and exit status 1.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from autograder import course
from autograder.adversarial import ASSIGNMENT as ADVERSARIAL_BASE
from autograder.adversarial import build_corpus
from autograder.collect import SubmissionError, find_submissions
from autograder.gradescope import DEFAULT_VISIBILITY, VISIBILITIES, GradescopeError, build_autograder
from autograder.handout import HandoutError, build_handout
from autograder.grading import GradingError, grade_all, gradebook_results, release, reset_course
from autograder.report import grade_table, write_csv, write_summary
from autograder.samples import write_samples


def cmd_release(args) -> int:
    assignments = args.assignments or course.assignment_ids()
    for assignment in assignments:
        course.master_notebook(assignment)  # a clear error for an unknown name
    release(assignments, course.REPO_ROOT)
    for assignment in assignments:
        samples = write_samples(assignment)
        print(f"released {assignment} -> {course.ASSIGNMENTS / assignment} "
              f"({len(samples)} sample submissions in {course.SAMPLES / assignment})")
    if ADVERSARIAL_BASE in assignments:
        corpus = build_corpus()
        print(f"rebuilt the adversarial corpus ({len(corpus)} files in {course.ADVERSARIAL})")
    return 0


def _grade_and_report(source: Path, assignment: str | None, course_dir: Path, args) -> int:
    start = time.perf_counter()
    subs = find_submissions(source, assignment)
    if not subs:
        raise SubmissionError(f"No submissions (.ipynb or .zip) were found in {source}.")
    unknown = [s for s in subs if not s.assignment]
    limits = course.Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                           memory_limit=int(args.memory_gib * 2**30), disk_limit=args.disk_mib * 2**20)
    # A class's feedback never shows the model answers; a self-learner's own notebook does.
    model_answers = getattr(args, "model_answers", None)
    if model_answers is None:
        model_answers = source.is_file() and source.suffix == ".ipynb"
    results = grade_all(subs, course_dir, workers=args.workers, limits=limits, scheduler=args.scheduler,
                        model_answers=model_answers)
    elapsed = time.perf_counter() - start
    print(grade_table(results))
    for s in unknown:
        print(f"not graded: {s.path}: {s.problem}")
    where = f"on the Dask cluster at {args.scheduler}" if args.scheduler else f"with {args.workers} worker(s)"
    print(f"\n{len(results)} submissions graded in {elapsed:.1f} s {where} "
          f"({elapsed / max(len(results), 1):.1f} s per notebook).")
    # The CSV and the summary cover the whole class, not just this batch.
    _write_class_reports(gradebook_results(course_dir), course_dir)
    return 0


def _write_class_reports(results: list, course_dir: Path) -> None:
    """class_grades.csv and the class summary from every submission in the gradebook."""
    csv_path = write_csv(results, course_dir / "class_grades.csv")
    summary = write_summary(results, course_dir / "summary")
    print(f"grades CSV:      {csv_path} ({len(results)} submissions in the gradebook)")
    print(f"class summary:   {summary}")
    print(f"feedback (HTML): {course_dir / 'feedback'}/<student>/<assignment>/")
    print(f"gradebook:       {course_dir / 'gradebook.db'} (open it with `nbgrader formgrader` "
          f"from {course_dir} for the written answers, then `optimlab-grade report`)")


def cmd_grade(args) -> int:
    return _grade_and_report(Path(args.source), args.assignment, Path(args.course_dir).resolve(), args)


def cmd_report(args) -> int:
    course_dir = Path(args.course_dir).resolve()
    results = gradebook_results(course_dir)
    print(grade_table(results))
    pending = sum(r.manual_pending for r in results)
    print(f"\n{len(results)} submissions in the gradebook; {pending:g} points of written answers "
          "still to grade." if pending else f"\n{len(results)} submissions in the gradebook, all graded.")
    _write_class_reports(results, course_dir)
    return 0


def cmd_demo(args) -> int:
    print("Step 1/2: releasing the student versions from solutions/ ...")
    cmd_release(argparse.Namespace(assignments=None))
    course_dir = Path(args.course_dir).resolve()
    reset_course(course_dir)
    print(f"\nStep 2/2: grading the sample class in {course.SAMPLES} ...\n")
    return _grade_and_report(course.SAMPLES, None, course_dir, args)


def cmd_handout(args) -> int:
    start = time.perf_counter()
    assignments = args.assignments or course.assignment_ids()
    handout = build_handout(assignments, Path(args.out))
    print(f"student edition of {', '.join(sorted(set(assignments)))}: {handout.folder} "
          f"({handout.files} files, {handout.folder_bytes / 1e6:.1f} MB)")
    print(f"the same as a zip: {handout.zip_path} ({handout.zip_bytes / 1e6:.1f} MB), "
          f"built in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_gradescope(args) -> int:
    built = build_autograder(args.assignment, Path(args.out), args.visibility)
    print(f"Gradescope autograder of {args.assignment}: {built.zip_path} ({built.files} files, "
          f"{built.zip_bytes / 1e6:.1f} MB)")
    print(f"On Gradescope: a programming assignment whose autograder question has {built.autograded_points:g} "
          f"points (the hidden tests; feedback visible: {args.visibility})")
    if built.written:
        print("and one manually graded question per written answer: "
              + ", ".join(f"{label} ({points:g} points)" for label, points in built.written) + ".")
    print("Upload the zip under Configure Autograder (base image: Ubuntu 22.04); students submit "
          f"{course.notebook_name(args.assignment)}. See the README's \"Gradescope courses\".")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optimlab-grade", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="rebuild assignments/, the sample submissions and the adversarial corpus")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("grade", help="grade a folder of submissions, or a single notebook")
    p.add_argument("source", help="folder of submissions (any layout of autograder/collect.py) or one .ipynb")
    p.add_argument("--assignment", help="assignment id, when it cannot be recognised from the notebooks")
    p.add_argument("--course-dir", default=str(course.REPO_ROOT),
                   help="where the gradebook, autograded/ and feedback/ live (default: the repository root)")
    p.add_argument("--model-answers", action=argparse.BooleanOptionalAction, default=None,
                   help="show the model answer beside each written answer in the feedback (default: only "
                        "when SOURCE is one notebook, a self-learner grading their own work)")
    _grading_options(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("report", help="grade table, class_grades.csv and summary from the gradebook, "
                                      "manual grades included (no kernels)")
    p.add_argument("--course-dir", default=str(course.REPO_ROOT),
                   help="the grading folder with the gradebook (default: the repository root)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="release, then grade the bundled sample submissions")
    p.add_argument("--course-dir", default=str(course.REPO_ROOT / "demo"),
                   help="scratch course directory (default: demo/, recreated on every run)")
    _grading_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("handout", help="write the student edition (released notebooks, helper library, "
                                       "sample data, students' README) into a folder and a zip")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--out", required=True, help="folder to write; DIR.zip is written beside it")
    p.set_defaults(func=cmd_handout)

    p = sub.add_parser("gradescope", help="write the Gradescope autograder zip of one assignment")
    p.add_argument("assignment", help="assignment id, e.g. 01_losses")
    p.add_argument("--out", required=True, help="the zip to write, e.g. losses-autograder.zip")
    p.add_argument("--visibility", choices=VISIBILITIES, default=DEFAULT_VISIBILITY,
                   help="when students see the hidden tests' feedback on Gradescope "
                        f"(default {DEFAULT_VISIBILITY}: once you publish the grades)")
    p.set_defaults(func=cmd_gradescope)
    return parser


def _grading_options(parser: argparse.ArgumentParser) -> None:
    defaults = course.Limits()
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="notebooks graded at once, each in its own process (default: the number of cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on the workers of the Dask cluster whose scheduler is at ADDRESS "
                             "(e.g. tcp://10.0.0.5:8786) instead of local processes; --workers is then ignored")
    parser.add_argument("--cell-timeout", type=int, default=defaults.cell_timeout,
                        help=f"seconds a cell may run (default {defaults.cell_timeout})")
    parser.add_argument("--notebook-timeout", type=int, default=defaults.notebook_timeout,
                        help=f"seconds a whole notebook may run (default {defaults.notebook_timeout})")
    parser.add_argument("--memory-gib", type=float, default=defaults.memory_limit / 2**30,
                        help=f"memory limit of a grading kernel in GiB (default {defaults.memory_limit / 2**30:g})")
    parser.add_argument("--disk-mib", type=int, default=defaults.disk_limit // 2**20,
                        help="MiB a grading kernel may write in all, in its submission and scratch folders "
                             f"(default {defaults.disk_limit // 2**20})")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SubmissionError, GradingError, HandoutError, GradescopeError, FileNotFoundError, KeyError) as err:
        message = err.args[0] if err.args else str(err)
        print(f"optimlab-grade: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
