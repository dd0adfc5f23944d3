"""Find each student's notebook for each assignment in a folder of submissions, as classes make it.

nbgrader's layout is ``SUBMITTED/<student>/<assignment>/<assignment>.ipynb``. Real folders,
from nbgrader's exchange or from a learning-management system's download, differ from it:

- an assignment folder in other letter case (``BPTT/``) is used as it is;
- one notebook under another name (``bptt (1).ipynb``, ``Untitled.ipynb``) is graded, with the
  status ``renamed_notebook``; beside the expected one, or several of them, ``several_notebooks``
  names them all and says which one was graded;
- what cannot be graded gets a status that says why (``not_submitted``, ``missing_notebook``,
  ``invalid_notebook: not a JSON object``, ``symlink_refused``, ...) and a message for the student.

Symbolic links are never followed: a link could point at the instructor's notebook or at
another student's. nbgrader's ``timestamp.txt`` is read when present.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import parse_utc

from autograder.isolation.policy import MAX_NOTEBOOK_BYTES


@dataclass
class Submission:
    """One student's work for one assignment, as found on disk (plain data)."""

    student: str
    assignment: str
    notebook: dict | None = None  # the parsed notebook, None when it cannot be graded
    name: str | None = None  # the file graded, relative to the student's folder
    statuses: list[str] = field(default_factory=list)
    problem: str = ""  # what the student is told when nothing could be graded
    timestamp: str | None = None  # nbgrader's timestamp.txt, as written
    digest: str = ""  # identifies the content: unchanged digest, unchanged grade


def _clean(text: str) -> str:
    """A name or message safe inside a status (statuses are joined with ';')."""
    return re.sub(r"[;\r\n]+", " ", text)[:200]


def stand_in(student: str) -> str:
    """The text that names a student folder whose name is not valid UTF-8 (an archive made with
    another encoding): its bytes, escaped (``M\\xfcller (not UTF-8)``)."""
    raw = student.encode("utf-8", "surrogateescape")
    escaped = raw.decode("utf-8", "backslashreplace")
    if len(escaped) > 160:  # escaping quadruples a byte: keep a folder name under 255 bytes
        escaped = f"{escaped[:120]}...{hashlib.sha256(raw).hexdigest()[:12]}"
    return f"{escaped} (not UTF-8)"


def find_submission(submitted: Path, student: str, assignment: str) -> Submission:
    """Locate, read and validate ``student``'s notebook for ``assignment`` under ``submitted``."""
    found = Submission(student, assignment)
    try:
        student.encode("utf-8")
    except UnicodeEncodeError:  # no gradebook, page or spreadsheet can store the name
        found.student = stand_in(student)
        found.statuses.append("invalid_student_id: the folder name is not valid UTF-8")
        found.problem = (
            "The name of your folder is not valid UTF-8 text, so no grade can be stored under "
            "it: ask your instructor to rename the folder."
        )
    else:
        _locate(Path(submitted) / student, found)
    hasher = hashlib.sha256(json.dumps([found.statuses, found.problem, found.name]).encode())
    if found.notebook is not None:
        hasher.update(json.dumps(found.notebook, sort_keys=True).encode())
    hasher.update(str(found.timestamp).encode())
    found.digest = hasher.hexdigest()
    return found


def _locate(folder: Path, found: Submission) -> None:
    assignment = found.assignment
    matches = sorted(p for p in folder.iterdir() if p.name.lower() == assignment)
    exact = [p for p in matches if p.name == assignment]
    if not matches:
        found.statuses.append("not_submitted")
        found.problem = f"There is no folder {assignment}/ in your submission."
        return
    if len(matches) > 1 and not exact:
        names = ", ".join(p.name for p in matches)
        found.statuses.append(f"several_folders: {_clean(names)}")
        found.problem = f"Several folders could be {assignment}/ ({names}): keep only one."
        return
    chosen = (exact or matches)[0]
    if chosen.is_symlink():
        found.statuses.append(f"symlink_refused: {_clean(chosen.name)}")
        found.problem = f"{chosen.name} is a symbolic link; submit the folder itself."
        return
    if not chosen.is_dir():
        found.statuses.append(f"missing_notebook: {_clean(chosen.name)} is not a folder")
        found.problem = f"{chosen.name} should be a folder holding {assignment}.ipynb."
        return
    found.timestamp = _timestamp(chosen, found)
    _choose_notebook(chosen, found)


