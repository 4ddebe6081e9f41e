"""keysweep's on-disk cache (`$XDG_CACHE_HOME/keysweep`): compiled databases and parsed rules.

Everything here is derived data keyed by what it was derived from: a missing, stale or broken
entry is rebuilt, a read-only cache is used as it is, and writes are atomic (temp file, rename).
"""

from __future__ import annotations

import os
from pathlib import Path

KEEP_DATABASES = 8  # per kind: a rule set edited now and then must not fill the disk (~1 MB each)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keysweep"


def write_cache(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the next run a rebuild


def cache_writable() -> bool:
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        probe = cache_dir() / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False


def mark_used(path: Path) -> None:
    """Recently used: kept when the cache is pruned (a read-only cache is used as it is)."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune_cache(prefix: str, *, suffix: str = ".hsdb", keep: int = KEEP_DATABASES) -> None:
    """Keep the most recently used cache files of one kind (and a database's listing)."""
    try:
        databases = sorted(cache_dir().glob(f"{prefix}*{suffix}"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in databases[keep:]:
            stale.unlink(missing_ok=True)
            stale.with_suffix(".json").unlink(missing_ok=True)
    except OSError:
        pass  # another process pruned the same files
