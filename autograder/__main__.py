"""Command line of the grading pipeline: ``python -m autograder release|grade|examples``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import check_assignments


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
        "--out",
        type=Path,
        default=Path("graded"),
        help="folder for grades.csv, feedback and the gradebook (default: ./graded)",
    )
    grade.add_argument(
        "--db", default=None, help="gradebook SQLAlchemy URL (default: sqlite in --out)"
    )
    grade.add_argument("--cell-timeout", type=int, default=30, help="seconds per cell (default 30)")
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
        assignments = check_assignments(getattr(args, "assignment", None))
    except ValueError as error:
        parser.error(str(error))

    if args.command == "release":
        from autograder.release import release as run_release

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
        from autograder.grade import grade as run_grade

        if args.workers is not None and args.workers < 1:
            parser.error("--workers must be at least 1")
        if args.cell_timeout < 1:
            parser.error("--cell-timeout must be at least 1 second")
        if not args.submitted.is_dir():
            parser.error(
                f"SUBMITTED must be a folder of <student>/<assignment>/ folders: {args.submitted}"
            )
        from autograder.isolation import IsolationUnavailable

        try:
            results = run_grade(
                args.submitted,
                args.out,
                assignments=assignments,
                workers=args.workers,
                db_url=args.db,
                cell_timeout=args.cell_timeout,
                isolated=not args.no_isolation,
            )
        except IsolationUnavailable as error:
            print(f"python -m autograder grade: {error}", file=sys.stderr)
            return 2
        total = sum(1 for r in results if r.status == "ok")
        print(
            f"graded {len(results)} submissions ({total} without problems): "
            f"{args.out / 'grades.csv'}"
        )
    else:
        from autograder.examples import write_examples

        for path in write_examples(args.out, assignments):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
