"""The book build, cold (no jupyter cache) and warm (everything cached), and the execution time
of every chapter.

The build runs ``make book`` (the release of the exercises, then ``jupyter-book build`` with
warnings as errors) in a temporary copy of the working tree, so that the user's ``_build`` and
its cache are untouched; the per-chapter times are jupyter-cache's records of that copy. The
tiny build is a book of one short page and one small notebook chapter.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_cache import get_cache

from bench import ratio

TITLE = "Book build (make book): cold and warm, and each chapter's execution"
ROOT = Path(__file__).resolve().parent.parent
TARGET_COLD = 180.0  # seconds, on two cores
TINY_TOC = "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/tiny\n"
TINY_INTRO = "# A tiny book\n\nOne page and {doc}`chapters/tiny`, to time the build itself.\n"
TINY_CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Tiny

```{code-cell} ipython3
sum(range(10))
```
"""


def copy_working_tree(destination: Path) -> None:
    """The files of the working tree that git tracks or would track, copied to destination."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted in the working tree is still listed as cached
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def make_tiny(book: Path) -> None:
    """Turn the copy into the tiny book: one short root page and one small chapter."""
    (book / "_toc.yml").write_text(TINY_TOC)
    (book / "intro.md").write_text(TINY_INTRO)
    (book / "chapters" / "tiny.md").write_text(TINY_CHAPTER)


def timed_build(book: Path) -> dict:
    """Wall-clock and CPU seconds (of all child processes) of ``make book`` in ``book``."""
    bin_dir = Path(sys.executable).parent
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        ["make", "-C", str(book), "book", "STAMP=", f"BIN={bin_dir}"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"make book failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": seconds, "cpu_seconds": cpu}


def chapter_times(book: Path) -> dict[str, float]:
    """Seconds of execution of every cached notebook, by path relative to the book."""
    records = get_cache(book / "_build" / ".jupyter_cache").list_cache_records()
    times = {str(Path(r.uri).relative_to(book)): r.data["execution_seconds"] for r in records}
    return dict(sorted(times.items(), key=lambda item: -item[1]))


def run(tiny: bool = False) -> dict:
    """A cold then a warm ``make book`` in a temporary copy; every chapter's execution time."""
    with tempfile.TemporaryDirectory(prefix="rnn-book-build-") as folder:
        book = Path(folder)
        copy_working_tree(book)
        if tiny:
            make_tiny(book)
        cold = timed_build(book)
        warm = timed_build(book)
        chapters = chapter_times(book)
    rows = [
        {
            "case": "cold build (no cache)",
            "measured": cold["seconds"],
            "reference": TARGET_COLD,
            "ratio": ratio(cold["seconds"], TARGET_COLD),
            "target": f"< {TARGET_COLD:g} s",
            "ok": cold["seconds"] < TARGET_COLD,
            "timing": "one run",
        },
        {"case": "warm build (all cached)", "measured": warm["seconds"], "timing": "one run"},
    ]
    rows += [
        {"case": f"execute {name}", "measured": seconds, "timing": "one run (cold build)"}
        for name, seconds in chapters.items()
    ]
    return {
        "rows": rows,
        "cold": cold,
        "warm": warm,
        "chapters": chapters,
        "execution_total": sum(chapters.values()),
        "target_cold": TARGET_COLD,
    }
