"""The checks' side of grading: runs in the student's kernel as well as in the grader.

NumPy and the standard library only, and the only part of the grader that the grading kernel
mounts (beside ``autograder/__init__.py`` and ``autograder/harness.py``).

- :mod:`autograder.checking.api`     the check API: ``Student``, ``CheckFailed``, loading an
  assignment's ``CHECKS``, and ``run_check``, which the hidden tests call (as
  ``autograder.harness``);
- :mod:`autograder.checking.toolkit` what every ``solutions/*/checks.py`` is written with:
  validation, comparison within one set of tolerances, naming the likely mistake.
"""
