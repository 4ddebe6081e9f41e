"""Progress of long scans on stderr (commits, blobs, MB/s, ETA), only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None, interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = (hasattr(self.stream, "isatty") and self.stream.isatty()) if enabled is None else enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self.shown = False

    def update(self, *, commits: int, blobs: int, total_blobs: int, size: int, total_size: int = 0,
               prefix: str = "", unit: str = "blobs", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = size / elapsed / 1e6
        line = f"\rkeysweep: {prefix}{commits} commits, {blobs}/{total_blobs} {unit}, {rate:.1f} MB/s"
        if total_size > size > 0:
            line += f", ETA {eta(elapsed, size, total_size)}"
        elif not total_size and total_blobs > blobs > 0:  # sizes unknown ahead (patches): by count
            line += f", ETA {eta(elapsed, blobs, total_blobs)}"
        self.write(line + " ")

    def write(self, line: str) -> None:
        self.stream.write(line)
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def eta(elapsed: float, done: float, total: float) -> str:
    """What is left at the rate so far, as `1m05s` or `12s`."""
    seconds = int(elapsed * (total - done) / max(done, 1e-9))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
