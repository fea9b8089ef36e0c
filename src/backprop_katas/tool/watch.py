"""``katas watch``: check the current kata whenever a kata file is saved, and move on when it passes.

Files are polled (their mtime and size), so it works everywhere without an
extra dependency, with a debounce: an editor that writes a file in several
steps triggers one check. Enter checks at once; in manual mode (for file
systems where polling sees nothing) Enter is the only trigger.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """mtime and size of every kata file in the folder."""
    found: Snapshot = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if entry.name.endswith(".py") and entry.is_file():
            try:
                info = entry.stat()
            except OSError:
                continue
            found[entry.name] = (info.st_mtime_ns, info.st_size)
    return found


class Watcher:
    """Waits for the next reason to check: a saved file (after a quiet spell), Enter, or quit."""

    def __init__(
        self, folder: Path, stdin: TextIO, manual: bool = False, interval: float = 0.25, debounce: float = 0.4
    ) -> None:
        self.folder = folder
        self.stdin = stdin
        self.manual = manual
        self.interval = interval
        self.debounce = debounce
        self.stdin_open = True
        self.last = snapshot(folder)

    def _read_line(self, timeout: float | None) -> str | None:
        """A line from stdin if one arrives within ``timeout`` (None: wait); "" at end of input."""
        if not self.stdin_open:
            if timeout is not None:
                time.sleep(timeout)
            return None
        try:
            ready, _, _ = select.select([self.stdin], [], [], timeout)
        except (OSError, ValueError):  # stdin without a file descriptor (e.g. replaced in tests)
            ready = [self.stdin]
        if not ready:
            return None
        line = self.stdin.readline()
        if line == "":
            self.stdin_open = False
        return line

    def wait(self) -> str:
        """Block until something happens: "check" or "quit"."""
        while True:
            if self.manual:
                line = self._read_line(None)
                if line is None or line == "" or line.strip().lower() in ("q", "quit", "exit"):
                    return "quit"
                return "check"
            line = self._read_line(self.interval)
            if line is not None and line != "":
                if line.strip().lower() in ("q", "quit", "exit"):
                    return "quit"
                self.last = snapshot(self.folder)
                return "check"
            current = snapshot(self.folder)
            if current != self.last:
                self._settle(current)
                return "check"

    def _settle(self, current: Snapshot) -> None:
        """Debounce: wait until the files stop changing for ``debounce`` seconds."""
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < self.debounce:
            time.sleep(min(self.interval, self.debounce) / 2)
            latest = snapshot(self.folder)
            if latest != current:
                current = latest
                quiet_since = time.monotonic()
        self.last = current


def run_watch(check: Callable[[], bool], watcher: Watcher, on_quit: Callable[[], None]) -> int:
    """Check, then wait and check again until ``check`` says everything passes or the learner quits."""
    try:
        while True:
            if check():
                return 0
            if watcher.wait() == "quit":
                on_quit()
                return 0
    finally:
        sys.stdout.flush()
