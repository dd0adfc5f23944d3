"""The book builds with warnings as errors and is self-contained (no CDN, nothing external)."""

from __future__ import annotations

import re

import pytest
from support import ROOT, toc_files

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
