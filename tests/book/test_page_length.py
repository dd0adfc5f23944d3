"""Every page's main line reads in about 20 minutes: the measure, then every page against it."""

from __future__ import annotations

import pytest
from reading_length import CODE_LIMIT, WORD_LIMIT, main_line
from support import ROOT, toc_files

HEADER = "---\njupytext:\n  formats: md:myst\n---\n"


def test_prose_words_count_and_display_math_does_not():
    text = HEADER + "# Title\n\nOne two three $x^2$ four.\n\n$$\na + b = c\n$$ (eq-x)\n"
    assert main_line(text).words == 6  # Title One two three (math) four


def test_code_lines_count_unless_the_cell_is_hidden_or_folded():
    cell = "```{code-cell} ipython3\n%sx = 1\n\ny = 2\n```\n"
    shown = main_line(HEADER + cell % "")
    hidden = main_line(HEADER + cell % ":tags: [remove-cell]\n\n")
    folded = main_line(HEADER + cell % "---\ntags: [hide-input]\n---\n")
    assert (shown.code_lines, hidden.code_lines, folded.code_lines) == (2, 0, 0)


def test_dropdowns_and_going_further_sections_are_left_out():
    text = HEADER + (
        "# T\n\n## Main\n\nalpha beta\n\n"
        "```{admonition} Answer\n:class: dropdown\nhidden words here\n```\n\n"
        "## Going further\n\nside topic words\n\n### Deeper\n\nmore side words\n\n"
        "## Summary\n\ngamma\n"
    )
    assert main_line(text).words == 6  # T, Main, alpha, beta, Summary, gamma


def test_a_going_further_page_counts_in_full():
    text = HEADER + "# Going further: a side topic\n\nfive words of side prose\n"
    assert main_line(text).words == 10


def test_an_admonition_counts_and_nested_code_counts():
    text = HEADER + "::::{note}\nfour words in here\n```python\na = 1\n```\n::::\n"
    length = main_line(text)
    assert (length.words, length.code_lines) == (4, 1)


def test_included_code_counts_as_the_reader_sees_it(tmp_path):
    (tmp_path / "module.py").write_text(
        "import numpy as np\n\n\ndef first(x):\n    return x\n\n\n"
        "class Model:\n    def step(self, x):\n        y = x + 1\n        return y\n"
    )
    include = "```{literalinclude} module.py\n:language: python\n%s\n```\n"
    whole = main_line(HEADER + include % "", tmp_path)
    method = main_line(HEADER + include % ":pyobject: Model.step", tmp_path)
    ranged = main_line(HEADER + include % ":start-at: def first\n:end-before: class", tmp_path)
    assert (whole.code_lines, method.code_lines, ranged.code_lines) == (7, 3, 2)


def test_no_page_prints_source_the_measure_cannot_see():
    """Code is shown with {literalinclude}, which the measure counts, not printed at run time."""
    pages = [ROOT / f"{n}.md" for n in toc_files() if (ROOT / f"{n}.md").exists()]
    printing = [p.name for p in pages if "getsource(" in p.read_text()]
    assert not printing, printing


@pytest.mark.parametrize("name", [n for n in toc_files() if (ROOT / f"{n}.md").exists()])
def test_every_page_reads_in_about_twenty_minutes(name):
    path = ROOT / f"{name}.md"
    length = main_line(path.read_text(), path.parent)
    assert length.words <= WORD_LIMIT, f"{name}: {length.words} words of prose (≤ {WORD_LIMIT})"
    assert length.code_lines <= CODE_LIMIT, (
        f"{name}: {length.code_lines} lines of code (≤ {CODE_LIMIT})"
    )
