"""``python -m bench [--tiny] [--only NAME] [--out PATH]``: run the benchmarks, print one table.

Every figure goes to ``bench/figures.json`` (or ``--out``) as
``{"machine": {...}, "benchmarks": {NAME: result}}``, each result with the machine it was
measured on; the Performance page of the book renders that file. With ``--only`` the other
benchmarks' entries already in the file, and the file's machine, are kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import (
    book_build,
    class_outputs,
    concat_matmul,
    format_table,
    grading,
    machine,
    rnn_speed,
    sympy_bptt,
)

# The registry: every module has TITLE and run(tiny=False) -> {"rows": [...], ...}.
BENCHMARKS = [rnn_speed, concat_matmul, sympy_bptt, book_build, grading, class_outputs]
FIGURES = Path(__file__).resolve().parent / "figures.json"


def name_of(module) -> str:
    """The benchmark's name: its module's name, as ``--only`` and figures.json use it."""
    return module.__name__.rsplit(".", 1)[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="each benchmark once, tiny sizes")
    parser.add_argument("--only", choices=[name_of(m) for m in BENCHMARKS], help="one benchmark")
    parser.add_argument("--out", type=Path, default=FIGURES, help="where the figures go")
    args = parser.parse_args(argv)

    selected = [m for m in BENCHMARKS if args.only in (None, name_of(m))]
    figures = {"benchmarks": {}}
    if args.only and args.out.is_file():
        figures = json.loads(args.out.read_text())
    for module in selected:
        print(f"running {name_of(module)}: {module.TITLE}", flush=True)
        figures["benchmarks"][name_of(module)] = {
            "title": module.TITLE,
            "tiny": args.tiny,
            **module.run(tiny=args.tiny),
            "machine": machine(),  # each entry says when and where it was measured
        }
    # The file's machine is that of the last full run; --only keeps it.
    figures = {"machine": figures.get("machine") or machine(), "benchmarks": figures["benchmarks"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    print(format_table((name, figures["benchmarks"][name]) for name in map(name_of, selected)))
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
