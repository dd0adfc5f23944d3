"""nbgrader's side of the course: its settings, a course folder, a gradebook, running nbgrader.

nbgrader creates its gradebook by running the ``alembic`` executable it finds on PATH, so every
nbgrader command here runs with this interpreter's ``bin`` folder first on PATH: the pipeline
works whether or not the virtual environment was activated. The grader itself creates its
gradebooks in-process first (:func:`create_gradebook`), which spares that process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder import assignments

COURSE_ID = "rnn-course"
GRADER_KERNEL = "rnn-grader"


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error; the message holds the end of its log."""


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment nbgrader and its kernels run in: venv first on PATH, repo importable."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(assignments.REPO), env.get("PYTHONPATH")])
    )
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")
    env.pop("JUPYTER_CONFIG_DIR", None)
    env.update(extra or {})
    return env


def settings(
    root: Path,
    db_url: str,
    *,
    cell_timeout: int = 30,
    kernel: str = "python3",
    room: Path | None = None,
) -> dict:
    """nbgrader's settings for a course rooted at ``root`` ("Class.trait" -> value).

    With ``room``, kernels are reached over Unix sockets in that folder instead of TCP, so an
    isolated kernel (:mod:`autograder.isolation.kernel`) needs no network.
    """
    sockets = {}
    if room is not None:
        sockets = {
            "KernelManager.transport": "ipc",
            "KernelManager.ip": str(Path(room) / "kernel"),
            "KernelManager.connection_file": str(Path(room) / "kernel.json"),
        }
    return {
        **sockets,
        "CourseDirectory.root": str(root),
        "CourseDirectory.course_id": COURSE_ID,
        "CourseDirectory.db_url": db_url,
        "Execute.timeout": cell_timeout,
        "Execute.kernel_name": kernel,
        "LimitOutput.max_lines": 200,
        "LimitOutput.max_traceback": 60,
        "ClearSolutions.code_stub": {"python": "# YOUR CODE HERE\nraise NotImplementedError()"},
    }


def write_config(root: Path, db_url: str, **options) -> None:
    """Write ``nbgrader_config.py`` for a course rooted at ``root`` (see :func:`settings`)."""
    lines = ["c = get_config()  # noqa: F821"]
    lines += [f"c.{key} = {value!r}" for key, value in settings(root, db_url, **options).items()]
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def nbgrader_api(root: Path, db_url: str, *, hooks: dict | None = None, **options):
    """nbgrader's Python API for the course at ``root``, in this process.

    Starting nbgrader's command line costs seconds of imports; the grading workers call the
    API instead. The process environment must come from :func:`environment` (for PATH).
    ``hooks`` adds settings that cannot live in a config file ("Class.trait" -> a callable).
    """
    from nbgrader.apps.api import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    for key, value in {**settings(root, db_url, **options), **(hooks or {})}.items():
        owner, trait = key.split(".")
        setattr(config[owner], trait, value)
    return NbGraderAPI(config=config)


def create_gradebook(db_url: str) -> None:
    """Create the gradebook at ``db_url`` unless it has tables: nbgrader's tables, stamped with
    the newest revision of nbgrader's migrations, as nbgrader itself would make it.

    nbgrader asks a separate ``alembic heads`` process for that revision, and the process
    imports nbgrader again: 2.5 s of CPU for every new gradebook, in every grading worker. The
    same migration scripts are read here, in this process, where nbgrader is imported already.
    """
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, inspect

    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            if inspect(connection).get_table_names():
                return
            Base.metadata.create_all(connection)
            migrations = Config()
            migrations.set_main_option("script_location", ALEMBIC_DIR)
            scripts = ScriptDirectory.from_config(migrations)
            MigrationContext.configure(connection).stamp(scripts, "head")
    finally:
        engine.dispose()


def copy_sources(root: Path, names: list[str]) -> None:
    """Copy each assignment's source notebook (only the notebook) into ``root/source``."""
    for name in names:
        target = root / "source" / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy(assignments.get(name).notebook, target / f"{name}.ipynb")


def run_nbgrader(root: Path, *args: str, timeout: float = 1800, env: dict | None = None) -> str:
    """Run ``nbgrader ARGS`` in the course at ``root``; return its log or raise NbgraderFailed."""
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=root,
        env=env or environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = result.stdout + result.stderr
    if result.returncode != 0 or "[ERROR]" in log:
        raise NbgraderFailed(f"nbgrader {' '.join(args)} failed:\n{log[-4000:]}")
    return log
