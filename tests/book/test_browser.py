"""A student's feedback page in headless Chromium with every other host blocked (the book's own
pages are opened by the tests of the book's build, ``test_book.py``).

Needs Debian's `chromium`, which `make test` installs through tools/system-packages. Without it
the test fails, so a missing browser can never pass unnoticed.
"""

from __future__ import annotations

import pytest
from support import BUILD, ROOT, offline_page


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory):
    """A feedback page of a graded solution that fails one test: ``out/feedback/<s>/<a>.html``."""
    import json
    import subprocess
    import sys

    from autograder import assignments
    from autograder.authoring.examples import apply_edits, fill
    from autograder.authoring.release import release

    root = tmp_path_factory.mktemp("feedback")
    student = json.loads(release(root / "release", ["cells"], validate=False)["cells"].read_text())
    mistake = next(iter(assignments.get("cells").mistakes().values()))
    notebook = fill(
        student, apply_edits(assignments.get("cells").solution_code(), mistake["edits"])
    )
    target = root / "submitted" / "ada" / "cells" / "cells.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(notebook))
    command = [sys.executable, "-m", "autograder", "grade", str(root / "submitted")]
    command += ["--out", str(root / "out"), "--assignment", "cells"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=900)
    return root / "out" / "feedback", mistake


def test_a_feedback_page_renders_offline_and_shows_no_grading_code(feedback_page):
    """Math typeset by the local MathJax, nothing from another host, the cause named, and no
    traceback through the hidden checks."""
    folder, mistake = feedback_page
    with offline_page() as (page, requested):
        page.goto((folder / "ada" / "cells.html").as_uri(), wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup", timeout=30_000)
        page.evaluate("() => MathJax.startup.promise")
        rendered = page.locator("mjx-container").count()
        text = page.inner_text("body")
        header = page.locator("table th").all_inner_texts()[:3]
        (BUILD / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(BUILD / "screenshots" / "feedback.png"))
    assert rendered > 0
    assert all(url.startswith("file://") for url in requested), requested
    assert mistake["feedback"].lower() in text.lower()
    assert "checks.py" not in text and "harness.py" not in text
    assert header == ["test", "points", "verification"]
