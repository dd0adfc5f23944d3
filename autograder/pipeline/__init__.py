"""Grading a class, in the grader's own process and on its workers (never student code).

- :mod:`autograder.pipeline.class_run`       grade a class: find the submissions, grade what is
  new, record each result, apply due dates, write the outputs;
- :mod:`autograder.pipeline.task`            grade one submission from plain data: nbgrader's
  autograde in the isolated kernel, then every check again against the sandbox;
- :mod:`autograder.pipeline.execute`         nbgrader's execution of a notebook, without
  jupyter_client's fixed waits at a kernel's start and stop;
- :mod:`autograder.pipeline.workers`         where tasks run (Dask, local processes or a cluster)
  and what happens when one fails;
- :mod:`autograder.pipeline.intake`          each student's notebook found in a folder of
  submissions, as classes make it;
- :mod:`autograder.pipeline.tampering`       what is wrong with a notebook before and after it
  runs, each problem a status;
- :mod:`autograder.pipeline.results`         what grading one submission produces, as plain data;
- :mod:`autograder.pipeline.late`            due dates, extensions, the course configuration and
  the late plugin ``PercentPerDay``;
- :mod:`autograder.pipeline.outputs`         feedback pages, ``grades.csv`` and the closing table;
- :mod:`autograder.pipeline.feedback_exporter` nbconvert's HTML exporter, with highlighted code
  set in after its pass over the page;
- :mod:`autograder.pipeline.lms_export`      the grades as Canvas, Moodle or Blackboard import them;
- :mod:`autograder.pipeline.self_check`      one notebook graded as grading would, for a reader;
- :mod:`autograder.pipeline.class_report`    the class report: score histograms, pass rates,
  causes of failure ranked, statuses, lateness (``report.html``, ``report.json``);
- :mod:`autograder.pipeline.similarity`      pairs of submissions (and the public solution) with
  the same code up to names, numbers, formatting and order (``similarity.html``, ``.csv``);
- :mod:`autograder.pipeline.code_shapes`     code as statement shapes, for the similarity report
  and the book's no-answers test;
- :mod:`autograder.pipeline.nbgrader_course` nbgrader's side: settings, course folders,
  gradebooks, running nbgrader.
"""

import sys

# jsonschema, which nbformat imports, compiles rfc3987_syntax's grammar (an Earley parser, about
# a second) at import whenever that package is installed, to check the "iri" string format,
# which no notebook schema and nothing of nbgrader's uses. Every grader process (the command and
# each worker) imports nbformat: each is spared that second by making the optional import fail
# as where the package is absent (None in sys.modules makes ``import`` raise ImportError).
sys.modules.setdefault("rfc3987_syntax", None)
