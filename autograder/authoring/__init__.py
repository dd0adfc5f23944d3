"""Instructor tools: what the course hands out and what it tests the grader with.

- :mod:`autograder.authoring.release`  validates the source notebooks and writes the student
  versions (and the book's exercise pages);
- :mod:`autograder.authoring.examples` the example submissions: the solution, every catalogued
  mistake and alternative, and broken, cheating and hostile notebooks.
"""
