"""Files the tool writes, hashes and reads from a submission: one atomic JSON writer, one
content digest, one bounded reader.

The learner's cache and progress (tool/), the pytest report the child writes, grading's
results.json, the gradebook and the cluster's fingerprints use the first two; a self-check
(tests/suite/test_self_checks.py) keeps ``hashlib`` and write-then-rename JSON out of
every other module. Every read of a learner's submission goes through :func:`read_regular`
and :func:`folder_entries`: regular files only, never through a link, never blocking, never
more than a cap, so no file a learner ships (a named pipe, a link to ``/dev/zero``, a
device, a folder, a huge sparse file) can hang or flood the grader.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_DIR = ".katas-cache"  # a project's learner cache: results, hints, backups, the warm server's socket
MAX_KATA_FILE_BYTES = 1_000_000  # a kata file is a few kB; anything larger is not a kata file
MAX_FOLDER_ENTRIES = 1_000  # a learner's folder holds a handful of files; more is not a submission


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


# --- reading a submission: bounded --------------------------------------------------------------

KINDS = (  # what a directory entry is, by its lstat mode (the words are keys of lang's [phrases])
    (stat.S_ISLNK, "kind_symlink"),
    (stat.S_ISDIR, "kind_directory"),
    (stat.S_ISFIFO, "kind_fifo"),
    (stat.S_ISSOCK, "kind_socket"),
    (stat.S_ISCHR, "kind_device"),
    (stat.S_ISBLK, "kind_device"),
)


def kind_of(mode: int) -> str:
    """``kind_file`` for a regular file, else what the entry is (a phrase key: ``kind_fifo``...)."""
    if stat.S_ISREG(mode):
        return "kind_file"
    return next((kind for test, kind in KINDS if test(mode)), "kind_other")


class Refused(OSError):
    """A submission's file or folder the grader will not read, as data: the path, what it is
    (a ``kind_*`` phrase key, or ``too_large`` / ``crowded`` / ``changed``) and the cap it broke.
    Rendered in the reader's language by ``str()``."""

    def __init__(self, path: Path, kind: str, limit: int = 0, folder: bool = False) -> None:
        super().__init__(kind)
        self.path = path
        self.kind = kind
        self.limit = limit
        self.folder = folder  # a folder was wanted (a learner's submission), not a file

    def __str__(self) -> str:
        from backprop_katas.lang import say
        from backprop_katas.names import shown_name

        name = shown_name(self.path)
        if self.kind == "too_large":
            return say("read_too_large", file=name, limit=self.limit // 1000)
        if self.kind == "crowded":
            return say("read_crowded", folder=name, limit=self.limit)
        if self.kind == "changed":
            return say("read_changed", file=name)
        if self.folder:
            return say("read_not_folder", folder=name, kind=say(self.kind))
        return say("read_not_regular", file=name, kind=say(self.kind))

    def __reduce__(self) -> tuple[Any, ...]:  # crosses a process boundary (Dask) as itself
        return (Refused, (self.path, self.kind, self.limit, self.folder))


def _regular(path: Path, info: os.stat_result, limit: int) -> None:
    kind = kind_of(info.st_mode)
    if kind != "kind_file":
        raise Refused(path, kind)
    if info.st_size > limit:
        raise Refused(path, "too_large", limit)


def read_regular(path: Path, limit: int = MAX_KATA_FILE_BYTES) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes; :class:`Refused` otherwise.

    ``lstat`` first: a link, named pipe, device, socket or folder is never opened, and a file
    whose size says it is too large (a sparse one too) is never read. Then it is opened without
    following a link and without blocking (``O_NOFOLLOW | O_NONBLOCK``: a pipe swapped in since
    cannot hang the open) and checked again on the open descriptor (``fstat``: still a regular
    file, the same one), and at most ``limit + 1`` bytes are read, whatever the file does meanwhile.
    """
    before = os.lstat(path)
    _regular(path, before, limit)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        now = os.fstat(fd)
        _regular(path, now, limit)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise Refused(path, "changed")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew after the checks
        raise Refused(path, "too_large", limit)
    return data


def folder_entries(folder: Path, limit: int = MAX_FOLDER_ENTRIES) -> dict[str, os.stat_result]:
    """A submission folder's entries by name, each with its ``lstat`` (nothing is opened or followed).

    :class:`Refused` when ``folder`` is not a folder (a link to one included) or holds more
    than ``limit`` entries."""
    _folder(folder)
    found: dict[str, os.stat_result] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if len(found) >= limit:
                raise Refused(folder, "crowded", limit)
            try:
                found[entry.name] = entry.stat(follow_symlinks=False)
            except OSError:  # gone meanwhile
                continue
    return dict(sorted(found.items()))


def _folder(folder: Path) -> None:
    kind = kind_of(os.lstat(folder).st_mode)
    if kind != "kind_directory":
        raise Refused(folder, kind, folder=True)
