"""Working trees, single files and standard input as blobs for the dispatcher.

Everything under the given paths is scanned except `.git` and configured excludes, including
untracked and git-ignored files: an audit must see a stray `.env.local`. Symlinks are not followed
(a link committed in a pull request must not make keysweep read outside the tree), and only regular
files are opened (a FIFO would block the scan forever).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.errors import UsageError
from scanner.globs import matches_any, without_dot_slash
from scanner.report import ScanStats
from scanner.sources.blob import Blob, open_regular_file
from scanner.sources.dispatch import blob_chunks

SKIP_DIRS = {".git", ".hg", ".svn"}


@dataclass(frozen=True)
class FileEntry:
    fs_path: str  # as opened
    display: str  # as reported
    root: str | None = None  # the directory given on the command line that it was found under


def walk(roots: list[str], *, config: Config, stats: ScanStats) -> Iterator[FileEntry]:
    """Every file to scan under roots, in a stable order; skips are counted in stats."""
    skip_globs = config.skip_globs
    for root in roots:
        try:
            mode = os.stat(root).st_mode
        except FileNotFoundError:
            raise UsageError(f"{root}: no such file or directory") from None
        except OSError as exc:
            stats.skipped["unreadable"] += 1
            stats.warnings.append(f"{root}: cannot read: {exc.strerror}")
            continue
        if not stat.S_ISDIR(mode):
            yield FileEntry(root, without_dot_slash(root))
            continue
        for directory, dirnames, filenames in os.walk(root, onerror=lambda e: _walk_error(e, stats)):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not _excluded(os.path.join(directory, d), config, skip_globs, stats)
            )
            for name in sorted(filenames):
                path = os.path.join(directory, name)
                if os.path.islink(path):
                    stats.skipped["symlink"] += 1
                elif not _excluded(path, config, skip_globs, stats):
                    yield FileEntry(path, without_dot_slash(path), root)


def _excluded(path: str, config: Config, globs: tuple[str, ...], stats: ScanStats) -> bool:
    if globs and matches_any(config.relative(path), globs):
        stats.skipped["excluded"] += 1
        return True
    return False


def _walk_error(error: OSError, stats: ScanStats) -> None:
    stats.skipped["unreadable"] += 1
    stats.warnings.append(f"{error.filename}: cannot read directory: {error.strerror}")


def file_blob(entry: FileEntry) -> Blob:
    return Blob(entry.display, entry.fs_path, lambda: open_regular_file(entry.fs_path), root=entry.root)


def file_chunks(entry: FileEntry, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """A file's chunks, whatever it holds: the dispatcher reads it as its name and content call for."""
    yield from blob_chunks(file_blob(entry), config=config, stats=stats)


def stdin_chunks(stream: BinaryIO, *, stats: ScanStats, config: Config | None = None) -> Iterator[Chunk]:
    """Standard input, streamed: a log when its first lines look like one (or `--as` says what it is)."""
    blob = Blob("-", None, lambda: stream, rereadable=False, source="stdin")
    yield from blob_chunks(blob, config=config or Config(), stats=stats)
