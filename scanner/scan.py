"""Run a scan of files: build the engine once, feed it chunks (in worker processes for big trees), collect a Report."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from scanner.assemble import build_scanner, select_rules
from scanner.chunk import Chunk
from scanner.execution import run_parallel
from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.report import Report, ScanStats, build_report
from scanner.sources.files import FileEntry, file_chunks, stdin_chunks, walk

__all__ = ["build_scanner", "scan_paths", "select_rules"]

PARALLEL_MIN_FILES = 64  # below this, forking workers costs more than it saves
BATCH_FILES = 32


def collect(scanner: Scanner, chunks: Iterable[Chunk], stats: ScanStats | None = None) -> list[Finding]:
    return [finding for chunk in chunks for finding in scanner.scan(chunk, stats)]


def scan_paths(
    paths: list[str], *, scanner: Scanner, jobs: int = 1, read_stdin: Callable[[], BinaryIO] | None = None,
    method: str | None = None,
) -> Report:
    """Scan files and directories ('-' is standard input, read with read_stdin)."""
    started = time.monotonic()
    stats = ScanStats()
    findings: list[Finding] = []
    walk_stats = ScanStats()  # the walk goes on in the pool's feeder thread: merged at the end
    entries = walk([p for p in paths if p != "-"], config=scanner.config, stats=walk_stats)
    if "-" in paths and read_stdin is not None:
        findings.extend(collect(scanner, stdin_chunks(read_stdin(), stats=stats, config=scanner.config), stats))
    first = list(itertools.islice(entries, PARALLEL_MIN_FILES))
    parallel = jobs > 1 and len(first) == PARALLEL_MIN_FILES
    if parallel:
        scanner.engine.prepare()  # compiled once here, then loaded by (or inherited into) the workers
    # Workers start on the first batches while the rest of the tree is still being walked.
    for found, batch_stats in run_parallel(scan_file_batch, _batches(itertools.chain(first, entries)),
                                           state=scanner, jobs=jobs if parallel else 1, method=method):
        findings.extend(found)
        stats.merge(batch_stats)
    stats.merge(walk_stats)
    return build_report(scanner.engine.rules, findings, stats, started)


def scan_file_batch(scanner: Scanner, batch: list[FileEntry]) -> tuple[list[Finding], ScanStats]:
    """One task: a few files, scanned in a worker (or in-process)."""
    stats = ScanStats()
    found = []
    for entry in batch:
        found.extend(collect(scanner, file_chunks(entry, config=scanner.config, stats=stats), stats))
    return found, stats


def _batches(entries: Iterable[FileEntry]) -> Iterator[list[FileEntry]]:
    iterator = iter(entries)
    while batch := list(itertools.islice(iterator, BATCH_FILES)):
        yield batch
