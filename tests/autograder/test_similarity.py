"""The similarity report (autograder/pipeline/similarity.py) against its two promises.

- Copies are flagged: the public solution, and another student's submission, renamed,
  reordered and reformatted, each with all three at once.
- Correct code written independently is not: the public solution and two complete solutions
  written from the statement alone in other styles (``tests/autograder/independent/``), and the
  catalogued alternative answers, against each other. A catalogued alternative is the public
  solution with one function rewritten, so it is flagged against the solution, and only there.

The figures these tests rest on are printed with ``-s`` (the closing note quotes them).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from autograder import assignments
from autograder.authoring.examples import apply_edits
from autograder.pipeline import similarity
from autograder.pipeline.similarity import PUBLIC, THRESHOLD, flagged_pairs, read_code, scores

INDEPENDENT = Path(__file__).parent / "independent"
STYLES = ("loops", "compact")


def blocks(path: Path) -> dict[str, str]:
    """grade_id -> code of an independent solution file (one ``# %% <grade_id>`` per cell)."""
    parts = re.split(r"^# %% (\S+)[ \t]*\n", path.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def solution_and_starter(assignment: str) -> tuple[dict[str, str], dict[str, str]]:
    known = assignments.get(assignment)
    return known.solution_code(), known.starter_code()


# --- the three disguises, each a syntax-tree rewrite --------------------------------------------


class _Rename(ast.NodeTransformer):
    def __init__(self, keep: set[str]) -> None:
        self.keep, self.names = keep, {}

    def _new(self, name: str) -> str:
        if name in self.keep:
            return name
        return self.names.setdefault(name, f"renamed_{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._new(node.arg)
        return node


def renamed(code: dict[str, str], keep: set[str]) -> dict[str, str]:
    """Every variable and argument renamed (the graded functions' and modules' names kept)."""
    return {gid: ast.unparse(_Rename(keep).visit(ast.parse(text))) for gid, text in code.items()}


def _bound(statement: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}


def _swap_independent(body: list[ast.stmt]) -> int:
    """Swap each pair of adjacent simple statements that share no name; return the swaps."""
    swaps, i = 0, 0
    while i + 1 < len(body):
        first, second = body[i], body[i + 1]
        simple = (ast.Assign, ast.AugAssign, ast.AnnAssign)
        if isinstance(first, simple) and isinstance(second, simple):
            if not _bound(first) & _bound(second):
                body[i], body[i + 1] = second, first
                swaps += 1
                i += 1
        i += 1
    for statement in body:
        for name in ("body", "orelse", "finalbody"):
            swaps += _swap_independent(getattr(statement, name, None) or [])
    return swaps


def reordered(code: dict[str, str]) -> tuple[dict[str, str], int]:
    """Independent statements swapped and each cell's functions in reverse order."""
    out, swaps = {}, 0
    for gid, text in code.items():
        tree = ast.parse(text)
        swaps += _swap_independent(tree.body)
        functions = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
        rest = [s for s in tree.body if not isinstance(s, ast.FunctionDef)]
        tree.body = rest + functions[::-1]
        out[gid] = ast.unparse(tree)
    return out, swaps


class _Constants(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            node.value = node.value * 2 + 1
        return node


def constants_changed(code: dict[str, str]) -> dict[str, str]:
    """Every number changed (``x`` to ``2x + 1``): wrong code, the same statements."""
    return {gid: ast.unparse(_Constants().visit(ast.parse(text))) for gid, text in code.items()}


def reformatted(code: dict[str, str]) -> dict[str, str]:
    """Re-laid out (``ast.unparse``), with a comment and a blank line after every line."""
    return {
        gid: "\n".join(f"{line}  # mine\n" for line in ast.unparse(ast.parse(text)).splitlines())
        for gid, text in code.items()
    }


def api_names(starter: dict[str, str]) -> set[str]:
    """The names no student can rename: the graded functions and the modules."""
    names = {"np", "sp", "numpy", "sympy", "heapq", "math", "ValueError", "range", "len"}
    for text in starter.values():
        names |= {n.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef)}
    return names | set(dir(__builtins__))


def disguises(code: dict[str, str], starter: dict[str, str]) -> dict[str, dict[str, str]]:
    """The copies of ``code`` to flag; "reordered" only where something can be reordered."""
    copies = {
        "renamed": renamed(code, api_names(starter)),
        "reformatted": reformatted(code),
        "constants changed": constants_changed(code),
        "renamed, reordered and reformatted": reformatted(
            reordered(renamed(code, api_names(starter)))[0]
        ),
    }
    order, swaps = reordered(code)
    if swaps:
        copies["reordered"] = order
    return copies


def similarity_of(codes: list, first: str, second: str) -> float:
    names = [code.who for code in codes]
    i, j = sorted((names.index(first), names.index(second)))
    return next(s for a, b, s, _ in scores(codes) if (a, b) == (i, j))


# --- copies are flagged -----------------------------------------------------------------------


@pytest.mark.parametrize("assignment", assignments.names())
@pytest.mark.parametrize("original", [PUBLIC, *STYLES])
def test_a_disguised_copy_is_flagged(assignment, original):
    solution, starter = solution_and_starter(assignment)
    code = solution if original == PUBLIC else blocks(INDEPENDENT / assignment / f"{original}.py")
    codes = [read_code(PUBLIC, solution, starter)]
    if original != PUBLIC:
        codes.append(read_code(original, code, starter))
    copies = disguises(code, starter)
    if original != "compact":  # the terse style has no two statements that can swap in places
        assert "reordered" in copies
    for disguise, copy in copies.items():
        assert copy != code
        codes.append(read_code(disguise, copy, starter))
    flagged = {(p.first.who, p.second.who) for p in flagged_pairs(assignment, codes)}
    for disguise in copies:
        figure = similarity_of(codes, original, disguise)
        print(f"{assignment}: {original} and its {disguise} copy: {figure:.3f}")
        assert figure == pytest.approx(1.0), f"{disguise}: the statements should not change"
        assert tuple(sorted((original, disguise), key=[c.who for c in codes].index)) in flagged, (
            f"{disguise} copy of {original}: similarity {figure:.3f} < {THRESHOLD}"
        )


# --- independent correct code is not ---------------------------------------------------------


def correct_class(assignment: str) -> list:
    """The public solution, the independent solutions and every catalogued alternative."""
    solution, starter = solution_and_starter(assignment)
    codes = [read_code(PUBLIC, solution, starter)]
    for style in STYLES:
        codes.append(read_code(style, blocks(INDEPENDENT / assignment / f"{style}.py"), starter))
    for name, alternative in assignments.get(assignment).alternatives().items():
        codes.append(
            read_code(f"alternative {name}", apply_edits(solution, alternative["edits"]), starter)
        )
    return codes


@pytest.mark.parametrize("assignment", assignments.names())
def test_independent_solutions_and_alternatives_are_not_flagged_against_each_other(assignment):
    codes = correct_class(assignment)
    figures: dict[str, list[float]] = {}
    for i, j, value, _ in scores(codes):
        kinds = sorted(
            "alternative"
            if codes[k].who.startswith("alt")
            else "public"
            if k == 0
            else "independent"
            for k in (i, j)
        )
        figures.setdefault(" vs ".join(kinds), []).append(value)
    for kinds, values in sorted(figures.items()):
        print(f"{assignment}: {kinds}: {min(values):.3f} to {max(values):.3f}")
    # The bands docs/instructors.md quotes, far from the threshold on both sides.
    assert max(figures["independent vs independent"] + figures["independent vs public"]) <= 0.36
    assert (
        max(figures["alternative vs alternative"] + figures["alternative vs independent"]) <= 0.02
    )
    assert min(figures["alternative vs public"]) >= 0.85
    flagged = flagged_pairs(assignment, codes)
    wrong = [
        (p.first.who, p.second.who, round(p.similarity, 3))
        for p in flagged
        if not (p.first.who == PUBLIC and p.second.who.startswith("alternative"))
    ]
    assert not wrong, f"correct code flagged: {wrong}"
    # A catalogued alternative is the solution with one function rewritten: a copy of the rest.
    alternatives = {c.who for c in codes if c.who.startswith("alternative")}
    assert {p.second.who for p in flagged} == alternatives


def test_the_starter_code_and_an_untouched_notebook_are_nobody_s_code():
    solution, starter = solution_and_starter("bptt")
    untouched = read_code("untouched", starter, starter)
    assert not untouched.shapes()
    codes = [read_code(PUBLIC, solution, starter), untouched, read_code("also", starter, starter)]
    assert flagged_pairs("bptt", codes) == []


def test_a_cell_that_is_not_python_is_kept_as_text_without_statements():
    code = read_code("student", {"rnn_forward_code": "def broken(:\n    pass\n"}, {})
    assert code.cells == {"rnn_forward_code": "def broken(:\n    pass\n"}
    assert code.statements == {"rnn_forward_code": []}


def test_a_submission_s_added_cells_count_and_its_test_cells_do_not():
    notebook = {
        "cells": [
            {"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {"grade_id": "a"}}},
            {
                "cell_type": "code",
                "source": "assert x",
                "metadata": {"nbgrader": {"grade_id": "t"}},
            },
            {"cell_type": "code", "source": ["y = ", "2"], "metadata": {}},
            {"cell_type": "markdown", "source": "z = 3", "metadata": {}},
        ]
    }
    assert similarity.notebook_code(notebook, {"a"}) == {"a": "x = 1", "added cell 2": "y = 2"}


def test_the_side_by_side_view_escapes_names_and_code(tmp_path):
    solution, starter = solution_and_starter("cells")
    evil = "<img src=x onerror=alert(1)>"
    codes = [read_code(PUBLIC, solution, starter), read_code(evil, solution, starter)]
    pairs = flagged_pairs("cells", codes)
    page = similarity.render({"cells": pairs}, THRESHOLD)
    assert evil not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "reason to look, not proof" in page
    assert "<script" not in page and "http" not in page


def test_the_report_lists_every_flagged_pair_in_its_csv(tmp_path):
    """A graded folder in miniature: two copies of the solution and an independent one."""
    solution, starter = solution_and_starter("cells")
    source = assignments.get("cells").source()
    for student, code in {
        "ann": solution,
        "=1+2": renamed(solution, api_names(starter)),
        "bo": blocks(INDEPENDENT / "cells" / "loops.py"),
    }.items():
        notebook = json.loads(json.dumps(source))
        for cell in notebook["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if gid in code:
                cell["source"] = code[gid]
        folder = tmp_path / "course" / "autograded" / student / "cells"
        folder.mkdir(parents=True)
        (folder / "cells.ipynb").write_text(json.dumps(notebook))
    found = similarity.write_similarity(tmp_path, ["cells"])
    assert {(p.first.who, p.second.who) for p in found["cells"]} == {
        (PUBLIC, "ann"),
        (PUBLIC, "=1+2"),
    }
    rows = (tmp_path / "similarity.csv").read_text().splitlines()
    assert rows[0] == "assignment,first,second,similarity,shared_size"
    assert sorted(row.split(",")[2] for row in rows[1:]) == ["'=1+2", "ann"]
    assert (tmp_path / "similarity.html").is_file()


def test_shared_sizes_count_repeated_statements_as_often_as_both_have_them():
    a = Counter({"Call(x)": 3, "Name(y)": 1})
    b = Counter({"Call(x)": 1, "Name(y)": 2})
    value, shared = similarity.similarities([a, b])
    # sizes: a = 3*1 + 1*1 = 4, b = 1 + 2 = 3; shared = min(3, 1)*1 + min(1, 2)*1 = 2
    assert shared[0, 1] == 2 and value[0, 1] == pytest.approx(2 / (4 + 3 - 2))
