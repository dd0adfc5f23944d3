"""Due dates and late penalties: the course configuration file and nbgrader's late plugins.

The instructor writes one TOML file and passes it with ``grade --config`` (an annotated
example: ``autograder/course.example.toml``)::

    [due]                                   # every due date; an assignment not listed has none
    cells = "2026-10-05 23:59:00 Europe/Berlin"
    [extensions.cells]                      # hours added to one student's due date
    alice = 48
    [late_penalty]                          # an nbgrader LateSubmissionPlugin and its options
    plugin = "autograder.pipeline.late.PercentPerDay"
    percent_per_day = 10

Due dates and extensions are stored where nbgrader keeps them (``Assignment.duedate``,
``SubmittedAssignment.extension``), lateness comes from the submission's ``timestamp.txt``, and
the penalty is computed as nbgrader's ``AssignLatePenalties`` computes it, but on the final,
verified score, and stored in ``SubmittedNotebook.late_submission_penalty``: ``nbgrader
export``, formgrader and the feedback pages show it. Penalties are applied again on every run,
so a changed due date or policy changes the grades without grading anything again.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dateutil.parser
import dateutil.tz
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import BasePlugin, LateSubmissionPlugin
from traitlets import Float, TraitError
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from autograder.assignments import names as assignment_names
from autograder.pipeline.results import Result

EXAMPLE_DATE = '"2026-10-05 23:59:00 UTC" or "2026-10-05 23:59:00 Europe/Berlin"'


class PolicyError(ValueError):
    """The course configuration is wrong; the message is one line naming the setting."""


class PercentPerDay(LateSubmissionPlugin):
    """A late penalty of a share of the score for each day (or part of one) past the due date.

    Usable by stock nbgrader too: ``c.AssignLatePenalties.plugin_class =
    "autograder.pipeline.late.PercentPerDay"`` and ``c.PercentPerDay.percent_per_day = 10``.
    """

    percent_per_day = Float(10.0, min=0.0, max=100.0, help="percent of the score per day late").tag(
        config=True
    )
    max_percent = Float(
        100.0, min=0.0, max=100.0, help="the penalty never exceeds this percent"
    ).tag(config=True)
    grace_minutes = Float(0.0, min=0.0, help="minutes after the due date that cost nothing").tag(
        config=True
    )

    def days_late(self, total_seconds_late: float) -> int:
        """Days late, each started day counted, after the grace period."""
        late = total_seconds_late - 60 * self.grace_minutes
        return math.ceil(late / 86400) if late > 0 else 0

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        percent = min(self.max_percent, self.percent_per_day * self.days_late(total_seconds_late))
        return score * percent / 100

    def describe(self) -> str:
        grace = f" after {self.grace_minutes:g} minutes of grace" if self.grace_minutes else ""
        return (
            f"{self.percent_per_day:g}% of the score for each started day late{grace}, "
            f"at most {self.max_percent:g}%"
        )


def describe(plugin: BasePlugin) -> str:
    """The late policy in words, for the feedback pages."""
    if hasattr(plugin, "describe"):
        return plugin.describe()
    if isinstance(plugin, LateSubmissionPlugin):
        return {"none": "no penalty", "zero": "a late notebook scores 0"}[plugin.penalty_method]
    return type(plugin).__name__


@dataclass
class Policy:
    """Due dates (UTC, naive, as nbgrader stores them), extensions in hours, and the plugin.

    ``source`` is the configuration file's text, None without one: the gradebook's due dates
    (set with ``nbgrader db assignment add --duedate`` or formgrader) are then used as they are.
    """

    due: dict[str, datetime | None] = field(default_factory=dict)
    extensions: dict[str, dict[str, float]] = field(default_factory=dict)
    plugin: BasePlugin = field(default_factory=LateSubmissionPlugin)
    source: str | None = None
    penalty: dict = field(default_factory=dict)  # the [late_penalty] table the plugin came from


def parse_due(value: object, where: str) -> datetime:
    """A due date with an explicit time zone, as naive UTC; anything else is a PolicyError."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        parts = value.split()
        zone = None
        if len(parts) == 3 and not parts[2].lstrip("+-").isdigit():
            zone = dateutil.tz.gettz(parts[2])
            if zone is None:
                raise PolicyError(f"{where}: unknown time zone {parts[2]!r} in {value!r}")
            value = " ".join(parts[:2])
        try:
            moment = dateutil.parser.parse(value)
        except (ValueError, OverflowError):
            raise PolicyError(f"{where}: not a date: {value!r} (e.g. {EXAMPLE_DATE})") from None
        if zone is not None:
            moment = moment.replace(tzinfo=zone)
    elif isinstance(value, date):
        raise PolicyError(f"{where}: {value} has no time of day (e.g. {EXAMPLE_DATE})")
    else:
        raise PolicyError(f"{where}: expected a date in quotes (e.g. {EXAMPLE_DATE})")
    if moment.tzinfo is None:
        raise PolicyError(f"{where}: {str(value)!r} has no time zone (e.g. {EXAMPLE_DATE})")
    return moment.astimezone(UTC).replace(tzinfo=None)


def _table(data: dict, key: str, where: str = "") -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where}{key}: expected a table ([{where}{key}])")
    return value


def _assignment(name: str, where: str) -> None:
    if name not in assignment_names():
        known = ", ".join(assignment_names())
        raise PolicyError(f"{where}: unknown assignment {name!r} (one of {known})")


