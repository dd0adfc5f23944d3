"""The README and the guides in docs/ name only what exists, and the module maps are complete.

Every repository path written in backticks (a word with a ``/`` or ending in .py, .md, .toml
or .yml) must exist, and every ``autograder.…`` dotted name must be a module, or a name defined
at the top level of one. Placeholders (``solutions/<a>/``), URLs, absolute system paths and what
commands create (``_build/``, ``graded/``, ...) are left out. Every module of ``autograder/``
and ``rnnbook/`` must be in docs/contributing.md's layout and in its package's docstring map.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
from pathlib import Path

import pytest
from support import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Created by the course's commands, not committed (exercises/: by `make book`).
GENERATED = ("_build", "graded", "submitted", "release", ".venv", "exercises")
# Files the guides name that live outside this repository.
ELSEWHERE = {"nbgrader_config.py"}
SUFFIXES = (".py", ".md", ".toml", ".yml")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
PATH_WORD = re.compile(r"(?!\.\w+$)[\w.*-][\w.*/-]*")  # not a bare suffix (`.md`)
DOTTED = re.compile(r"\bautograder(?:\.\w+)+")
MAPPED_PACKAGES = [
    "autograder",
    *sorted(f"autograder.{p.parent.name}" for p in ROOT.glob("autograder/*/__init__.py")),
]


def code_words(text: str) -> list[str]:
    """The words of every inline code span of a Markdown text (fenced blocks left out)."""
    spans = CODE_SPAN.findall(FENCE.sub("", text))
    return [word.strip("[](),;:") for _, span in spans for word in span.split()]


def repository_paths(text: str) -> set[str]:
    """The words of the code spans that name a file or folder of this repository."""
    return {
        word
        for word in code_words(text)
        if PATH_WORD.fullmatch(word)
        and ("/" in word or word.endswith(SUFFIXES))
        and word.split("/")[0] not in GENERATED
        and word not in ELSEWHERE
    }


def exists(word: str) -> bool:
    """A path from the root (globs allowed), or a bare file name found anywhere in the tree."""
    if "/" in word:
        return any(ROOT.glob(word.rstrip("/"))) if "*" in word else (ROOT / word).exists()
    return word in file_names()


@functools.cache
def file_names() -> frozenset[str]:
    """The names of the repository's files, hidden, generated and cache folders left out."""
    names: set[str] = set()
    for _, folders, files in os.walk(ROOT):
        folders[:] = [f for f in folders if not f.startswith((".", "__")) and f not in GENERATED]
        names.update(files)
    return frozenset(names)


def names_a_module_or_its_member(dotted: str) -> bool:
    """``dotted`` is a module, or a name defined at the top level of one (``module.Class``)."""
    parts = dotted.split(".")
    for length in range(1, len(parts) + 1):
        spec = importlib.util.find_spec(".".join(parts[:length]))
        if spec is None:
            return False
        if length == len(parts):
            return True
        if spec.submodule_search_locations is None:  # a module: the rest is one of its names
            return len(parts) == length + 1 and parts[length] in top_level_names(spec.origin)
    return False


def top_level_names(path: str) -> set[str]:
    """The names a module's source defines at its top level (read, not imported)."""
    names: set[str] = set()
    for node in ast.parse(Path(path).read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return names


def listed_as(path: Path) -> str:
    """How the layout names a module or package: ``autograder/cli.py``, ``autograder/pipeline/``."""
    return path.relative_to(ROOT).as_posix() + ("/" if path.is_dir() else "")


def package_docstring(package: str) -> str:
    """The docstring of a package's ``__init__.py``, read without importing it."""
    init = ROOT / package.replace(".", "/") / "__init__.py"
    return ast.get_docstring(ast.parse(init.read_text())) or ""


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_named_exists(document):
    missing = sorted(word for word in repository_paths(document.read_text()) if not exists(word))
    assert not missing, f"{document.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file(document):
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", document.read_text())
    missing = sorted(link for link in links if not (document.parent / link).exists())
    assert not missing, f"{document.name} links to files that do not exist: {missing}"


def test_every_autograder_module_named_exists():
    texts = [d.read_text() for d in DOCUMENTS] + [package_docstring(p) for p in MAPPED_PACKAGES]
    named = {name for text in texts for name in DOTTED.findall(text)}
    missing = sorted(name for name in named if not names_a_module_or_its_member(name))
    assert named and not missing, f"no such module (or module member): {missing}"


@pytest.mark.parametrize("package", [*MAPPED_PACKAGES, "rnnbook"])
def test_every_module_is_on_the_maps(package):
    folder = ROOT / package.replace(".", "/")
    layout = (ROOT / "docs" / "contributing.md").read_text()
    modules = [
        p
        for p in folder.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.stem != "__init__"
    ]
    docstring = package_docstring(package)
    unlisted = [p.name for p in modules if f"`{listed_as(p)}`" not in layout]
    unmapped = [p.stem for p in modules if f"{package}.{p.stem}" not in docstring]
    assert not unlisted, f"docs/contributing.md's layout leaves out {package}: {unlisted}"
    assert not unmapped, (
        f"{folder.relative_to(ROOT).as_posix()}/__init__.py's docstring leaves out {unmapped}"
    )
