"""No copy-ready answers: no chapter and no ``rnnbook`` module holds three consecutive
statements of a graded solution, whatever the names and numbers (``tests/book/answer_leaks.py``).

The detector is tested on tiny fixtures named by case (``tests/book/fixtures/leaks/``), among them
the loss-and-gradients cell the Gradients chapter printed before it was rewritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from answer_leaks import RUN, answers, leaks
from support import ROOT

KNOWN = answers(ROOT / "solutions")
FIXTURES = Path(__file__).parent / "fixtures" / "leaks"
READABLE = [*sorted((ROOT / "chapters").glob("*.md")), ROOT / "intro.md"]
BOOK_MODULES = sorted((ROOT / "chapters").glob("*.py"))  # the book's own code, e.g. its loader
IMPORTABLE = sorted((ROOT / "rnnbook").glob("*.py"))


def test_every_graded_answer_is_known():
    names = {answer.name.split("#")[0] for answer in KNOWN}
    assert {"cells:rnn_step_backward_code", "bptt:rnn_forward_code"} <= names
    assert {"attention:softmax_code", "bptt:numerical_gradient_code"} <= names
    assert {"language_model:beam_search_code", "language_model:sample_code"} <= names
    assert all(len(answer.shapes) >= 2 for answer in KNOWN)


@pytest.mark.parametrize(
    ("fixture", "answer"),
    [
        ("renamed_backward_step.md", "cells:rnn_step_backward_code"),
        ("gradients_in_a_dictionary.md", "cells:rnn_step_backward_code"),
        ("fenced_forward_loop.md", "bptt:rnn_forward_code"),
        ("old_gradients_chapter_cell.md", "cells:rnn_step_forward_code"),
    ],
)
def test_a_copy_is_found_whatever_its_names(fixture, answer):
    found = leaks(FIXTURES / fixture, KNOWN)
    assert any(item.startswith(answer) for item in found), found


def test_a_check_in_another_form_is_not_a_copy():
    assert leaks(FIXTURES / "independent_checks.md", KNOWN) == []


@pytest.mark.parametrize("path", READABLE + BOOK_MODULES + IMPORTABLE, ids=lambda p: p.name)
def test_no_page_or_module_holds_a_graded_answer(path):
    found = leaks(path, KNOWN)
    assert not found, f"{path.name} holds {RUN} or more consecutive statements of {found}"
