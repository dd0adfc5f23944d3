"""course.create_gradebook against nbgrader's own way of creating a gradebook."""

from __future__ import annotations

import sqlite3

import nbgrader.api
from nbgrader.api import Gradebook

from autograder.pipeline.nbgrader_course import create_gradebook, environment


def test_the_gradebook_is_stamped_with_nbgraders_own_revision(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", environment()["PATH"])  # nbgrader runs `alembic` from PATH
    expected = nbgrader.api.get_alembic_version()  # nbgrader's answer, from its subprocess
    create_gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}")
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(expected,)]


def test_nbgrader_opens_it_without_asking_alembic(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    create_gradebook(url)

    def no_subprocess() -> str:
        raise AssertionError("nbgrader asked `alembic heads`: the gradebook was not complete")

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_subprocess)
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("cells")
        gradebook.add_student("ada")
    create_gradebook(url)  # an existing gradebook is left as it is
    with Gradebook(url) as gradebook:
        assert [a.name for a in gradebook.assignments] == ["cells"]
        assert [s.id for s in gradebook.students] == ["ada"]


def test_a_gradebook_nbgrader_made_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", environment()["PATH"])
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_student("grace")
    before = (tmp_path / "gradebook.db").read_bytes()
    create_gradebook(url)
    assert (tmp_path / "gradebook.db").read_bytes() == before
