"""The class report: what one grading run says about the class, per assignment.

``report.json`` holds the numbers for scripts; ``report.html`` shows them, offline (figures are
PNG images inside the page, drawn by matplotlib, each with alt text; no script, no other host):

- the distribution of final scores (after late penalties), as a histogram;
- the pass rate of every graded test, in the notebook run and after verification;
- the causes of failure, ranked by how many students hit each, with links to their feedback.
  A cause is a catalogued mistake (``solutions/<a>/mistakes.py``) whose feedback phrase the
  message contains; a message that names none is grouped with the messages that read the same
  once numbers, arrays and parenthesised details are taken out;
- the statuses with their counts, and the late submissions with their penalties.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from matplotlib.figure import Figure

from autograder import assignments as registry
from autograder.pipeline.results import Result

REPORT_HTML, REPORT_JSON = "report.html", "report.json"
NOT_SUBMITTED = "not_submitted"
STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;
color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{padding:2px 10px;
text-align:left;vertical-align:top;border-bottom:1px solid #ddd}td.n{text-align:right}
img{max-width:100%}details{margin:.2rem 0}code{font-size:90%}.note{color:#555}"""


def catalogue(assignment: str) -> dict[str, list[str]]:
    """Feedback phrase -> the descriptions of the catalogued mistakes it names."""
    phrases: dict[str, list[str]] = defaultdict(list)
    for name, mistake in registry.get(assignment).mistakes().items():
        phrases[mistake["feedback"]].append(mistake.get("description", name))
    return dict(phrases)


