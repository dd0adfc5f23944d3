"""Every chapter executes from a clean kernel, and the book's sources keep their promises."""

from __future__ import annotations

import re

import jupytext
import nbclient
import pytest
from conftest import ROOT, notebook_chapters, toc_files

GRADED_FUNCTIONS = [
    "rnn_step_forward",
    "rnn_step_backward",
    "stack_weights",
    "concat_step_forward",
    "lstm_step_forward",
    "lstm_step_backward",
    "rnn_forward",
    "rnn_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "mse_loss",
    "clip_by_global_norm",
    "numerical_gradient",
    "softmax",
    "attention_forward",
    "attention_backward",
]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", notebook_chapters(), ids=lambda p: p.stem)
def test_chapter_executes_without_error(chapter):
    """Run the chapter top to bottom; any failing assert (a false claim) fails the test."""
    notebook = jupytext.read(chapter)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(chapter.parent)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors


def test_every_chapter_file_is_in_the_table_of_contents():
    listed = set(toc_files())
    on_disk = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.md")}
    assert on_disk <= listed, f"chapters missing from _toc.yml: {sorted(on_disk - listed)}"


def test_the_four_foundation_chapters_are_listed_in_order():
    files = toc_files()
    expected = [
        "chapters/inner_outer_products",
        "chapters/vanilla_rnn_cell",
        "chapters/forward_pass_and_loss",
        "chapters/gradients",
    ]
    assert [f for f in files if f in expected] == expected


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "chapters").glob("*.md")), *sorted((ROOT / "rnnbook").glob("*.py"))],
    ids=lambda p: p.name,
)
def test_no_graded_function_is_defined_outside_solutions(path):
    """Students can read the book and import rnnbook: neither may define a graded function."""
    text = path.read_text()
    defined = [name for name in GRADED_FUNCTIONS if re.search(rf"\bdef\s+{name}\s*\(", text)]
    assert not defined, f"{path.name} defines graded functions {defined}"


def test_chapters_are_text_notebooks_without_committed_outputs():
    assert not list((ROOT / "chapters").glob("*.ipynb"))
    for chapter in notebook_chapters():
        header = chapter.read_text().split("\n---", 1)[0]
        assert "format_name: myst" in header, f"{chapter.name} lacks the jupytext MyST header"
