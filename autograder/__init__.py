"""The course's release and grading pipeline:
``python -m autograder release|grade|examples|similarity|export|check``.

Grouped by what each part trusts (docs/contributing.md has the full table):

- :mod:`autograder.checking`  runs in the student's grading kernel: the check API the hidden
  tests call and the toolkit every ``checks.py`` is written with; NumPy and the standard
  library only, and the only part of the grader the kernel mounts;
- :mod:`autograder.isolation` runs student code: the isolation policy, bubblewrap, the grading
  kernel and the verification sandbox;
- :mod:`autograder.pipeline`  the grader's own process: grading a class, one submission at a
  time, on Dask workers, and writing the gradebook, feedback and ``grades.csv``;
- :mod:`autograder.authoring` instructor tools: the release and the example submissions.

Beside them:

- :mod:`autograder.assignments` the assignment registry, discovered from ``solutions/*/``;
- :mod:`autograder.cli`         the command line, which ``python -m autograder`` runs
  (:mod:`autograder.__main__`);
- :mod:`autograder.harness`     the name the notebooks import the check API by
  (``from autograder.harness import run_check``).

This file imports nothing: the grading kernel mounts it.
"""
