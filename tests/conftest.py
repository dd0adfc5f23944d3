"""How `make test` shares the suite between pytest-xdist's workers (``--dist loadgroup``): a test
that uses an expensive fixture computed once per module or per run goes to the worker of every
other test that uses it, so the fixture is computed once; every other test goes wherever a
worker is free. The book's build is the longest: its tests form one group, sent first."""

from __future__ import annotations

import pytest

SHARED_SCOPES = ("module", "session")
BOOK = "book"
CHEAP = {"cells_notebooks"}  # session fixtures quick enough to compute on each worker


def group_of(item: pytest.Item) -> str | None:
    """The xdist group of ``item``: the book's, its module's, or None (any worker)."""
    if "built_book" in item.fixturenames or "book_build" in item.fixturenames:
        return BOOK
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs if info is not None else {}
    for name, defs in definitions.items():
        ours = [d for d in defs if d.baseid]  # pytest's own (tmp_path_factory...) have none
        if name not in CHEAP and any(d.scope in SHARED_SCOPES for d in ours):
            return item.module.__name__ if item.module is not None else None
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: group_of(item) != BOOK)  # the longest group first
