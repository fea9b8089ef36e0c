"""Probes: the half of each kata test that runs learner code, one module per kata.

A probe is a module-level function ``probe(target, *plain_args)``: it builds
tensors and networks from its plain arguments, calls the learner's code
(``target.module(KATA)``) and returns plain data (:mod:`backprop_katas.kit.plain`).
A probe holds no expected value, no judge and no test name: the test makes
the inputs (random ones seeded in the grader), passes them as arguments and
judges what comes back. In grading mode only these modules and the inputs
enter the child process (``grading.child`` imports nothing else of a test),
so an instructor's hidden test passes its inputs as arguments to a probe from
here and its expected values never reach learner code.
"""

from __future__ import annotations

PACKAGE = __name__
