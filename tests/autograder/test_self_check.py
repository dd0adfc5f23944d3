"""``python -m autograder check NOTEBOOK`` (``autograder/pipeline/self_check.py``): one notebook
graded as grading would, for a reader or a student before they submit.

Fast: which assignment a notebook is, what is printed, and every bad argument (one line, exit
status 2) on tiny notebooks written here. Slow (each grading costs seconds): the ``cells``
solution, one catalogued mistake and the untouched release through the command line, the
feedback page they write, and the visible tests alone where the hidden checks are missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support import ROOT, autograder_cli

from autograder import assignments
from autograder.authoring.examples import apply_edits, fill
from autograder.cli import main
from autograder.isolation import bubblewrap
from autograder.pipeline import self_check
from autograder.pipeline.self_check import BadInput, Checked, Failure

# --- tiny notebooks ---------------------------------------------------------------------------


def notebook(*grade_ids: str) -> dict:
    """A valid notebook with one graded test cell per grade_id."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{number}",
            "metadata": {"nbgrader": {"grade": True, "grade_id": gid, "points": 1}},
            "outputs": [],
            "source": "",
        }
        for number, gid in enumerate(grade_ids)
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def write(path: Path, content: dict | str) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def solutions_root(folder: Path, *names: str) -> Path:
    """A registry root holding copies of the named assignments of the course."""
    for name in names:
        shutil.copytree(assignments.SOLUTIONS / name, folder / name)
    return folder


# --- which assignment ---------------------------------------------------------------------------


def test_the_graded_cells_name_the_assignment_whatever_the_file_is_called(tmp_path):
    found = self_check.assignment_of(
        notebook("rnn_forward_tanh", "rnn_backward_dwh"), tmp_path / "my work.ipynb"
    )
    assert found == "bptt"


def test_a_notebook_without_graded_cells_is_the_assignment_it_is_named_after(tmp_path):
    assert self_check.assignment_of(notebook(), tmp_path / "cells.ipynb") == "cells"


def test_the_graded_cells_win_over_the_file_name(tmp_path):
    assert self_check.assignment_of(notebook("softmax_axis"), tmp_path / "cells.ipynb") == (
        "attention"
    )


def test_the_assignment_asked_for_wins(tmp_path):
    found = self_check.assignment_of(notebook("softmax_axis"), tmp_path / "x.ipynb", "cells")
    assert found == "cells"


def test_graded_cells_of_an_assignment_without_checks_here_mean_visible_tests_only(tmp_path):
    root = solutions_root(tmp_path / "solutions", "cells")
    assert (
        self_check.assignment_of(notebook("rnn_forward_tanh"), tmp_path / "bptt.ipynb", root=root)
        is None
    )


def test_an_installation_without_solutions_runs_visible_tests_only(tmp_path):
    missing = tmp_path / "nowhere"
    assert (
        self_check.assignment_of(notebook("rnn_forward_tanh"), tmp_path / "a.ipynb", root=missing)
        is None
    )


def test_graded_cells_of_several_assignments_are_refused_naming_them(tmp_path):
    root = solutions_root(tmp_path / "solutions", "bptt")
    twin = root / "bptt_again"
    twin.mkdir()
    shutil.copy(root / "bptt" / "bptt.ipynb", twin / "bptt_again.ipynb")
    with pytest.raises(BadInput, match="several assignments .bptt, bptt_again.*--assignment"):
        self_check.assignment_of(notebook("rnn_forward_tanh"), tmp_path / "a.ipynb", root=root)


def test_a_notebook_of_no_assignment_is_refused_saying_how_to_choose(tmp_path):
    with pytest.raises(BadInput, match="none of the assignments.*--assignment"):
        self_check.assignment_of(notebook(), tmp_path / "homework.ipynb")


# --- what is printed ----------------------------------------------------------------------------


def test_the_summary_gives_the_score_each_failed_test_and_its_cause_and_the_page():
    checked = Checked(
        Path("work/cells.ipynb"),
        "cells",
        True,
        failures=[Failure("rnn_step_backward_dwh", "dWh is transposed")],
        statuses=["test_cell_modified"],
        score=32,
        max_score=34,
        page=Path("work/cells-check/feedback/cells.html"),
        seconds=6.4,
    )
    assert self_check.summary(checked).splitlines() == [
        "work/cells.ipynb: cells, graded with the hidden checks, isolated (bubblewrap), in 6 s",
        "score: 32 / 34",
        "failed tests: 1",
        "  rnn_step_backward_dwh: dWh is transposed",
        "status: test_cell_modified",
        "feedback page: work/cells-check/feedback/cells.html",
    ]


