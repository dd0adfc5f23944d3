"""Command line of the grading pipeline:
``python -m autograder release|grade|examples|similarity|check|export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.assignments import select
from autograder.isolation.policy import CELL_SECONDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="validate the sources, write student versions")
    release.add_argument(
        "--out",
        type=Path,
        default=Path("release"),
        help="folder for the student notebooks (default: ./release)",
    )
    release.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    release.add_argument(
        "--course",
        type=Path,
        help="keep nbgrader's instructor course folder here (default: a temporary folder); "
        "it holds the solutions, so it may not lie inside --out",
    )
    release.add_argument("--pages", type=Path, help="also write the book's exercise pages here")
    release.add_argument(
        "--no-validate",
        action="store_true",
        help="skip running the instructor solutions against their tests",
    )

    grade = commands.add_parser("grade", help="autograde a folder of submissions")
    grade.add_argument("submitted", type=Path, help="folder of <student>/<assignment>/<nb>.ipynb")
    grade.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    grade.add_argument(
        "--workers", type=int, default=None, help="parallel submissions (default: one per core)"
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786); "
        "its workers need this package and bubblewrap, not the course's files "
        "(default: --workers processes on this machine)",
    )
    grade.add_argument(
        "--out",
        type=Path,
        default=Path("graded"),
        help="folder for grades.csv, feedback and the gradebook (default: ./graded)",
    )
    grade.add_argument(
        "--db", default=None, help="gradebook SQLAlchemy URL (default: sqlite in --out)"
    )
    grade.add_argument(
        "--cell-timeout",
        type=int,
        default=CELL_SECONDS,
        help=f"seconds per cell (default {CELL_SECONDS})",
    )
    grade.add_argument(
        "--regrade",
        action="store_true",
        help="grade every submission again (default: only those changed since the last run)",
    )
    grade.add_argument("--student", action="append", help="only this student folder (repeatable)")
    grade.add_argument(
        "--config",
        type=Path,
        help="course configuration (TOML): due dates, extensions, late penalty; see "
        "autograder/course.example.toml (default: the one kept in --out by the last run)",
    )
    grade.add_argument(
        "--no-isolation",
        action="store_true",
        help="run student code without bubblewrap (only for trusted notebooks; recorded per row)",
    )

    examples = commands.add_parser("examples", help="write the example submissions")
    examples.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    examples.add_argument(
        "--out",
        type=Path,
        default=Path("autograder/examples"),
        help="folder to write <student>/<assignment>/<nb>.ipynb into",
    )

    similar = commands.add_parser(
        "similarity",
        help="list pairs of submissions (and the public solution) with similar code",
        description="Compare the code of every graded submission of each assignment with the "
        "public solution, and every two submissions on the code the public solution does not "
        "explain, up to names, numbers, formatting and order. Pairs from the threshold on that "
        "share at least a quarter of the solution's size are flagged; GRADED/similarity.csv "
        "lists them all (columns assignment, first, second, similarity, shared_size), "
        "GRADED/similarity.html the first 500 per assignment, 50 side by side. `grade` runs it "
        "too, with the default threshold, and rewrites both files. A flag is a reason to look, "
        "not proof.",
    )
    similar.add_argument("graded", type=Path, help="the --out folder of `grade`")
    similar.add_argument(
        "--assignment",
        action="append",
        help="only this assignment (repeatable; the files then hold only these; default: every "
        "assignment graded in GRADED)",
    )
    similar.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="flag pairs from this similarity on, above 0 and at most 1 (default: 0.6, chosen "
        "between copies and independent solutions; see docs/instructors.md)",
    )

    check = commands.add_parser(
        "check",
        help="grade one notebook as grading would, before you hand it in",
        description="Grade one notebook with the full grader, isolated as in grading (the hidden "
        "checks on fresh inputs, verification outside the notebook): print the score and each "
        "failed test with its cause, and write the feedback page an instructor's run would. "
        "Where this installation has no hidden checks for the notebook's assignment, run its "
        "visible tests only (isolated) and name each cell that raised. It is not your course's "
        "grade: a private course may have other checks.",
        epilog="Exit status: 0 when the notebook was checked, whatever its score; 2 for a bad "
        "argument or where bubblewrap cannot run.",
    )
    check.add_argument(
        "notebook", metavar="NOTEBOOK", type=Path, help="the notebook to check (.ipynb)"
    )
    check.add_argument(
        "--assignment",
        dest="check_assignment",
        metavar="A",
        help="grade it as assignment A (default: the one whose graded cells it has, else the "
        "one it is named after)",
    )
    check.add_argument(
        "--out",
        type=Path,
        help="folder for the feedback page, OUT/feedback/<assignment>.html, and the MathJax it "
        "loads, OUT/mathjax/ (default: NAME-check/ beside NAME.ipynb)",
    )
    check.add_argument(
        "--no-isolation",
        action="store_true",
        help="run the notebook without bubblewrap: only a notebook you trust (your own)",
    )

    from autograder.pipeline.lms_export import FORMATS, roster_columns

    export = commands.add_parser(
        "export",
        help="write the grades as Canvas, Moodle or Blackboard imports them",
        description="Write the grades of GRADED as a CSV file that a learning-management system "
        "imports: one row per student, one column per assignment with its points after the "
        "late penalty (the score of grades.csv). Students graded but not in the roster, and "
        "roster students with nothing graded, are left out of the file (the LMS keeps their "
        "grades); they and every empty grade cell are listed on stderr and, with their grades, "
        "in NAME.problems.csv beside the file NAME.csv. docs/instructors.md says how to import "
        "the file in each system.",
    )
    export.add_argument("graded", type=Path, help="the --out folder of `grade`")
    export.add_argument(
        "--format",
        required=True,
        choices=list(FORMATS),
        help="; ".join(f"{name}: {spec.purpose}" for name, spec in FORMATS.items()),
    )
    export.add_argument(
        "--roster",
        type=Path,
        help="a UTF-8 CSV file naming each student by folder (column student) and their "
        "identifiers in the LMS; columns by format: "
        + "; ".join(f"{name}: {roster_columns(name)}" for name in FORMATS)
        + " (default: no roster; the folder name stands for the identifier: SIS Login ID for "
        "canvas, Username for moodle and blackboard)",
    )
    export.add_argument(
        "--out", type=Path, help="the file to write (default: GRADED/export-FORMAT.csv)"
    )
    export.add_argument(
        "--assignment",
        action="append",
        help="only this assignment (repeatable; default: every assignment graded)",
    )
    export.add_argument(
        "--column-id",
        action="append",
        metavar="A=ID",
        help="write assignment A into the LMS's own column ID (canvas: the assignment id; "
        "blackboard: the Grade Center column id); without one, Canvas takes the assignment "
        "titled A or creates it, and Blackboard creates a new column (repeatable)",
    )
    export.add_argument(
        "--db", help="the gradebook URL that `grade --db` used (default: GRADED/gradebook.db)"
    )

    args = parser.parse_args(argv)
    try:
        assignments = select(getattr(args, "assignment", None))
    except ValueError as error:
        parser.error(str(error))

    if args.command == "release":
        from autograder.authoring.release import release as run_release

        if args.out.exists() and not args.out.is_dir():
            parser.error(f"--out must be a folder, got the file {args.out}")
        try:
            released = run_release(
                args.out,
                assignments,
                validate=not args.no_validate,
                pages=args.pages,
                course=args.course,
            )
        except ValueError as error:
            parser.error(f"--course: {error}")
        for name, path in released.items():
            print(f"released {name}: {path}")
    elif args.command == "grade":
        return run_grade_command(parser, args, assignments)
    elif args.command == "similarity":
        return run_similarity_command(parser, args, assignments)
    elif args.command == "check":
        return run_check_command(parser, args)
    elif args.command == "export":
        return run_export_command(parser, args)
    else:
        from autograder.authoring.examples import write_examples

        for path in write_examples(args.out, assignments):
            print(path)
    return 0


def database_problem(url: str) -> str | None:
    """Why ``url`` cannot serve as the gradebook, in one line, or None."""
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        engine = sqlalchemy.create_engine(url)
    except ArgumentError:
        return f"not a database URL: {url!r} (e.g. sqlite:///gradebook.db)"
    except ModuleNotFoundError as error:
        return (
            f"no driver for {url.split(':', 1)[0]} ({error.name} is not installed); for "
            "PostgreSQL use postgresql+psycopg://user@host/database"
        )
    try:
        with engine.connect():
            return None
    except SQLAlchemyError as error:
        first = str(error.orig if getattr(error, "orig", None) else error).strip().splitlines()
        return f"cannot connect to {engine.url!r}: {first[0] if first else type(error).__name__}"
    finally:
        engine.dispose()


def run_grade_command(parser, args, assignments: list[str]) -> int:
    """``grade``: check every argument first (one line each), then grade and report."""
    from autograder.isolation.bubblewrap import IsolationUnavailable
    from autograder.pipeline.workers import SchedulerUnavailable, scheduler_problem

    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.scheduler is not None and args.workers is not None:
        parser.error("--workers and --scheduler exclude each other: a cluster has its own workers")
    if args.scheduler is not None and (problem := scheduler_problem(args.scheduler)):
        parser.error(f"--scheduler: {problem}")
    if args.cell_timeout < 1:
        parser.error("--cell-timeout must be at least 1 second")
    submitted, out = args.submitted.resolve(), args.out.resolve()
    if not submitted.is_dir():
        parser.error(f"SUBMITTED must be a folder of <student>/<assignment>/ folders: {submitted}")
    if out.exists() and not out.is_dir():
        parser.error(f"--out must be a folder, got the file {out}")
    if out == submitted or out.is_relative_to(submitted) or submitted.is_relative_to(out):
        parser.error(f"--out ({out}) and SUBMITTED ({submitted}) must not contain each other")
    if args.db is not None and (problem := database_problem(args.db)):
        parser.error(f"--db: {problem}")
    # nbgrader (its late plugins, then the rest): seconds to import, so after the quick checks
    from autograder.pipeline.class_run import grade
    from autograder.pipeline.late import PolicyError, course_policy

    try:
        policy = course_policy(args.config, out)
    except PolicyError as error:
        parser.error(f"--config: {error}")
    try:
        outcome = grade(
            submitted,
            out,
            assignments=assignments,
            workers=args.workers,
            scheduler=args.scheduler,
            db_url=args.db,
            cell_timeout=args.cell_timeout,
            isolated=not args.no_isolation,
            regrade=args.regrade,
            students=args.student,
            policy=policy,
        )
    except IsolationUnavailable as error:
        where = f" (on a worker of {args.scheduler})" if args.scheduler else ""
        print(f"python -m autograder grade: {error}{where}", file=sys.stderr)
        return 2
    except SchedulerUnavailable as error:
        print(f"python -m autograder grade: --scheduler: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to grade what is left", file=sys.stderr)
        return 130
    print(outcome.summary)
    if outcome.errors:
        print(
            f"{outcome.errors} notebook(s) hit a grader error (status grader_error); "
            f"details in {out / 'logs'}",
            file=sys.stderr,
        )
        return 1
    return 0


def run_similarity_command(parser, args, assignments: list[str]) -> int:
    """``similarity``: compare the graded submissions, write the page and the CSV."""
    from autograder.pipeline import similarity

    graded = args.graded.resolve()
    if not (graded / "course" / "autograded").is_dir():
        parser.error(
            f"GRADED must be the --out folder of `grade` (with course/autograded/): {graded}"
        )
    threshold = similarity.THRESHOLD if args.threshold is None else args.threshold
    if not 0 < threshold <= 1:
        parser.error(f"--threshold must be above 0 and at most 1, got {threshold:g}")
    if not args.assignment:  # the assignments graded there
        found_there = {p.name for p in (graded / "course" / "autograded").glob("*/*") if p.is_dir()}
        assignments = [a for a in assignments if a in found_there]
    found = similarity.write_similarity(graded, assignments, threshold)
    for assignment, pairs in found.items():
        print(f"{assignment:<16} {len(pairs)} flagged pair(s)")
    print(f"similarity: {graded / similarity.SIMILARITY_HTML}")
    return 0


def run_export_command(parser, args) -> int:
    """``export``: write the grades as an LMS imports them; list what it could not give."""
    from autograder.pipeline.lms_export import ExportError, export, parse_column_ids

    # A sqlite URL is checked by export (connecting would create a missing file).
    sqlite = args.db is not None and args.db.startswith("sqlite:")
    if args.db is not None and not sqlite and (problem := database_problem(args.db)):
        parser.error(f"--db: {problem}")
    try:
        done = export(
            args.graded,
            args.format,
            args.out,
            roster=args.roster,
            assignments=args.assignment,
            column_ids=parse_column_ids(args.column_id or []),
            db_url=args.db,
        )
    except ExportError as error:
        parser.error(str(error))
    for problem in done.problems:
        print(f"python -m autograder export: {problem.student!r}: {problem.text}", file=sys.stderr)
    if done.problems:
        print(
            f"{len(done.problems)} problem(s), listed with their grades in {done.problems_path}",
            file=sys.stderr,
        )
    if done.identified_by:
        print(f"no --roster: each student's {done.identified_by} is their folder name")
    print(
        f"wrote {done.path}: {done.students} student(s), {len(done.assignments)} "
        f"assignment(s), {args.format} format"
    )
    return 0


def run_check_command(parser, args) -> int:
    """``check``: grade one notebook as grading would, print what failed, write its page."""
    from autograder.isolation.bubblewrap import IsolationUnavailable
    from autograder.pipeline.self_check import BadInput, check, summary

    try:
        checked = check(
            args.notebook,
            assignment=args.check_assignment,
            out=args.out,
            isolated=not args.no_isolation,
        )
    except BadInput as error:
        parser.error(str(error))
    except IsolationUnavailable as error:
        print(f"python -m autograder check: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # nbgrader could not prepare the assignment: not the notebook
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"python -m autograder check: the grader failed: {first}", file=sys.stderr)
        return 1
    print(summary(checked))
    return 0
