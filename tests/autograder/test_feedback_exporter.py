"""autograder.pipeline.feedback_exporter: the same feedback page as nbconvert's exporter makes."""

from __future__ import annotations

import json

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter

from autograder import assignments as registry
from autograder.pipeline import late, task
from autograder.pipeline.feedback_exporter import FeedbackExporter, highlighted

PNG = (  # one transparent pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """The feedback page of one notebook (the instructor's ``cells``, with an image output), made
    by this exporter and by nbconvert's."""
    source = registry.get("cells").notebook.read_text()
    notebook = json.loads(source)
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    code[0]["outputs"] = [
        {"output_type": "display_data", "data": {"image/png": PNG}, "metadata": {}}
    ]
    result = task.ungraded("Lee, Ann", "cells", notebook, [], isolated=True)
    made = {}
    for name, exporter in (("ours", FeedbackExporter), ("nbconvert", HTMLExporter)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(task, "FeedbackExporter", exporter)
            made[name] = task.feedback_again(result, notebook, source, late.Policy({"cells": None}))
    return made


def tree(page: str) -> str:
    return BeautifulSoup(page, "html.parser").decode()


def test_the_page_is_nbconverts_tag_for_tag(pages):
    assert tree(pages["ours"]) == tree(pages["nbconvert"])


def test_the_code_is_highlighted_and_no_placeholder_is_left(pages):
    page = pages["ours"]
    assert page.count('<span class="k">def</span>') >= 4  # the four functions of ``cells``
    assert "rnn-code-" not in page


def test_the_accessibility_pass_still_runs(pages):
    assert 'alt="No description has been provided for this image"' in pages["ours"]


def test_any_template_and_a_cell_in_another_language_give_nbconverts_page():
    """JupyterLab's template (whose cells the accessibility pass makes focusable), and a cell
    highlighted as shell code (its ``magics_language``)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    shell = nbformat.v4.new_code_cell("for f in *; do echo $f; done")
    shell.metadata["magics_language"] = "bash"
    notebook.cells = [nbformat.v4.new_code_cell("def f(x):\n    return x + 1"), shell]
    ours, _ = FeedbackExporter().from_notebook_node(notebook)
    theirs, _ = HTMLExporter().from_notebook_node(notebook)
    assert tree(ours) == tree(theirs)
    assert 'tabindex="0"' in ours
    assert highlighted("ipython3", shell.source, None, "bash") in ours
    assert highlighted("ipython3", shell.source, None, "bash") != highlighted(
        "ipython3", shell.source, None, None
    )


def test_code_every_page_shows_is_highlighted_once():
    highlighted.cache_clear()
    for _ in range(2):
        highlighted("ipython3", "x = 1\n", None, None)
    assert highlighted.cache_info().hits == 1


def test_templates_are_compiled_once_per_process(monkeypatch):
    import jinja2

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    FeedbackExporter().from_notebook_node(notebook)
    compiled = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(
        jinja2.Environment, "compile", lambda *a, **k: compiled.append(1) or original(*a, **k)
    )
    page, _ = FeedbackExporter().from_notebook_node(notebook)
    assert compiled == []
    assert tree(page) == tree(HTMLExporter().from_notebook_node(notebook)[0])
    assert compiled  # nbconvert's own exporter compiles its templates again
