"""Stock nbgrader (as on a JupyterHub with formgrader) runs the assignments' hidden tests.

The course package installs ``autograder`` beside ``rnnbook``, so the hidden test cells'
``from autograder.harness import run_check`` works in a plain ``python3`` kernel, with no
``PYTHONPATH``: ``nbgrader generate_assignment`` and ``nbgrader autograde``, run as an
instructor would, give the solution full marks and the untouched release nothing. The course's
late-penalty plugin works there too: a due date set with ``nbgrader db assignment add`` and
``c.AssignLatePenalties.plugin_class`` take 20 % from a solution handed in 30 hours late.
"""

from __future__ import annotations

import json

import pytest
from nbgrader.api import Gradebook
from support import nbgrader

from autograder import assignments
from autograder.authoring.examples import fill
from autograder.pipeline.nbgrader_course import copy_sources, write_config

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", ["bptt"])
def test_stock_nbgrader_grades_the_solution_fully(tmp_path, assignment):
    course = tmp_path / "course"
    db = f"sqlite:///{course / 'gradebook.db'}"
    write_config(course, db)
    copy_sources(course, [assignment])
    nbgrader(course, "generate_assignment", assignment)
    nbgrader(course, "db", "assignment", "add", assignment, "--duedate=2026-10-05 21:59:00 UTC")
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(
            'c.AssignLatePenalties.plugin_class = "autograder.pipeline.late.PercentPerDay"\n'
        )
        config.write("c.PercentPerDay.percent_per_day = 10\n")
    released = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text())
    solved = fill(released, assignments.get(assignment).solution_code())
    for student, notebook, stamp in [
        ("solver", solved, "2026-10-05 20:00:00 UTC"),
        ("late-solver", solved, "2026-10-07 03:59:00 UTC"),
        ("idle", released, None),
    ]:
        target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(notebook))
        if stamp:
            (target.parent / "timestamp.txt").write_text(stamp)
    nbgrader(course, "autograde", assignment)
    full = sum(assignments.get(assignment).graded_cells().values())
    with Gradebook(db) as gradebook:
        assert gradebook.find_submission(assignment, "solver").score == full
        assert gradebook.find_submission(assignment, "solver").late_submission_penalty == 0
        late = gradebook.find_submission(assignment, "late-solver")
        assert late.score == full and late.late_submission_penalty == pytest.approx(0.2 * full)
        assert gradebook.find_submission(assignment, "idle").score == 0
