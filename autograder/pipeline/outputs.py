"""What the instructor and the students get from a grading run: the gradebook, the autograded
notebooks, one feedback page per student and assignment, ``grades.csv`` and a closing table.

Feedback pages are nbgrader's, made safe to hand out: math is typeset by a copy of MathJax
served next to the pages (no CDN), a failed test shows the grader's message rather than a
traceback through the hidden grading code, and a summary table opens the page.
"""

from __future__ import annotations

import csv
import html
import re
import shutil
import stat
from collections import Counter
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc

from autograder.assignments import nbgrader_cells
from autograder.isolation.policy import (
    LIMIT_MESSAGES,
    MAX_DISK_BYTES,
    MAX_FILES,
    MAX_PROCESSES,
    MiB,
)
from autograder.pipeline import late
from autograder.pipeline.results import Result

MATHJAX_FOLDER = "mathjax"
# A script loaded from another host, however its src is quoted and whatever its body holds.
REMOTE_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//[^>]*>.*?</script\s*>\s*""", re.I | re.S
)
MATHJAX2_CONFIG = re.compile(r'<script type="text/x-mathjax-config">.*?</script>\s*', re.S)
MATHJAX3 = """<script>
window.MathJax = {{tex: {{inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
  displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]], processEscapes: true}}}};
</script>
<script src="{path}" defer></script>
"""
CELL_STYLE = 'style="padding: 2px 12px; text-align: left; vertical-align: top"'
CSV_COLUMNS = [
    "student",
    "assignment",
    "score",
    "max_score",
    "status",
    "failed_tests",
    "isolation",
    "timestamp",
    "duedate",
    "raw_score",
    "late_submission_penalty",
]


def record(db_url: str, result: Result, policy: late.Policy) -> None:
    """Store the final scores (and nbgrader's submission timestamp) in the course gradebook,
    then the late penalty that ``policy`` gives them (:func:`autograder.pipeline.late.assess`)."""
    if any(status.startswith("not_submitted") for status in result.statuses):
        return
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_student(result.student)
        extra = {"timestamp": parse_utc(result.timestamp)} if result.timestamp else {}
        gradebook.update_or_create_submission(result.assignment, result.student, **extra)
        for cell in result.cells:
            grade = gradebook.find_grade(
                cell.grade_id, result.assignment, result.assignment, result.student
            )
            grade.auto_score = cell.points
            grade.manual_score = None
        gradebook.db.commit()
        late.assess(gradebook, result, policy)


def gradebook_scores(
    db_url: str, assignments: list[str]
) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, late penalty), for every submission in the gradebook."""
    scores = {}
    with Gradebook(db_url) as gradebook:
        for assignment in assignments:
            try:
                submissions = gradebook.find_assignment(assignment).submissions
            except MissingEntry:
                continue
            for submission in submissions:
                penalty = float(submission.late_submission_penalty or 0.0)
                scores[(submission.student_id, assignment)] = (float(submission.score), penalty)
    return scores


def scored(
    result: Result, scores: dict[tuple[str, str], tuple[float, float]]
) -> tuple[float, float, float]:
    """(score after the late penalty, score, late penalty) of ``result``: the gradebook's
    (``scores``, from :func:`gradebook_scores`) where it holds the submission, else the result's
    own; never negative, as ``nbgrader export`` computes it. ``grades.csv`` and
    :mod:`autograder.pipeline.lms_export` both write these."""
    raw, penalty = scores.get(
        (result.student, result.assignment), (result.score, result.late_penalty)
    )
    return max(0.0, raw - penalty), raw, penalty


PEAKS = ("peak_processes", "peak_disk_bytes", "peak_files")  # of Result.usage, in the table
SUMMARY_KEY = "rnn_grading_summary"  # marks the summary cell in the autograded notebook


def _summary_cell(result: Result):
    cell = nbformat.v4.new_markdown_cell(summary_html(result))
    cell.metadata[SUMMARY_KEY] = True
    return cell


def annotate_autograded(path: Path, result: Result, graded_ids: set[str]) -> None:
    """Rewrite the executed notebook at ``path``: the summary first, and messages instead of
    tracebacks in the graded test cells (the hidden grading code stays hidden)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in nbgrader_cells(notebook):
        if cell["metadata"]["nbgrader"].get("grade_id") in graded_ids:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
    notebook.cells.insert(0, _summary_cell(result))
    path.chmod(path.stat().st_mode | stat.S_IWUSR)  # nbgrader may leave it read-only
    nbformat.write(notebook, path)


