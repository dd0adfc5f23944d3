"""Fixtures of the grading pipeline's tests: released notebooks, a private PostgreSQL server."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def cells_notebooks(tmp_path_factory) -> tuple[dict, dict]:
    """The student version of ``cells`` as released, and the same notebook solved."""
    from autograder import assignments
    from autograder.authoring.examples import fill
    from autograder.authoring.release import release

    released = release(tmp_path_factory.mktemp("release"), ["cells"], validate=False)
    student = json.loads(released["cells"].read_text())
    return student, fill(student, assignments.get("cells").solution_code())


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server for a test module (``postgres_server.py`` beside this file).
    Without Debian's `postgresql` (installed by tools/system-packages) the test fails: a missing
    server can never pass unnoticed."""
    from postgres_server import PostgresUnavailable, postgres_server, server_binaries

    try:
        server_binaries()
    except PostgresUnavailable as error:
        pytest.fail(f"{error}: run tools/system-packages", pytrace=False)
    with postgres_server() as server:
        yield server
