"""Settings for the tool's own tests."""

from __future__ import annotations

import os

# The warm servers that `katas` starts in the tests' throw-away projects end soon after their last check.
os.environ.setdefault("KATAS_SERVER_IDLE", "30")
