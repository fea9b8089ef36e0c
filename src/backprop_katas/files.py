"""Files the tool writes and hashes: one atomic JSON writer, one content digest.

The learner's cache and progress (tool/), the pytest report the child writes, grading's
results.json, the gradebook and the cluster's fingerprints use these two; a self-check
(tests/suite/test_self_checks.py) keeps ``hashlib`` and write-then-rename JSON out of
every other module.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_DIR = ".katas-cache"  # a project's learner cache: results, hints, backups, the warm server's socket


def write_json(path: Path, data: Any, indent: int = 1) -> None:
    """Write ``data`` as JSON whole or not at all: beside ``path`` first, then moved into place,
    so a reader (another thread, a second `katas`, Gradescope) never sees half a file.
    Text that is not valid UTF-8 (a learner's file name) is kept as backslash escapes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=indent), encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def digest(*parts: bytes) -> str:
    """The SHA-256 of ``parts`` as a sequence: each part is length-prefixed, so moving bytes
    from one part to the next changes the digest."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def files_digest(files: Iterable[tuple[str | bytes, bytes]]) -> str:
    """The digest of named contents (name, data), in the order given."""
    parts: list[bytes] = []
    for name, data in files:
        parts += [name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name, data]
    return digest(*parts)


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


def read_json(path: Path, default: Any) -> Any:
    """The JSON in ``path``, or ``default`` when it is missing or not JSON (a cache is never trusted)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
