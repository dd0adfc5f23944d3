"""What the tests of every area share: the repository's paths, its table of contents, ways to run
the course's commands, and the browser. Fixtures live in each area's ``conftest.py``."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"


def _toc_entries() -> list[tuple[str, str | None]]:
    """(document, the chapter it goes further from, or None) in _toc.yml's reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries: list[tuple[str, str | None]] = [(toc["root"], None)]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            entries.append((chapter["file"], None))
            entries += [
                (section["file"], chapter["file"]) for section in chapter.get("sections", [])
            ]
    return entries


def toc_files() -> list[str]:
    """Every document named in _toc.yml, in reading order, without suffix."""
    return [name for name, _ in _toc_entries()]


def going_further_pages() -> dict[str, str]:
    """The "Going further" pages (a chapter's sections in _toc.yml): {page: its chapter}."""
    return {name: parent for name, parent in _toc_entries() if parent is not None}


def notebook_chapters() -> list[Path]:
    """The chapters that are MyST notebooks (they have a jupytext kernelspec)."""
    paths = [ROOT / f"{name}.md" for name in toc_files() if name.startswith("chapters/")]
    return [p for p in paths if "kernelspec:" in p.read_text().split("\n---", 1)[0]]


def run_module(
    module: str, args: tuple[str, ...], cwd: Path, timeout: float, env: dict | None = None
) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` in ``cwd`` with this interpreter, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def autograder_cli(*args: str, check: bool = True, timeout: float = 3600):
    """``python -m autograder ARGS`` from the repository; with ``check``, it must succeed."""
    result = run_module("autograder", args, cwd=ROOT, timeout=timeout)
    if check:
        assert result.returncode == 0, (
            f"python -m autograder {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def read_grades(out: Path) -> dict[tuple[str, str], dict]:
    """``out/grades.csv`` as {(student, assignment): row}, the student as the folder names them
    (the file writes a name that starts like a formula with a leading ``'``, kept in the row)."""

    def folder(name: str) -> str:
        quoted = name[:1] == "'" and name[1:2] in ("=", "+", "-", "@", "\t", "\r")
        return name[1:] if quoted else name

    with (out / "grades.csv").open(newline="") as handle:
        rows = csv.DictReader(handle)
        return {(folder(row["student"]), row["assignment"]): row for row in rows}


def processes_with(marker: str) -> list[int]:
    """The PIDs of the processes on this machine with ``marker`` as one of their arguments."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and marker.encode() in arguments:
            found.append(int(entry.name))
    return found


def wait_until(condition, seconds: float = 10, step: float = 0.05):
    """Call ``condition`` every ``step`` seconds until it returns something true, for at most
    ``seconds``; return its last value (the caller asserts on what it needs)."""
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(step)
    return value


def nbgrader(course: Path, *args: str) -> None:
    """Stock ``nbgrader ARGS`` in ``course``, as an instructor runs it (the venv first on PATH,
    no PYTHONPATH): it must succeed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    result = run_module("nbgrader", args, cwd=course, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's ``chromium`` (``make test`` installs it); a test that needs it fails without it,
    so a missing browser can never pass unnoticed."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if path:
        return path
    pytest.fail("Debian's `chromium` is not installed: run tools/system-packages", pytrace=False)


@contextmanager
def offline_page(width: int = 1280, height: int = 900) -> Iterator[tuple[object, list[str]]]:
    """A headless Chromium page that loads local files only: ``(page, every URL requested)``;
    a request for anything but a ``file://`` URL is refused (and listed)."""
    from playwright.sync_api import sync_playwright

    requested: list[str] = []

    def only_files(route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("**/*", only_files)
        try:
            yield page, requested
        finally:
            browser.close()


def execute_chapter(notebook, chapter: Path) -> None:
    """Run ``notebook`` from ``chapter``'s folder as the book's build does (its cell timeout);
    it must raise nowhere."""
    import nbclient

    timeout = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["timeout"]
    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(chapter.parent)}},
    )
    client.execute()
    assert not notebook_errors(notebook)


def notebook_errors(notebook) -> list[dict]:
    """The error outputs of an executed notebook's code cells."""
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
