"""Instructor tooling for the exercise sets: per-student seeds, release and grading.

- :func:`student_seed` gives each student a stable seed for their own dataset:
  ``data = crm.synth.generate(seed=crm.course.student_seed("your name"))``;
  :func:`student_data` is what the exercise notebooks call: ``data = crm.course.student_data(NAME)``
  (the course dataset when ``NAME`` is ``""``).
- :mod:`crmlab.course.release` writes the student notebooks ``exercises/NN_topic.ipynb``
  from the solution notebooks ``exercises/solutions/NN_topic.ipynb`` (``crmlab release``).
- :mod:`crmlab.course.grade` grades a folder of submitted notebooks in sandboxes into a
  gradebook and feedback files (``crmlab grade SUBMISSIONS/ --out grades.csv``).

Examples
--------
>>> from crmlab.course import student_seed
>>> student_seed("Alice Wang") == student_seed("  alice_wang ")
True
>>> 0 <= student_seed("Alice Wang") < 2**31
True
"""

from __future__ import annotations

import importlib

from crmlab.course.seeds import normalize_name, student_data, student_seed

__all__ = ["student_seed", "student_data", "normalize_name", "release", "grade"]


def __getattr__(name: str):
    if name in {"release", "grade", "cli"}:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'crmlab.course' has no attribute {name!r}")
