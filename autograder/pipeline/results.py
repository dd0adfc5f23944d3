"""What grading one submission produces: plain data, stored as JSON between runs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


@dataclass
class CellResult:
    """One graded test cell: its points in the notebook run, the verification, the final points."""

    grade_id: str
    max_points: float
    nbgrader_points: float
    verified: bool
    points: float
    message: str = ""


@dataclass
class Result:
    """One student's grade for one assignment, with what the grader noticed (``statuses``)."""

    student: str
    assignment: str
    statuses: list[str] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    isolated: bool = True
    problem: str = ""  # what the student is told when nothing could be graded
    digest: str = ""  # the submission's content (see autograder.pipeline.intake)
    fingerprint: str = ""  # the grader's sources and options it was graded with
    timestamp: str | None = None  # nbgrader's timestamp.txt, as written
    duedate: str | None = None  # the student's due date (extension included), ISO, UTC
    seconds_late: float = 0.0
    late_penalty: float = 0.0  # points taken off the score (see autograder.pipeline.late)
    late_policy: str = ""  # the penalty's rule in words, when there is a penalty
    # The most the submission's code held at once, in the kernel or the sandbox, as measured by
    # autograder.isolation.supervisor: peak_processes, peak_disk_bytes, peak_files.
    usage: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        """The points of the graded tests, before any late penalty."""
        return sum(cell.points for cell in self.cells)

    @property
    def final_score(self) -> float:
        """The score after the late penalty, as nbgrader exports it."""
        return max(0.0, self.score - self.late_penalty)

    @property
    def max_score(self) -> float:
        return sum(cell.max_points for cell in self.cells)

    @property
    def status(self) -> str:
        return ";".join(self.statuses) or "ok"

    def save(self, path: Path) -> None:
        """Write the result as JSON, atomically: a run killed midway leaves no half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=1))
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Result:
        return cls.from_dict(json.loads(path.read_text()))

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        """The result whose ``dataclasses.asdict`` is ``data``."""
        known = {f.name for f in fields(cls)}
        data = {key: value for key, value in data.items() if key in known}  # older records
        data["cells"] = [CellResult(**cell) for cell in data["cells"]]
        return cls(**data)