def refresh_summary(course: Path, result: Result) -> None:
    """Write ``result``'s summary (its late penalty changed) over the autograded notebook's."""
    path = course / "autograded" / result.student / result.assignment / f"{result.assignment}.ipynb"
    if not path.is_file():
        return
    notebook = nbformat.read(path, as_version=4)
    if notebook.cells and notebook.cells[0].metadata.get(SUMMARY_KEY):
        notebook.cells[0] = _summary_cell(result)
        nbformat.write(notebook, path)


def lateness_html(result: Result) -> str:
    """A sentence on the due date and the late penalty, or nothing when it was on time."""
    if not result.seconds_late:
        return ""
    hours = result.seconds_late / 3600
    when = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
    due = html.escape((result.duedate or "").replace("T", " ").replace("+00:00", " UTC"))
    penalty = (
        f"Late penalty: <b>&minus;{result.late_penalty:g}</b> points "
        f"({html.escape(result.late_policy)})."
        if result.late_penalty
        else "No points were taken off."
    )
    return f"Submitted {when} after the due date ({due}). {penalty}\n\n"


def limits_html(result: Result) -> str:
    """A sentence for each cap of the isolation policy that the submission reached."""
    return "".join(
        f"Stopped at a limit: {html.escape(LIMIT_MESSAGES[status])}. "
        for status in result.statuses
        if status in LIMIT_MESSAGES
    )


def summary_html(result: Result) -> str:
    """The grading summary that opens a student's feedback (an HTML table inside markdown)."""
    rows = "".join(
        f"<tr><td {CELL_STYLE}><code>{html.escape(cell.grade_id)}</code></td>"
        f"<td {CELL_STYLE}>{cell.points:g} / {cell.max_points:g}</td>"
        f"<td {CELL_STYLE}>{'passed' if cell.verified else html.escape(cell.message)}</td></tr>"
        for cell in result.cells
    )
    return (
        f"## Grading summary: {result.final_score:g} / {result.max_score:g}\n\n"
        f"{lateness_html(result)}"
        f"Status: **{html.escape(result.status)}**. {limits_html(result)}"
        "Each graded test was run twice: in this "
        "notebook, and again on your functions alone, in a separate clean process, on fresh "
        "random inputs. A test earns its points only when both runs pass.\n\n"
        f"<table><thead><tr><th {CELL_STYLE}>test</th><th {CELL_STYLE}>points</th>"
        f"<th {CELL_STYLE}>verification</th></tr></thead><tbody>{rows}</tbody></table>\n"
    )


def install_mathjax(feedback: Path) -> None:
    """A copy of MathJax 3 (the book's, from django-static-mathjax) beside the feedback pages."""
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    target = feedback / MATHJAX_FOLDER
    if (target / "tex-chtml.js").is_file():
        return
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(source / fonts, target / fonts, dirs_exist_ok=True)
    shutil.copy(source / "tex-chtml.js", target / "tex-chtml.js")


def offline_page(page: str) -> str:
    """nbgrader's feedback page with MathJax served locally and no script from another host."""
    page = MATHJAX2_CONFIG.sub("", page)
    page = REMOTE_SCRIPT.sub("", page)
    local = MATHJAX3.format(path=f"../{MATHJAX_FOLDER}/tex-chtml.js")
    return page.replace("</head>", local + "</head>", 1)


def feedback_page(api, course: Path, result: Result, student_id: str | None = None) -> str:
    """The student's feedback page: nbgrader's, from the autograded notebook and the gradebook
    of the course at ``course`` (where the student is ``student_id``, by default their name),
    made offline; or the page of what was expected."""
    student_id = result.student if student_id is None else student_id
    autograded = course / "autograded" / student_id / result.assignment
    if result.problem or not (autograded / f"{result.assignment}.ipynb").is_file():
        return problem_page(result)
    api.generate_feedback(result.assignment, student_id, force=True)
    produced = course / "feedback" / student_id / result.assignment
    produced = produced / f"{result.assignment}.html"
    if not produced.is_file():
        return problem_page(result)
    return offline_page(produced.read_text())


def feedback_path(out: Path, result: Result) -> Path:
    """Where a student's feedback page is handed out: ``out/feedback/<student>/<a>.html``."""
    return out / "feedback" / result.student / f"{result.assignment}.html"


