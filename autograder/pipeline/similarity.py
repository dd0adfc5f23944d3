"""The similarity report: pairs of submissions whose code is the same up to names, numbers,
formatting and order, and submissions that are the public solution so transformed.

For each assignment, each graded submission (its autograded notebook under
``GRADED/course/autograded/``) becomes the multiset of the statement shapes
(:mod:`autograder.pipeline.code_shapes`) of its answer cells and of any code cell it added, less
the starter code every student was given; the test cells are left out. The public solution is
read the same way and compared as one more submission.

Two multisets' similarity is their weighted Jaccard index: the size of the statements they share
over the size of all their statements, a statement's size being its number of syntax-tree nodes,
so that ``return out`` weighs little and a whole update rule much. Renaming, reformatting and
reordering change nothing; writing a function another way changes its statements.

Each submission is compared with the public solution on all its code. Two submissions are
compared on the code they do not share with the public solution: what the solution explains is
reported once, against the solution, and two students who both start from it (or who both write
a catalogued alternative into it) are not a pair. A pair is flagged from ``THRESHOLD`` on, and
only when the code it shares is at least ``MIN_SHARED`` of the solution's size (two nearly empty
notebooks are not a copy).

A flag is a reason to look, never proof: the graded functions are short and correct answers
converge. The thresholds are measured in ``tests/autograder/test_similarity.py``, on the
catalogued alternative answers and on correct solutions written independently in several
styles (``tests/autograder/independent/``).
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import assignments as registry
from autograder.assignments import cell_text
from autograder.pipeline.code_shapes import Statement, parse, statements
from autograder.pipeline.outputs import spreadsheet_text

THRESHOLD = 0.6  # between copies (1.00) and independent solutions (at most 0.36): tests
MIN_SHARED = 0.25
PUBLIC = "(public solution)"
SIMILARITY_HTML, SIMILARITY_CSV = "similarity.html", "similarity.csv"
SIDE_BY_SIDE = 50  # pairs per assignment shown side by side; the CSV lists them all
LISTED = 500  # pairs per assignment listed on the page


@dataclass
class Code:
    """One submission's own code for one assignment: per cell, its text and its statements."""

    who: str
    cells: dict[str, str] = field(default_factory=dict)  # cell name -> code
    statements: dict[str, list[Statement]] = field(default_factory=dict)

    def shapes(self) -> Counter:
        """Every statement shape of the code, with how often it occurs."""
        return Counter(s.shape for found in self.statements.values() for s in found)


def read_code(who: str, cells: dict[str, str], starter: dict[str, str]) -> Code:
    """``cells`` (name -> code) as :class:`Code`, each cell's starter statements taken out.

    A cell that is not Python is kept as text, with no statements."""
    code = Code(who)
    for name, text in cells.items():
        tree = parse(text)
        found = statements(tree) if tree is not None else []
        given = Counter()
        start = parse(starter.get(name, ""))
        if start is not None:
            given.update(s.shape for s in statements(start))
        own = []
        for statement in found:
            if given[statement.shape] > 0:
                given[statement.shape] -= 1
            else:
                own.append(statement)
        code.cells[name] = text
        code.statements[name] = own
    return code


