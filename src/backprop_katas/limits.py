"""The two time limits a learner can meet, each in one place (docs/learn.md states both; tests/suite/test_docs.py compares).

Plain constants with no imports: the `katas` command reads them before it knows whether it
will run any kata code, and must not import torch for that.
"""

from __future__ import annotations

# Seconds per call into kata code (the chapter's 10001 steps take ~3 s here): the one limit a
# learner meets, under plain pytest (--probe-timeout), `katas` (--timeout) and grading alike.
DEFAULT_TIMEOUT = 60.0

# Seconds for one kata's whole run (`katas --timeout`): k06 trains the chapter's network several
# times. Each call into kata code has its own limit inside it (DEFAULT_TIMEOUT), never more than this.
DEFAULT_TIME_LIMIT = 180.0
