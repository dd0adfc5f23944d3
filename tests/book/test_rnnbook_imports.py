"""rnnbook's names load their module on first use: a graded notebook's import stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from support import ROOT

import rnnbook

MODULE_OF = {  # written out here, not read from rnnbook
    "central_difference": "gradcheck",
    "complex_step": "gradcheck",
    "relative_error": "gradcheck",
    "COLORS": "plotting",
    "new_figure": "plotting",
    "use_course_style": "plotting",
    "gradient_matrix": "symbolic",
    "matrices_equal": "symbolic",
    "symbol_matrix": "symbolic",
    "symbol_row": "symbolic",
    "unrolled_rnn": "diagrams",
}


def test_the_gradcheck_names_load_neither_sympy_nor_matplotlib():
    code = (
        "import sys\nfrom rnnbook import central_difference, relative_error\n"
        "print(sorted(m for m in ('sympy', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(MODULE_OF))
def test_every_name_is_its_modules_object(name):
    module = importlib.import_module(f"rnnbook.{MODULE_OF[name]}")
    assert getattr(rnnbook, name) is getattr(module, name)


def test_the_package_exports_exactly_these_names():
    assert sorted(rnnbook.__all__) == sorted(MODULE_OF)
    namespace: dict = {}
    exec("from rnnbook import *", namespace)
    assert set(MODULE_OF) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'rnn_forward'"):
        rnnbook.rnn_forward  # noqa: B018