def problem_page(result: Result) -> str:
    """The feedback page of a submission that could not be graded: what was expected."""
    title = f"{result.assignment}: {result.student}"
    rows = "".join(
        f"<tr><td {CELL_STYLE}><code>{html.escape(c.grade_id)}</code></td>"
        f"<td {CELL_STYLE}>0 / {c.max_points:g}</td></tr>"
        for c in result.cells
    )
    expected = f"{result.assignment}/{result.assignment}.ipynb"
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"</head><body><h1>{html.escape(title)}</h1>"
        f"<p>Score 0 / {result.max_score:g}. Status: <b>{html.escape(result.status)}</b>. "
        f"{limits_html(result)}</p>"
        f"<p>{html.escape(result.problem or 'The notebook could not be graded.')}</p>"
        f"<p>What was expected: one notebook, <code>{html.escape(expected)}</code>, a valid "
        "Jupyter notebook made from the released assignment.</p>"
        f"<table><tr><th {CELL_STYLE}>test</th><th {CELL_STYLE}>points</th></tr>{rows}</table>"
        "</body></html>"
    )


# A cell that starts with one of these is a formula to a spreadsheet (OWASP, "CSV Injection"):
# ``=HYPERLINK(...)`` in a student's folder name must arrive as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula: with a leading ``'`` when it
    starts like one (the quote is how spreadsheets mark a text cell; OWASP's advice)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_csv(
    path: Path, results: list[Result], scores: dict[tuple[str, str], tuple[float, float]]
) -> None:
    """One row per student and assignment ever graded; scores as the gradebook holds them,
    ``score`` after the late penalty (as ``nbgrader export`` computes it)."""
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in sorted(results, key=lambda r: (r.student, r.assignment)):
            failed = [c.grade_id for c in r.cells if c.points < c.max_points]
            final, raw, penalty = scored(r, scores)
            row = [
                r.student,
                r.assignment,
                f"{final:g}",  # scores are never negative: never quoted
                f"{r.max_score:g}",
                r.status,
                " ".join(failed),
                "bubblewrap" if r.isolated else "none",
                r.timestamp or "",
                r.duedate or "",
                f"{raw:g}",
                f"{penalty:g}",
            ]
            writer.writerow([spreadsheet_text(cell) for cell in row])
    temporary.replace(path)


def closing_table(
    results: list[Result],
    graded: int,
    absent: int,
    reused: int,
    seconds: float,
    out: Path,
    config: Path | None = None,
    flagged: int | None = None,
) -> str:
    """What the console shows at the end: counts by status, time, where the outputs are
    (``flagged``: the pairs the similarity report lists, when it was written)."""
    counts = Counter(status.split(":")[0] for r in results for status in r.statuses or ["ok"])
    lines = [
        f"graded {graded} notebook(s) in {seconds:.0f} s; {reused} unchanged since the last "
        f"run; {absent} new row(s) with nothing submitted",
        f"{'status':<24} rows",
        *(f"{status:<24} {count}" for status, count in sorted(counts.items())),
    ]
    late = [r for r in results if r.seconds_late]
    if late:
        taken = sum(r.late_penalty for r in late)
        lines.append(f"late: {len(late)} row(s), {taken:g} point(s) taken off in all")
    peaks = {key: max((r.usage.get(key, 0) for r in results), default=0) for key in PEAKS}
    if any(peaks.values()):
        lines.append(
            f"most of one submission: {peaks['peak_processes']} processes and threads (cap "
            f"{MAX_PROCESSES}), {peaks['peak_disk_bytes'] / MiB:.0f} MiB and "
            f"{peaks['peak_files']} files on disk (caps {MAX_DISK_BYTES // MiB} MiB, "
            f"{MAX_FILES:,})"
        )
    lines += [
        f"grades:   {out / 'grades.csv'}",
        f"feedback: {out / 'feedback'}",
        f"report:   {out / 'report.html'}",
    ]
    if flagged is not None:
        lines.append(f"similar:  {out / 'similarity.html'} ({flagged} flagged pair(s))")
    lines.append(
        f"to an LMS: python -m autograder export {out} --format canvas (or moodle, blackboard, "
        "csv; --roster FILE)"
    )
    if config is not None:
        lines.append(f"due dates and late penalty: {config}")
    return "\n".join(lines)
