"""How `make test` shares the suite between pytest-xdist's workers (``--dist loadfile``): each
test file runs whole on one worker, so a fixture computed once per module or per run (the
book's build in ``book/test_book.py``, the graded example class in
``autograder/test_grading.py``) is computed once. Those two files take the longest: they are
sent first, so that they start at once on two workers and neither waits behind the other."""

from __future__ import annotations

import pytest

LONGEST = ("tests/book/test_book.py", "tests/autograder/test_grading.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST.index(path) if path in LONGEST else len(LONGEST)

    items.sort(key=rank)  # stable: every file keeps its own order