def notebook_code(notebook: dict, answers: set[str]) -> dict[str, str]:
    """The code a student wrote in ``notebook``: its answer cells (by grade_id) and the code
    cells it added (no nbgrader metadata), the latter named by their position."""
    cells = {}
    for number, cell in enumerate(notebook.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in answers:
            cells[meta["grade_id"]] = cell_text(cell)
        elif not isinstance(meta, dict):
            cells[f"added cell {number}"] = cell_text(cell)
    return cells


def class_code(graded: Path, assignment: str) -> list[Code]:
    """The public solution and every autograded submission of ``assignment`` under ``graded``."""
    known = registry.get(assignment)
    solution, starter = known.solution_code(), known.starter_code()
    found = [read_code(PUBLIC, solution, starter)]
    for path in sorted((graded / "course" / "autograded").glob(f"*/{assignment}/*.ipynb")):
        try:
            notebook = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(notebook, dict):
            cells = notebook_code(notebook, set(solution))
            found.append(read_code(path.parent.parent.name, cells, starter))
    return found


def similarities(multisets: list[Counter]) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, shared size) of every pair of statement multisets, as two square matrices.

    ``min(a, b)`` of two counts is the number of ``k`` with ``a >= k`` and ``b >= k``: with one
    column per (shape, k), shared sizes are one matrix product."""
    columns: dict[tuple[str, int], int] = {}
    rows = []
    for shapes in multisets:
        row = []
        for shape, count in shapes.items():
            for k in range(1, count + 1):
                row.append(columns.setdefault((shape, k), len(columns)))
        rows.append(row)
    present = np.zeros((len(multisets), len(columns)))
    for i, row in enumerate(rows):
        present[i, row] = 1.0
    weights = np.array([shape.count("(") for shape, _ in columns], dtype=float)
    shared = (present * weights) @ present.T
    sizes = present @ weights
    union = sizes[:, None] + sizes[None, :] - shared
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = np.where(union > 0, shared / union, 0.0)
    return similarity, shared


@dataclass
class Pair:
    """Two submissions of one assignment whose code is alike."""

    assignment: str
    first: Code
    second: Code
    similarity: float
    shared: float
    public: Counter | None = None  # the public solution's statements, when neither side is it


def scores(codes: list[Code]) -> list[tuple[int, int, float, float]]:
    """(i, j, similarity, shared size) of every pair of ``codes`` (the public solution first):
    each submission against the public solution on all its code, and two submissions against
    each other on the code they do not share with the public solution."""
    everything = [code.shapes() for code in codes]
    own = [everything[0]] + [shapes - everything[0] for shapes in everything[1:]]
    to_public, shared_public = similarities(everything)
    between, shared_between = similarities(own)
    found = [(0, j, to_public[0, j], shared_public[0, j]) for j in range(1, len(codes))]
    found += [
        (i, j, between[i, j], shared_between[i, j])
        for i in range(1, len(codes))
        for j in range(i + 1, len(codes))
    ]
    return [(i, j, float(similarity), float(shared)) for i, j, similarity, shared in found]


def flagged_pairs(assignment: str, codes: list[Code], threshold: float = THRESHOLD) -> list[Pair]:
    """The pairs of :func:`scores` at or above ``threshold`` that share at least ``MIN_SHARED``
    of the public solution's size, most alike first."""
    floor = MIN_SHARED * sum(shape.count("(") * n for shape, n in codes[0].shapes().items())
    pairs = [
        Pair(assignment, codes[i], codes[j], similarity, shared, codes[0].shapes() if i else None)
        for i, j, similarity, shared in scores(codes)
        if similarity >= threshold and shared >= floor
    ]
    return sorted(pairs, key=lambda p: (-p.similarity, p.first.who, p.second.who))


def groups(pairs: list[Pair]) -> list[list[str]]:
    """The submissions linked by flagged pairs, as groups (largest first)."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for pair in pairs:
        parent[root(pair.first.who)] = root(pair.second.who)
    members: dict[str, list[str]] = {}
    for name in parent:
        members.setdefault(root(name), []).append(name)
    return sorted((sorted(m) for m in members.values()), key=lambda m: (-len(m), m))


def _column(code: Code, other: Counter, public: Counter) -> str:
    """``code`` as HTML, cell by cell: the lines of statements the other side shares marked,
    those the public solution explains (when the pair was compared without them) in grey."""
    other, public = Counter(other), Counter(public)
    parts = []
    for name, text in code.cells.items():
        marks: dict[int, str] = {}
        for statement in code.statements[name]:
            if public[statement.shape] > 0:
                public[statement.shape] -= 1
                mark = "public"
            elif other[statement.shape] > 0:
                other[statement.shape] -= 1
                mark = "same"
            else:
                continue
            marks.update(dict.fromkeys(range(statement.first, statement.last + 1), mark))
        lines = "".join(
            f'<span class="{marks.get(number, "")}">{html.escape(line)}\n</span>'
            for number, line in enumerate(text.splitlines(), start=1)
        )
        parts.append(f"<h4>{html.escape(name)}</h4><pre>{lines}</pre>")
    return "".join(parts)


def side_by_side(pair: Pair) -> str:
    """The two submissions' code in two columns, shared statements highlighted."""
    public = pair.public or Counter()
    return (
        f"<table class=sbs><tr><th>{html.escape(pair.first.who)}</th>"
        f"<th>{html.escape(pair.second.who)}</th></tr><tr>"
        f"<td>{_column(pair.first, pair.second.shapes() - public, public)}</td>"
        f"<td>{_column(pair.second, pair.first.shapes() - public, public)}</td></tr></table>"
    )


