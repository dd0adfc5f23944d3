"""The path the assignment notebooks import the check API by: ``from autograder.harness import
run_check``. It lives in :mod:`autograder.checking.api`; released notebooks and stock nbgrader
keep using this name."""

from autograder.checking.api import CheckFailed, run_check

__all__ = ["CheckFailed", "run_check"]