def other_cause(message: str) -> str:
    """A message that names no catalogued mistake, as it reads without its case details."""
    text = re.sub(r"\([^()]*\)", "", message)
    text = re.sub(r"\[[^\[\]]*\]", "[...]", text)
    text = re.sub(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", "#", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:200] + ("..." if len(text) > 200 else "")


def causes_of(message: str, phrases: dict[str, list[str]]) -> list[str]:
    """The catalogued phrases ``message`` contains (longest first), or its :func:`other_cause`."""
    lower = message.lower()
    named = [phrase for phrase in phrases if phrase.lower() in lower]
    # A phrase inside a longer named one is the same cause said shorter.
    named = [p for p in named if not any(p != q and p.lower() in q.lower() for q in named)]
    return sorted(named, key=len, reverse=True) or [other_cause(message)]


def _submitted(result: Result) -> bool:
    return not any(status.startswith(NOT_SUBMITTED) for status in result.statuses)


def assignment_summary(assignment: str, results: list[Result]) -> dict:
    """The numbers of one assignment (plain data: what ``report.json`` holds)."""
    phrases = catalogue(assignment)
    handed_in = [r for r in results if _submitted(r)]
    scores = [r.final_score for r in handed_in]
    maximum = max((r.max_score for r in results), default=0.0)
    tests = {}
    for result in handed_in:
        for cell in result.cells:
            entry = tests.setdefault(
                cell.grade_id, {"points": cell.max_points, "notebook": 0, "verified": 0}
            )
            entry["notebook"] += cell.nbgrader_points >= cell.max_points
            entry["verified"] += cell.points >= cell.max_points
    for entry in tests.values():
        for key in ("notebook", "verified"):
            entry[f"{key}_rate"] = entry[key] / len(handed_in)
    hits: dict[str, dict] = {}
    for result in handed_in:
        if result.problem:  # nothing ran: its status says why
            continue
        for cell in result.cells:
            if cell.points >= cell.max_points:
                continue
            for cause in causes_of(cell.message, phrases):
                hit = hits.setdefault(
                    cause,
                    {"cause": cause, "catalogued": phrases.get(cause, []), "students": {}},
                )
                hit["students"].setdefault(result.student, []).append(cell.grade_id)
    causes = sorted(hits.values(), key=lambda h: (-len(h["students"]), h["cause"]))
    for hit in causes:
        hit["tests"] = sorted({t for ids in hit["students"].values() for t in ids})
        hit["students"] = sorted(hit["students"])
    statuses = Counter(s.split(":")[0] for r in results for s in r.statuses or ["ok"])
    late = [
        {
            "student": r.student,
            "hours_late": round(r.seconds_late / 3600, 2),
            "penalty": r.late_penalty,
        }
        for r in sorted(results, key=lambda r: -r.seconds_late)
        if r.seconds_late
    ]
    return {
        "rows": len(results),
        "submitted": len(handed_in),
        "max_score": maximum,
        "scores": sorted(scores),
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None,
        "full_marks": sum(s >= maximum for s in scores),
        "zero": sum(s == 0 for s in scores),
        "tests": tests,
        "causes": causes,
        "statuses": dict(sorted(statuses.items())),
        "late": late,
        "points_taken_off": sum(entry["penalty"] for entry in late),
    }


def summarise(results: list[Result]) -> dict:
    """Every assignment's :func:`assignment_summary`, by name."""
    by_assignment: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_assignment[result.assignment].append(result)
    return {a: assignment_summary(a, rows) for a, rows in sorted(by_assignment.items())}


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _image(figure: Figure, alt: str) -> str:
    return f'<img src="data:image/png;base64,{_png(figure)}" alt="{html.escape(alt)}">'


def score_histogram(assignment: str, summary: dict) -> str:
    """The histogram of final scores, one bar per point, as an ``<img>`` with its alt text."""
    figure = Figure(figsize=(6.4, 2.6))
    axes = figure.subplots()
    top = summary["max_score"]
    axes.hist(summary["scores"], bins=[i for i in range(int(top) + 2)], color="#4477aa", rwidth=0.9)
    axes.set_xlabel(f"final score (out of {top:g})")
    axes.set_ylabel("submissions")
    axes.set_title(f"{assignment}: {summary['submitted']} submissions")
    alt = (
        f"Histogram of the final scores of {assignment}: {summary['submitted']} submissions out "
        f"of {top:g} points, median {summary['median']:g}, {summary['full_marks']} at full marks "
        f"and {summary['zero']} at zero."
    )
    return _image(figure, alt)


def pass_rate_chart(assignment: str, summary: dict) -> str:
    """Each test's verified pass rate as a horizontal bar, as an ``<img>`` with its alt text."""
    tests = summary["tests"]
    names = list(tests)
    rates = [100 * tests[name]["verified_rate"] for name in names]
    figure = Figure(figsize=(6.4, 0.25 * len(names) + 0.9))
    axes = figure.subplots()
    axes.barh(names, rates, color="#228833")
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("submissions passing, after verification (%)")
    axes.tick_params(axis="y", labelsize=8)
    lowest = min(names, key=lambda n: tests[n]["verified_rate"])
    alt = (
        f"Bar chart of the pass rate of each of the {len(names)} tests of {assignment}; the "
        f"lowest is {lowest} at {100 * tests[lowest]['verified_rate']:.0f} %."
    )
    return _image(figure, alt)


def _feedback_link(student: str, assignment: str) -> str:
    href = f"feedback/{quote(student, safe='')}/{quote(assignment, safe='')}.html"
    return f'<a href="{html.escape(href)}">{html.escape(student)}</a>'


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def assignment_section(assignment: str, s: dict) -> str:
    """The HTML of one assignment's part of the report."""
    e = html.escape
    parts = [f'<h2 id="{e(assignment)}">{e(assignment)}</h2>']
    if not s["submitted"]:
        parts.append(f"<p>{s['rows']} row(s), nothing submitted.</p>")
        return "\n".join(parts)
    parts.append(
        f"<p>{s['submitted']} submitted of {s['rows']} row(s). Final score (after late "
        f"penalties): mean {s['mean']:.1f}, median {s['median']:g} of {s['max_score']:g}; "
        f"{s['full_marks']} at full marks, {s['zero']} at zero.</p>"
    )
    parts.append(score_histogram(assignment, s))
    parts.append("<h3>Tests</h3>")
    if s["tests"]:
        parts.append(pass_rate_chart(assignment, s))
    rows = "".join(
        f"<tr><td><code>{e(name)}</code></td><td class=n>{t['points']:g}</td>"
        f"<td class=n>{_percent(t['notebook_rate'])}</td>"
        f"<td class=n>{_percent(t['verified_rate'])}</td></tr>"
        for name, t in s["tests"].items()
    )
    parts.append(
        "<table><tr><th>test</th><th>points</th><th>passed in the notebook</th>"
        f"<th>passed after verification</th></tr>{rows}</table>"
    )
    parts.append(
        "<h3>Causes of failure</h3><p class=note>Ranked by the number of students whose "
        "feedback names the cause; a catalogued mistake is named by its feedback phrase.</p>"
    )
    rows = []
    for hit in s["causes"]:
        what = (
            f"<b>{e(hit['cause'])}</b><br><span class=note>{e('; '.join(hit['catalogued']))}</span>"
            if hit["catalogued"]
            else e(hit["cause"])
        )
        links = ", ".join(_feedback_link(student, assignment) for student in hit["students"])
        tests = ", ".join(f"<code>{e(t)}</code>" for t in hit["tests"])
        rows.append(
            f"<tr><td class=n>{len(hit['students'])}</td><td>{what}</td><td>{tests}</td>"
            f"<td><details><summary>students</summary>{links}</details></td></tr>"
        )
    parts.append(
        "<table><tr><th>students</th><th>cause</th><th>tests</th><th>feedback</th></tr>"
        f"{''.join(rows)}</table>"
        if rows
        else "<p>No test failed.</p>"
    )
    statuses = "".join(
        f"<tr><td><code>{e(status)}</code></td><td class=n>{count}</td></tr>"
        for status, count in s["statuses"].items()
    )
    parts.append(f"<h3>Statuses</h3><table><tr><th>status</th><th>rows</th></tr>{statuses}</table>")
    parts.append("<h3>Late submissions</h3>")
    if s["late"]:
        late = "".join(
            f"<tr><td>{_feedback_link(row['student'], assignment)}</td>"
            f"<td class=n>{row['hours_late']:g}</td><td class=n>{row['penalty']:g}</td></tr>"
            for row in s["late"]
        )
        parts.append(
            f"<p>{len(s['late'])} late row(s), {s['points_taken_off']:g} point(s) taken off in "
            "all (due dates and penalty: the course configuration).</p><table><tr><th>student"
            f"</th><th>hours late</th><th>points taken off</th></tr>{late}</table>"
        )
    else:
        parts.append("<p>None.</p>")
    return "\n".join(parts)


def render(summary: dict, links: dict[str, str] | None = None) -> str:
    """The whole report page; ``links`` adds a line of links to other outputs (label -> href)."""
    toc = " &middot; ".join(f'<a href="#{html.escape(a)}">{html.escape(a)}</a>' for a in summary)
    more = " &middot; ".join(
        f'<a href="{html.escape(href)}">{html.escape(label)}</a>'
        for label, href in (links or {}).items()
    )
    body = "\n".join(assignment_section(a, s) for a, s in summary.items())
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Class report</title>'
        f"<style>{STYLE}</style></head><body><h1>Class report</h1><p>{toc}</p>"
        f"<p>{more}</p>{body}</body></html>"
    )


def write_report(out: Path, results: list[Result], links: dict[str, str] | None = None) -> Path:
    """Write ``out/report.json`` and ``out/report.html``; return the page's path."""
    summary = summarise(results)
    for name, text in (
        (REPORT_JSON, json.dumps({"assignments": summary}, indent=1)),
        (REPORT_HTML, render(summary, links)),
    ):
        temporary = out / f"{name}.tmp"
        temporary.write_text(text)
        temporary.replace(out / name)
    return out / REPORT_HTML
