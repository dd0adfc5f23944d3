"""Every chapter executes from a clean kernel, and the book's sources keep their promises."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest
from support import ROOT, execute_chapter, going_further_pages, notebook_chapters, toc_files

from autograder import assignments

# A page that reports trained results names its seeds in one cell tagged `seeds`, which is
# exactly `SEEDS = (...)`; every result is reported over them, and every assert holds for each.
SEEDS_CELL = re.compile(r"^SEEDS = \((\d+(?:, \d+)*),?\)$")
OTHER_SEEDS_FROM = 1000


def seeds_cell(notebook) -> nbformat.NotebookNode | None:
    tagged = [c for c in notebook.cells if "seeds" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) <= 1, "one seeds cell per page"
    return tagged[0] if tagged else None


SEEDED = [p for p in notebook_chapters() if seeds_cell(jupytext.read(p)) is not None]


def test_pages_that_train_name_their_seeds():
    """The pages whose trained results must hold for other seeds; each names at least 3."""
    names = {p.stem for p in SEEDED}
    assert {
        "gated_cells",
        "char_language_model",
        "sensor_sequences",
        "encoder_decoder",
        "attention",
        "deep_bidirectional",
        "regularisation",
        "decoding",
    } <= names, names
    for path in SEEDED:
        match = SEEDS_CELL.match(seeds_cell(jupytext.read(path)).source.strip())
        assert match, f"{path.name}: the seeds cell is not `SEEDS = (a, b, c)`"
        assert len(match.group(1).split(",")) >= 3, f"{path.name}: fewer than 3 seeds"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", SEEDED, ids=lambda p: p.stem)
def test_trained_results_hold_for_seeds_the_page_does_not_use(chapter):
    """Re-run the page with as many other seeds: every assert about training must still hold."""
    notebook = jupytext.read(chapter)
    cell = seeds_cell(notebook)
    count = len(SEEDS_CELL.match(cell.source.strip()).group(1).split(","))
    cell.source = f"SEEDS = {tuple(range(OTHER_SEEDS_FROM, OTHER_SEEDS_FROM + count))}"
    execute_chapter(notebook, chapter)


def test_every_chapter_file_is_in_the_table_of_contents():
    listed = set(toc_files())
    on_disk = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.md")}
    assert on_disk <= listed, f"chapters missing from _toc.yml: {sorted(on_disk - listed)}"


def test_the_chapters_are_listed_in_reading_order():
    files = toc_files()
    expected = [
        "chapters/inner_outer_products",
        "chapters/vanilla_rnn_cell",
        "chapters/forward_pass_and_loss",
        "chapters/gradients",
        "chapters/backprop_through_time",
        "chapters/vanishing_exploding_gradients",
        "chapters/gated_cells",
        "chapters/deep_bidirectional",
        "chapters/char_language_model",
        "chapters/regularisation",
        "chapters/sensor_sequences",
        "chapters/encoder_decoder",
        "chapters/attention",
        "chapters/decoding",
    ]
    assert [f for f in files if f in expected] == expected


# Every chapter follows the pattern except the appendices of the back matter: the
# bibliography and the Performance page (it renders bench/figures.json; it teaches nothing).
APPENDICES = ("chapters/references", "chapters/performance")
# A chapter's "Going further" pages (its sections in _toc.yml) hold side topics: they open by
# naming their chapter, and the chapter links to them; they need not repeat the pattern.
FURTHER = going_further_pages()
TAUGHT = [
    name.removeprefix("chapters/")
    for name in toc_files()
    if name.startswith("chapters/") and name not in APPENDICES
]
PATTERNED = [name for name in TAUGHT if f"chapters/{name}" not in FURTHER]
FRAMING = re.compile(
    r"\b(essays?|articles?|snippets?|blog posts?|Stack Exchange|the (?:original )?author)\b", re.I
)
CLOSING = ["Summary", "Exercises", "Practise it"]


def page(name: str) -> str:
    return (ROOT / "chapters" / f"{name}.md").read_text()


@pytest.mark.parametrize("name", PATTERNED)
def test_a_chapter_follows_the_pattern(name):
    """Objectives first; Summary, Exercises and Practise it last, in that order; solutions in
    dropdowns, their numbers asserted by a hidden cell; a link to the assignment."""
    text = page(name)
    headings = re.findall(r"^## (.+)$", text, re.M)
    first_section = text.index("\n## ")
    assert "{admonition} Learning objectives" in text[:first_section], "objectives first"
    assert headings[-3:] == CLOSING, headings
    exercises = text[text.index("\n## Exercises") : text.index("\n## Practise it")]
    assert ":class: dropdown" in exercises
    assert re.search(r":tags: \[remove-cell\]\n(?:.*\n)*?assert ", exercises), "numbers unchecked"
    practise = text[text.index("\n## Practise it") :]
    exercise = "|".join(assignments.names())
    assert re.search(rf"\{{doc\}}`[^`]*/exercises/({exercise})`", practise), practise


@pytest.mark.parametrize("name", sorted(FURTHER), ids=lambda n: n.removeprefix("chapters/"))
def test_a_going_further_page_and_its_chapter_link_each_other(name):
    parent = FURTHER[name].removeprefix("chapters/")
    text = page(name.removeprefix("chapters/"))
    title = re.search(r"^# (.+)$", text, re.M).group(1)
    assert title.startswith("Going further"), title
    opening = text[text.index(title) : text.index("\n## ") if "\n## " in text else None]
    assert re.search(rf"\{{doc\}}`(?:[^`<]*<)?{parent}>?`", opening), f"{name} names no chapter"
    stem = name.removeprefix("chapters/")
    assert re.search(rf"\{{doc\}}`(?:[^`<]*<)?{stem}>?`", page(parent)), f"{parent} hides {stem}"


@pytest.mark.parametrize("name", TAUGHT)
def test_a_chapter_teaches_without_arguing_with_a_source(name):
    """Errors of the sources are pitfalls that stand on their own: no "the essay says"."""
    found = sorted({m.group(0) for m in FRAMING.finditer(page(name))})
    assert not found, f"{name}.md frames its text against a source: {found}"


def test_chapters_are_text_notebooks_without_committed_outputs():
    assert not list((ROOT / "chapters").glob("*.ipynb"))
    for chapter in notebook_chapters():
        header = chapter.read_text().split("\n---", 1)[0]
        assert "format_name: myst" in header, f"{chapter.name} lacks the jupytext MyST header"


def test_the_introduction_presents_the_whole_course_and_two_paths():
    """Every chapter and assignment linked; a self-study path, and a semester plan that takes
    every chapter once, in the book's order, with every assignment released before it is due."""
    intro = (ROOT / "intro.md").read_text()
    linked = set(re.findall(r"\{doc\}`([^`]+)`", intro))
    chapters = [f"chapters/{name}" for name in PATTERNED]
    assert set(chapters) | set(APPENDICES) <= linked, set(chapters) - linked
    assert {f"exercises/{name}" for name in assignments.names()} <= linked
    assert "**Self-study.**" in intro
    plan = intro[intro.index("**A one-semester course**") :]
    weeks = re.findall(r"^\| (\d+) \| (.*?) \|(.*?)\|$", plan, re.M)
    assert [int(w) for w, _, _ in weeks] == list(range(1, len(weeks) + 1))
    taught = [doc for _, cell, _ in weeks for doc in re.findall(r"\{doc\}`([^`]+)`", cell)]
    assert taught == chapters, taught
    for assignment in assignments.names():
        said = {
            what: int(w)
            for w, _, work in weeks
            for what in ("released", "due")
            if f"`{assignment}` {what}" in work
        }
        assert said.keys() == {"released", "due"} and said["released"] < said["due"], assignment


@pytest.mark.parametrize("chapter", notebook_chapters(), ids=lambda p: p.stem)
def test_every_code_cell_of_the_source_is_a_cell_of_the_notebook(chapter):
    """A code cell nested in a fence that jupytext misreads would silently never run."""
    written = len(re.findall(r"^```\{code-cell\}", chapter.read_text(), re.M))
    read = sum(cell.cell_type == "code" for cell in jupytext.read(chapter).cells)
    assert read == written, f"{chapter.name}: {written} code cells written, {read} run"