# A date, a time, and optionally an offset or a zone name of the zone database (letters, digits
# and ``_+-``, in parts joined by ``/``): never a file path such as ``/dev/stdin`` or ``../x``.
TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?"
    r"( ?([+-]\d\d:?\d\d|Z|[A-Za-z][\w+-]*(/[A-Za-z][\w+-]*)*))?"
)


def _timestamp(folder: Path, found: Submission) -> str | None:
    path = folder / "timestamp.txt"
    if not path.is_file() or path.is_symlink():
        return None
    text = path.read_text(errors="replace").strip()[:100]
    try:
        if not TIMESTAMP.fullmatch(text):  # a zone that is a path would be opened by dateutil
            raise ValueError(text)
        parse_utc(text)
    except (ValueError, OverflowError):  # dateutil's ParserError is a ValueError
        found.statuses.append(f"invalid_timestamp: {_clean(text)}")
        return None
    return text


def _choose_notebook(folder: Path, found: Submission) -> None:
    expected = f"{found.assignment}.ipynb"
    entries = sorted(folder.iterdir())
    candidates = [p for p in entries if p.suffix.lower() == ".ipynb" and p.name[0] != "."]
    links = [p for p in candidates if p.is_symlink()]
    files = [p for p in candidates if p.is_file() and not p.is_symlink()]
    if links:
        found.statuses.append(f"symlink_refused: {_clean(', '.join(p.name for p in links))}")
    lms_copies = [
        p for p in files if re.fullmatch(rf"{found.assignment} ?(\(\d+\))?\.ipynb", p.name, re.I)
    ]
    if any(p.name == expected for p in files):
        chosen = folder / expected
    elif len(files) == 1:
        chosen = files[0]
    elif len(lms_copies) == 1:
        chosen = lms_copies[0]
    else:
        chosen = None
    if len(files) > 1:
        names = ", ".join(p.name for p in files)
        graded = f" (graded {chosen.name})" if chosen else ""
        found.statuses.append(f"several_notebooks: {_clean(names)}{graded}")
    if chosen is None:
        seen = ", ".join(p.name for p in entries if p.name[0] != ".") or "nothing"
        if not files:
            found.statuses.append("missing_notebook")
            found.problem = f"No notebook {expected} in {folder.name}/ (it holds: {seen})."
        else:
            found.problem = (
                f"Several notebooks and none named {expected} in {folder.name}/: keep only "
                f"{expected}."
            )
        return
    if chosen.name != expected:
        found.statuses.append(f"renamed_notebook: {_clean(chosen.name)}")
    found.name = f"{folder.name}/{chosen.name}"
    found.notebook, problem = read_notebook(chosen)
    if found.notebook is None:
        found.statuses.append(f"invalid_notebook: {_clean(problem)}")
        found.problem = f"{chosen.name} could not be read as a notebook: {problem}."


def read_notebook(path: Path) -> tuple[dict | None, str]:
    """The notebook at ``path`` as a dict, or None and what is wrong with it."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB"
        data = path.read_bytes()
    except OSError as error:
        return None, f"unreadable ({error.strerror or error})"
    if not data.strip():
        return None, "an empty file"
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as error:
        return None, f"not JSON (line {error.lineno}, column {error.colno})"
    except RecursionError:
        return None, "nested too deeply"
    if not isinstance(notebook, dict):
        return None, "not a JSON object"
    if notebook.get("nbformat") != 4:
        return None, f"nbformat {notebook.get('nbformat')!r}, expected 4"
    try:
        with warnings.catch_warnings():  # nbformat's notes on missing cell ids: not our concern
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(notebook))
    except RecursionError:
        return None, "nested too deeply"
    except (nbformat.ValidationError, TypeError, KeyError, AttributeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, f"not a valid notebook ({first[:120]})"
    return notebook, ""