def load_plugin(settings: dict) -> BasePlugin:
    """The late-penalty plugin named by ``[late_penalty]``, configured with its other keys."""
    settings = dict(settings)
    name = settings.pop("plugin", "nbgrader.plugins.LateSubmissionPlugin")
    if not isinstance(name, str):
        raise PolicyError("late_penalty.plugin: expected a class name in quotes")
    try:
        cls = import_item(name)
    except (ImportError, AttributeError, ValueError):
        raise PolicyError(f"late_penalty.plugin: cannot import {name!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, BasePlugin)):
        raise PolicyError(f"late_penalty.plugin: {name} is not an nbgrader plugin class")
    if not hasattr(cls, "late_submission_penalty"):
        raise PolicyError(f"late_penalty.plugin: {name} has no late_submission_penalty method")
    options = sorted(cls.class_trait_names(config=True))
    for key in settings:
        if key not in options:
            known = ", ".join(options) or "none"
            raise PolicyError(f"late_penalty.{key}: {cls.__name__} has no such option ({known})")
    try:
        return cls(config=Config({cls.__name__: settings}))
    except TraitError as error:
        first = str(error).strip().splitlines()[0]
        raise PolicyError(f"late_penalty: {first}") from None


KEPT = "course.toml"  # the configuration last used, kept in the grading folder


def course_policy(config: Path | None, out: Path) -> Policy:
    """The policy of ``config``, or else of the one kept in ``out`` by an earlier run, or none:
    a run without ``--config`` keeps the due dates and penalty of the last one."""
    if config is None and (Path(out) / KEPT).is_file():
        config = Path(out) / KEPT
    return load_policy(config) if config is not None else Policy()


def keep_policy(policy: Policy, out: Path) -> Path | None:
    """Keep the policy's configuration in ``out`` for the next run; its path, or None."""
    if policy.source is None:
        return None
    path = Path(out) / KEPT
    if not path.is_file() or path.read_text() != policy.source:
        path.write_text(policy.source)
    return path


def load_policy(path: Path) -> Policy:
    """Read the course configuration (see the module docstring)."""
    try:
        source = Path(path).read_text()
        data = tomllib.loads(source)
    except OSError as error:
        raise PolicyError(f"cannot read {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path} is not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"due", "extensions", "late_penalty"})
    if unknown:
        raise PolicyError(f"{unknown[0]}: unknown section (expected due, extensions, late_penalty)")
    due: dict[str, datetime | None] = dict.fromkeys(assignment_names())
    for name, value in _table(data, "due").items():
        _assignment(name, f"due.{name}")
        due[name] = parse_due(value, f"due.{name}")
    extensions: dict[str, dict[str, float]] = {}
    for name, students in _table(data, "extensions").items():
        _assignment(name, f"extensions.{name}")
        students = _table(data["extensions"], name, "extensions.")
        for student, hours in students.items():
            if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
                where = f"extensions.{name}.{student}"
                raise PolicyError(f"{where}: expected a number of hours >= 0, got {hours!r}")
        extensions[name] = {student: float(hours) for student, hours in students.items()}
    penalty = _table(data, "late_penalty")
    return Policy(due, extensions, load_plugin(penalty), source=source, penalty=penalty)


def set_due_dates(db_url: str, policy: Policy, assignments: list[str]) -> None:
    """Store the configured due dates of ``assignments`` and of every assignment the gradebook
    already holds (without a configuration file, leave the gradebook's as they are)."""
    if policy.source is None:
        return
    with Gradebook(db_url) as gradebook:
        known = {assignment.name for assignment in gradebook.assignments}
        for name in assignment_names():
            if name in assignments or name in known:
                gradebook.update_or_create_assignment(name, duedate=policy.due[name])


def assess(gradebook: Gradebook, result: Result, policy: Policy) -> bool:
    """Set ``result``'s extension, lateness and penalty in the gradebook and in ``result``;
    True when they differ from what ``result`` held before."""
    try:
        submission = gradebook.find_submission(result.assignment, result.student)
        notebook = gradebook.find_submission_notebook(
            result.assignment, result.assignment, result.student
        )
    except MissingEntry:
        return False
    hours = policy.extensions.get(result.assignment, {}).get(result.student)
    submission.extension = timedelta(hours=hours) if hours else None
    gradebook.db.flush()
    seconds_late = float(submission.total_seconds_late)
    penalty = None
    if seconds_late > 0:
        penalty = policy.plugin.late_submission_penalty(
            result.student, notebook.score, seconds_late
        )
    if penalty is not None:
        penalty = min(max(float(penalty), 0.0), float(notebook.score))  # as nbgrader clips it
    notebook.late_submission_penalty = penalty
    gradebook.db.commit()
    due = submission.duedate.isoformat() + "+00:00" if submission.duedate else None
    before = (result.duedate, result.seconds_late, result.late_penalty, result.late_policy)
    result.duedate, result.seconds_late = due, seconds_late
    result.late_penalty = penalty or 0.0
    result.late_policy = describe(policy.plugin) if result.late_penalty else ""
    return before != (result.duedate, result.seconds_late, result.late_penalty, result.late_policy)


def assess_all(db_url: str, results: list[Result], policy: Policy) -> list[Result]:
    """Assess every result (one gradebook session); return those whose lateness changed."""
    with Gradebook(db_url) as gradebook:
        return [result for result in results if assess(gradebook, result, policy)]