def test_the_summary_without_hidden_checks_says_so_and_gives_no_score():
    checked = Checked(
        Path("bptt.ipynb"),
        None,
        False,
        failures=[Failure("cell 3", "NameError: name 'np' is not defined")],
        seconds=3.0,
    )
    first, *rest = self_check.summary(checked).splitlines()
    assert "hidden checks of its assignment are not available" in first
    assert "visible tests only" in first and "NOT isolated (--no-isolation)" in first
    assert rest == ["cells that raised: 1", "  cell 3: NameError: name 'np' is not defined"]


def test_each_cell_that_raised_is_named_with_the_first_line_of_its_error():
    executed = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"grade_id": "step_visible_tests"}},
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "shapes ok\n"},
                    {"output_type": "error", "ename": "AssertionError", "evalue": "dx\nmore"},
                ],
            },
            {"cell_type": "code", "metadata": {}, "outputs": []},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [{"output_type": "error", "ename": "NotImplementedError", "evalue": ""}],
            },
        ]
    }
    assert self_check.errors(executed) == {
        "step_visible_tests": "AssertionError: dx",
        "cell 4": "NotImplementedError",
    }


# --- bad input ----------------------------------------------------------------------------------

BAD = {  # case: (arguments, the argument the line names)
    "missing file": (["{t}/nowhere.ipynb"], "NOTEBOOK: no such file"),
    "a folder": (["{t}"], "NOTEBOOK must be a notebook file"),
    "not JSON": (["{t}/not-json.ipynb"], "NOTEBOOK: {t}/not-json.ipynb is not a Jupyter notebook"),
    "not a notebook object": (["{t}/list.ipynb"], "is not a Jupyter notebook: not a JSON object"),
    "old nbformat": (["{t}/v3.ipynb"], "is not a Jupyter notebook: nbformat 3"),
    "not nbformat": (["{t}/no-cells.ipynb"], "is not a Jupyter notebook: not a valid notebook"),
    "no assignment": (["{t}/homework.ipynb"], "NOTEBOOK: homework.ipynb is none of"),
    "unknown assignment": (["{t}/bptt.ipynb", "--assignment", "rnn"], "--assignment must be"),
    "out is a file": (["{t}/bptt.ipynb", "--out", "{t}/list.ipynb"], "--out must be a folder"),
}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    write(tmp_path / "not-json.ipynb", '{"cells": [')
    write(tmp_path / "list.ipynb", "[]")
    write(tmp_path / "v3.ipynb", {"nbformat": 3, "worksheets": []})
    write(tmp_path / "no-cells.ipynb", {"metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    write(tmp_path / "homework.ipynb", notebook())
    write(tmp_path / "bptt.ipynb", notebook("rnn_forward_tanh"))
    write(tmp_path / "mystery.ipynb", notebook("mystery_values"))
    return tmp_path


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_argument_is_one_line_naming_it(inputs, capsys, case):
    args, expected = BAD[case]
    with pytest.raises(SystemExit) as stopped:
        main(["check", *(arg.replace("{t}", str(inputs)) for arg in args)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("python -m autograder: error: "), err
    assert expected.replace("{t}", str(inputs)) in last, last
    assert not (inputs / "bptt-check").exists()


@pytest.mark.parametrize("name", ["bptt.ipynb", "mystery.ipynb"], ids=["graded", "visible"])
def test_without_bubblewrap_it_says_what_grade_says(inputs, capsys, monkeypatch, name):
    monkeypatch.setattr(bubblewrap, "problem", lambda: bubblewrap.INSTALL_HINT)
    assert main(["check", str(inputs / name)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"python -m autograder check: {bubblewrap.INSTALL_HINT}"]
    assert "--no-isolation" in err[0] and "trusted" in err[0]


def test_a_grader_failure_is_one_line_and_exit_status_1(inputs, capsys, monkeypatch):
    from autograder.pipeline import self_check

    def fail(*args, **kwargs):
        raise RuntimeError("generate_assignment bptt: nbgrader said no\nmore log")

    monkeypatch.setattr(self_check, "check", fail)
    assert main(["check", str(inputs / "bptt.ipynb")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "python -m autograder check: the grader failed: generate_assignment bptt: nbgrader said no"
    ]


def test_make_check_without_nb_says_how_to_call_it():
    made = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode != 0
    assert made.stdout == ""
    [line] = made.stderr.strip().splitlines()
    assert "NB is missing: make check NB=path/to/notebook.ipynb" in line


def test_make_check_runs_the_command_on_nb():
    made = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-o",
            ".venv/.installed",
            "check",
            "NB=work/my bptt.ipynb",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        made.stdout.strip() == f'{ROOT}/.venv/bin/python -m autograder check "work/my bptt.ipynb"'
    )


# --- end to end ---------------------------------------------------------------------------------

MISTAKE = "rnn_dwh_transposed"


@pytest.fixture(scope="module")
def checked(
    cells_notebooks, tmp_path_factory
) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """``check`` run on the ``cells`` solution, one mistake and the untouched release, each a
    notebook ``cells.ipynb`` in its own folder: {case: (the command's run, the folder)}."""
    student, solved = cells_notebooks
    known = assignments.get("cells")
    wrong = fill(student, apply_edits(known.solution_code(), known.mistakes()[MISTAKE]["edits"]))
    runs = {}
    for case, content in {"solution": solved, "mistake": wrong, "untouched": student}.items():
        folder = tmp_path_factory.mktemp(case)
        path = write(folder / "cells.ipynb", content)
        runs[case] = (autograder_cli("check", str(path), check=False, timeout=600), folder)
    return runs


def printed_failures(stdout: str) -> dict[str, str]:
    """The failed tests the command printed: {grade_id: cause}, from its ``  id: cause`` lines."""
    return dict(line[2:].split(": ", 1) for line in stdout.splitlines() if line.startswith("  "))


@pytest.mark.slow
def test_the_solution_gets_full_marks(checked):
    run, folder = checked["solution"]
    assert run.returncode == 0, run.stderr
    assert "score: 34 / 34" in run.stdout.splitlines()
    assert "failed tests: 0" in run.stdout.splitlines()
    assert f"feedback page: {folder / 'cells-check' / 'feedback' / 'cells.html'}" in run.stdout


@pytest.mark.slow
def test_a_mistake_loses_exactly_its_cells_and_says_why(checked):
    run, _ = checked["mistake"]
    mistake = assignments.get("cells").mistakes()[MISTAKE]
    assert run.returncode == 0, run.stderr
    assert "score: 32 / 34" in run.stdout.splitlines()  # rnn_step_backward_dwh is worth 2
    failures = printed_failures(run.stdout)
    assert set(failures) == set(mistake["lost"]) == {"rnn_step_backward_dwh"}
    assert all(mistake["feedback"].lower() in cause.lower() for cause in failures.values())


@pytest.mark.slow
def test_the_untouched_release_scores_zero_with_every_cause(checked):
    run, _ = checked["untouched"]
    graded = assignments.get("cells").graded_cells()
    assert run.returncode == 0, run.stderr  # graded, whatever the score
    assert "score: 0 / 34" in run.stdout.splitlines()
    failures = printed_failures(run.stdout)
    assert set(failures) == set(graded)
    assert all("NotImplementedError" in cause for cause in failures.values()), failures


class References(HTMLParser):
    """Every ``src`` and ``href`` of a page's tags."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["mistake", "untouched"])
def test_the_feedback_page_is_written_and_loads_nothing_from_another_host(checked, case):
    _, folder = checked[case]
    page = folder / "cells-check" / "feedback" / "cells.html"
    text = page.read_text()
    assert "Grading summary" in text
    references = References()
    references.feed(text)
    assert "../mathjax/tex-chtml.js" in references.found
    for reference in references.found:
        assert not re.match(r"([a-z][a-z0-9+.-]*:|//)", reference, re.I), reference
        if not reference.startswith("#"):
            assert (page.parent / reference).is_file(), reference
    assert not re.search(r"url\(\s*['\"]?([a-z]+:)?//|@import\s+['\"]?([a-z]+:)?//", text, re.I)
    if case == "mistake":
        assert assignments.get("cells").mistakes()[MISTAKE]["feedback"] in text


@pytest.fixture
def environment_kept():
    """The check puts its kernel's folder in os.environ, as grading does: undone after."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.slow
def test_without_hidden_checks_the_visible_tests_run_alone(
    cells_notebooks, tmp_path, environment_kept
):
    student, solved = cells_notebooks
    root = solutions_root(tmp_path / "solutions", "bptt")  # no cells/
    out = tmp_path / "out"
    found = {}
    for case, content in {"untouched": student, "solution": solved}.items():
        path = write(tmp_path / f"{case}.ipynb", content)
        found[case] = self_check.check(path, out=out, root=root)
    untouched = found["untouched"]
    assert untouched.assignment is None and untouched.isolated
    assert untouched.score is None and untouched.page is None and not out.exists()
    visible = {
        "rnn_step_forward_visible_tests",
        "rnn_step_backward_visible_tests",
        "stack_weights_visible_tests",
        "concat_step_forward_visible_tests",
        "lstm_step_forward_visible_tests",
        "lstm_step_backward_visible_tests",
    }
    causes = {failure.cell: failure.cause for failure in untouched.failures}
    assert set(causes) == visible | set(assignments.get("cells").graded_cells())
    assert all(cause.startswith("NotImplementedError") for cause in causes.values()), causes
    assert found["solution"].failures == [] and found["solution"].statuses == []
    assert "visible tests only" in self_check.summary(untouched).splitlines()[0]
