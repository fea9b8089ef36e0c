"""Grading for instructors: learner code runs in limited child processes; judging stays here.

``plugin`` adds ``--grade`` to pytest; ``batch`` grades a class into a SQLite
``gradebook``; ``bundle`` writes the learner's copy of the suite.
"""
