"""Open the built book in headless Chromium with every other host blocked, as a reader offline.

Checks, on every page of the table of contents: MathJax typeset the math (no raw TeX left in the
text), every image loaded, no code or output runs off the column (it wraps), no cell output shows
a traceback, and no request left localhost.
Saves a screenshot of the Gradients chapter to _build/screenshots/ for review.

Needs Debian's `chromium`, which `make test` installs through tools/system-packages. Without it
the test fails, so a missing browser can never pass unnoticed.
"""

from __future__ import annotations

import functools
import http.server
import threading
from urllib.parse import urlparse

import pytest
from support import BUILD, CHROMIUM_ARGS, ROOT, chromium_path, offline_page, toc_files

# Every figure a page makes carries alt text in its cell's metadata: each must be an image.
FIGURES = {
    name: (ROOT / f"{name}.md").read_text().count("\n  image:\n    alt:")
    for name in toc_files()
    if (ROOT / f"{name}.md").exists()
}
PAGES_WITH_MATH = {name for name in toc_files() if name.startswith("chapters/")} - {
    "chapters/references"
}

PAGE_REPORT = """() => {
  const article = document.querySelector("article") || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll("pre, code, script, mjx-container, .highlight").forEach(e => e.remove());
  const text = clone.innerText;
  const images = [...article.querySelectorAll("img")];
  return {
    rendered: article.querySelectorAll("mjx-container").length,
    mathErrors: article.querySelectorAll("mjx-merror").length,
    rawTex: ["$$", "\\\\begin{", "\\\\frac", "\\\\(", "\\\\["].filter(s => text.includes(s)),
    images: images.length,
    brokenImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    overflowingCode: [...article.querySelectorAll("pre")]
      .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.slice(0, 80)),
    tracebacks: [...article.querySelectorAll(".cell_output, .output")]
      .filter(o => /Traceback/.test(o.innerText) || o.matches(".traceback, .error"))
      .map(o => o.innerText.slice(0, 200)),
  };
}"""


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(built_book):
    handler = functools.partial(QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


def test_pages_render_offline_in_chromium(server):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    blocked: list[str] = []

    def only_localhost(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    problems = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", only_localhost)
        for name in toc_files():
            page.goto(f"{server}/{name}.html", wait_until="load")
            if page.locator("script[src*='mathjax']").count():  # Sphinx adds it where needed
                page.wait_for_function("() => window.MathJax && MathJax.startup", timeout=30_000)
                page.evaluate("() => MathJax.startup.promise")
            report = page.evaluate(PAGE_REPORT)
            issues = []
            if name in PAGES_WITH_MATH and report["rendered"] == 0:
                issues.append("no math was rendered")
            if report["images"] < FIGURES.get(name, 0):
                issues.append(f"{report['images']} images for {FIGURES[name]} figures")
            for key in ("mathErrors", "rawTex", "brokenImages", "overflowingCode", "tracebacks"):
                if report[key]:
                    issues.append(f"{key}: {report[key]}")
            if issues:
                problems[name] = issues
            if name == "chapters/gradients":
                (BUILD / "screenshots").mkdir(exist_ok=True)
                page.screenshot(path=str(BUILD / "screenshots" / "gradients.png"))
        browser.close()

    assert not blocked, f"pages tried to reach other hosts: {sorted(set(blocked))}"
    assert not problems, problems


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory):
    """A feedback page of a graded solution that fails one test: ``out/feedback/<s>/<a>.html``."""
    import json
    import subprocess
    import sys

    from support import ROOT

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
