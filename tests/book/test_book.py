"""The tests of the book's build, all in this file so that one worker of `make test` builds it
(pytest-xdist's ``--dist loadfile``): it builds with warnings as errors, every chapter executed
in it without error, it is self-contained (no CDN, nothing external), and it renders offline.

In headless Chromium with every other host blocked, as a reader offline, on every page of the
table of contents: MathJax typeset the math (no raw TeX left in the text), every image loaded,
no code or output runs off the column (it wraps), no cell output shows a traceback, and no
request left localhost. A screenshot of the Gradients chapter goes to _build/screenshots/.
Needs Debian's `chromium`, which `make test` installs through tools/system-packages; without it
that test fails, so a missing browser can never pass unnoticed.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from myst_nb.core.read import read_myst_markdown_notebook
from support import (
    BUILD,
    CHROMIUM_ARGS,
    ROOT,
    chromium_path,
    execute_chapter,
    notebook_chapters,
    notebook_errors,
    toc_files,
)

from autograder import assignments

EXTERNAL_ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""")


pytestmark = pytest.mark.slow


def test_book_builds_without_warnings(built_book):
    for name in toc_files():
        assert (built_book / f"{name}.html").is_file(), f"{name}.html was not built"


def test_pages_load_no_asset_from_another_host(built_book):
    for page in built_book.rglob("*.html"):
        text = page.read_text(errors="replace")
        match = EXTERNAL_ASSET.search(text)
        assert not match, f"{page.relative_to(built_book)} loads {match.group(0)}"
        assert "://" not in "".join(re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S)), (
            f"{page.relative_to(built_book)} has an inline script naming another host"
        )


def test_mathjax_is_served_from_the_build(built_book):
    page = (built_book / "chapters" / "gradients.html").read_text()
    assert 'src="../_static/mathjax/tex-chtml.js' in page
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").is_file()
    fonts = built_book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are missing from the build"


def test_each_notebook_page_offers_its_notebook_for_download(built_book):
    for name in toc_files():
        source = ROOT / f"{name}.md"
        if not source.is_file() or "kernelspec:" not in source.read_text():
            continue
        page = (built_book / f"{name}.html").read_text()
        stem = name.split("/")[-1]
        assert f'_sources/{name}.ipynb"' in page or f'_sources/{stem}.ipynb"' in page, name
        assert (built_book / "_sources" / f"{name}.ipynb").is_file()


def test_instructor_material_is_not_published(built_book):
    for folder in ("solutions", "autograder", "tests"):
        assert not (built_book / folder).exists(), f"{folder}/ ended up in the book"


def test_exercise_pages_show_the_student_versions(built_book):
    for name in assignments.names():
        page = (built_book / "exercises" / f"{name}.html").read_text()
        assert "NotImplementedError" in page and "BEGIN SOLUTION" not in page
        assert "run_check" not in page, f"exercises/{name} shows hidden tests"
        assert any((built_book / "_downloads").rglob(f"{name}.ipynb")), name


def test_exercise_pages_link_the_chapters_their_statements_name(built_book):
    """The statement's `chapters/<name>.md` paths are links (not only the sidebar's entries)."""
    expected = {
        "bptt": ["backprop_through_time", "vanishing_exploding_gradients", "gradients"],
        "cells": ["gated_cells"],
        "attention": ["attention"],
        "language_model": ["char_language_model", "encoder_decoder", "regularisation", "decoding"],
    }
    assert expected.keys() == set(assignments.names())
    for exercise, chapters in expected.items():
        page = (built_book / "exercises" / f"{exercise}.html").read_text()
        for chapter in chapters:
            link = f'href="../chapters/{chapter}.html"><span class="std std-doc"><code'
            assert link in page, (exercise, chapter)


@pytest.mark.parametrize("chapter", notebook_chapters(), ids=lambda p: p.stem)
def test_chapter_executes_without_error(chapter, execution_cache):
    """The chapter ran top to bottom in the book build from a clean kernel; any failing assert
    (a false claim) fails the test. The build's execution of the page as it is now is read from
    its cache (matched on every code cell's source); `make book` empties that cache whenever
    what the cells import or read changes, so no result is stale. A page the build executes
    anew every time (``execution_mode: force``) keeps no result and is run here."""
    notebook = read_myst_markdown_notebook(chapter.read_text(), path=chapter)
    if notebook.metadata.get("mystnb", {}).get("execution_mode") == "force":
        execute_chapter(notebook, chapter)  # the build runs it anew each time and keeps no result
        return
    try:
        record = execution_cache.match_cache_notebook(notebook)
    except KeyError:
        tracebacks = [
            r.traceback
            for r in execution_cache.list_project_records()
            if Path(r.uri) == chapter and r.traceback
        ]
        pytest.fail(
            f"{chapter.name} did not execute in the book build:\n"
            + (tracebacks[-1] if tracebacks else "no execution of its current source")
        )
    assert not notebook_errors(execution_cache.get_cache_bundle(record.pk).nb)


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
