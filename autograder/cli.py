"""Command line of the grading pipeline: ``python -m autograder release|grade|examples``."""

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
    from autograder.pipeline.class_run import grade
    from autograder.pipeline.late import PolicyError, course_policy
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
