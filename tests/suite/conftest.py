"""Shared fixtures of the tool's own tests."""

from __future__ import annotations

import pytest

from backprop_katas import lang


@pytest.fixture(autouse=True)
def _process_language_from_the_environment(monkeypatch):
    """An in-process ``cli.main(["--lang", "ko", ...])`` sets the process's language; every test
    starts again from the environment, as a fresh process would."""
    monkeypatch.setattr(lang, "_current", None)