STYLE = """body{font-family:system-ui,sans-serif;max-width:90rem;margin:2rem auto;padding:0 1rem;
color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{padding:2px 10px;
text-align:left;vertical-align:top;border-bottom:1px solid #ddd}td.n{text-align:right}
table.sbs td{width:50%}pre{white-space:pre-wrap;font-size:85%;margin:0}.same{background:#fde2a0}
.public{color:#999}
.warn{background:#f4f4f4;border-left:4px solid #c60;padding:.5rem 1rem}"""


def render(found: dict[str, list[Pair]], threshold: float) -> str:
    """The similarity page: what a flag means, then per assignment the groups and the pairs."""
    e = html.escape
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Similarity report</title><style>{STYLE}</style></head><body>"
        "<h1>Similarity report</h1>"
        "<p class=warn><b>A flag is a reason to look, not proof of copying.</b> The graded "
        "functions are short and correct answers converge; talk to the students before you "
        "conclude anything. Submissions are compared on the statements of their own code "
        "(answer cells and added cells, less the starter code; test cells left out), equal up "
        "to names, numbers, formatting and order. The similarity is the share of code two "
        "submissions have in common, weighted by the size of each statement; pairs from "
        f"{threshold:.2f} are listed. Each submission is compared with the public solution "
        "on all its code; two students are compared on the code that is not in the public "
        "solution (shown in grey side by side), so that handing in the solution is one flag "
        "against it, not one per classmate who did the same.</p>",
        f'<p><a href="{SIMILARITY_CSV}">All flagged pairs as CSV</a> &middot; '
        '<a href="report.html">Class report</a></p>',
    ]
    for assignment, pairs in found.items():
        parts.append(f"<h2>{e(assignment)}</h2>")
        if not pairs:
            parts.append("<p>No pair is flagged.</p>")
            continue
        linked = groups(pairs)
        parts.append(
            f"<p>{len(pairs)} flagged pair(s) among {sum(map(len, linked))} submissions, in "
            f"{len(linked)} group(s) of submissions linked by flags:</p><ul>"
        )
        parts += [f"<li>{e(', '.join(group))}</li>" for group in linked]
        parts.append("</ul><table><tr><th>similarity</th><th>first</th><th>second</th></tr>")
        for number, pair in enumerate(pairs[:LISTED]):
            view = f"{assignment}-{number}"
            link = f'<a href="#{e(view)}">side by side</a>' if number < SIDE_BY_SIDE else ""
            parts.append(
                f"<tr><td class=n>{pair.similarity:.2f}</td><td>{e(pair.first.who)}</td>"
                f"<td>{e(pair.second.who)}</td><td>{link}</td></tr>"
            )
        parts.append("</table>")
        if len(pairs) > SIDE_BY_SIDE:
            parts.append(
                f"<p>The first {min(len(pairs), LISTED)} pairs are listed and the first "
                f"{SIDE_BY_SIDE} shown side by side; the CSV lists all {len(pairs)}.</p>"
            )
        for number, pair in enumerate(pairs[:SIDE_BY_SIDE]):
            parts.append(
                f'<h3 id="{e(assignment)}-{number}">{e(pair.first.who)} and '
                f"{e(pair.second.who)}: {pair.similarity:.2f}</h3>{side_by_side(pair)}"
            )
    parts.append("</body></html>")
    return "".join(parts)


CSV_COLUMNS = ["assignment", "first", "second", "similarity", "shared_size"]


def write_similarity(
    graded: Path, assignments: list[str], threshold: float = THRESHOLD
) -> dict[str, list[Pair]]:
    """Compare the submissions of each assignment under ``graded``; write ``similarity.html``
    and ``similarity.csv`` there; return the flagged pairs by assignment."""
    found = {a: flagged_pairs(a, class_code(graded, a), threshold) for a in assignments}
    rows = [
        [p.assignment, p.first.who, p.second.who, f"{p.similarity:.3f}", f"{p.shared:g}"]
        for pairs in found.values()
        for p in pairs
    ]
    with (graded / f"{SIMILARITY_CSV}.tmp").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows([[spreadsheet_text(cell) for cell in row] for row in rows])
    (graded / f"{SIMILARITY_CSV}.tmp").replace(graded / SIMILARITY_CSV)
    (graded / f"{SIMILARITY_HTML}.tmp").write_text(render(found, threshold))
    (graded / f"{SIMILARITY_HTML}.tmp").replace(graded / SIMILARITY_HTML)
    return found
