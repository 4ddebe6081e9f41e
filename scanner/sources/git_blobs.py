"""Git blobs through the dispatcher: each unique blob read once per *path profile*, remembered.

A blob is read exactly as a file of the same name would be (`sources/dispatch.py`): a `.log` as a
log, a `dist/` script as a bundle, a `.zip` member by member, a Kubernetes Secret with its base64
decoded. A profile is what a path changes about that (the reader its name calls for, path-scoped
rules, path allowlists); most paths share one, so a blob stored at many paths is still read and
scanned once. Many blobs are read and scanned in worker processes (scanner/execution.py), each
reading through its own `git cat-file --batch` stream.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.config import Config
from scanner.execution import run_parallel
from scanner.finding import Finding
from scanner.globs import matches_any
from scanner.pipeline import Scanner
from scanner.progress import Progress
from scanner.report import ScanStats
from scanner.rules import Rule
from scanner.sources.blob import BINARY_SUFFIXES, Blob
from scanner.sources.dispatch import blob_chunks, kind_by_name
from scanner.sources.gitrepo import GITLINK_MODE, SYMLINK_MODE, BlobReader, Change, Repo

SecretKey = tuple[str, str]  # (rule id, secret): one finding per key however often it was committed
BlobKey = tuple[str, tuple[Any, ...]]  # (blob sha, path profile)
WorkItem = tuple[BlobKey, str, int]  # key, the path it is read as, size
PARALLEL_MIN_BLOBS = 64  # below this, starting workers costs more than it saves
BATCH_BYTES = 1 << 20  # blob bytes per worker task


def secret_key(finding: Finding) -> SecretKey:
    return (finding.rule_id, finding.secret)


def scan_blob(scanner: Scanner, path: str, data: bytes, stats: ScanStats) -> list[Finding]:
    """Findings in one file version, read by the dispatcher as a file of that name would be."""
    blob = Blob(path, None, lambda: io.BytesIO(data), source="git", size=len(data))
    return [finding for chunk in blob_chunks(blob, config=scanner.config, stats=stats)
            for finding in scanner.scan(chunk, stats)]


@dataclass
class BlobWork:
    """What a worker needs to scan blobs: the scanner and the repository. Its cat-file stream is
    opened on first use, once per process, and never pickled."""

    scanner: Scanner
    repo: Repo
    reader: BlobReader | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"scanner": self.scanner, "repo": self.repo, "reader": None}

    def blob_reader(self) -> BlobReader:
        if self.reader is None:
            self.reader = BlobReader(self.repo)  # its git process ends with the worker (EOF on stdin)
        return self.reader


def scan_blob_batch(work: BlobWork, batch: list[WorkItem]) -> tuple[list[tuple[BlobKey, str, list[Finding]]], ScanStats]:
    """One task: read a batch of blobs through the worker's own cat-file stream and scan each."""
    stats = ScanStats()
    contents = work.blob_reader().read_many([key[0] for key, _, _ in batch])
    scanned = [(key, path, scan_blob(work.scanner, path, data, stats))
               for (key, path, _), (_, data) in zip(batch, contents)]
    return scanned, stats


def batches(items: Iterable[WorkItem], limit: int | None = None) -> Iterator[list[WorkItem]]:
    limit = BATCH_BYTES if limit is None else limit
    batch: list[WorkItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += item[2]
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


@dataclass
class BlobScanner:
    """Scans each blob once per path profile and remembers what it found (and at which path, so a
    finding can be named for another path holding the same blob)."""

    reader: BlobReader
    scanner: Scanner
    stats: ScanStats
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    share_paths: bool = True  # False: key blobs by path itself (a few staged files need no sharing)
    jobs: int = 1
    commits: int = 0
    _found: dict[BlobKey, tuple[str, list[Finding]]] = field(default_factory=dict)
    _profiles: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _skip_reason: dict[str, str | None] = field(default_factory=dict)
    secrets_by_blob: dict[str, set[SecretKey]] = field(default_factory=dict)
    submodules: set[str] = field(default_factory=set)

    @property
    def config(self) -> Config:
        return self.scanner.config

    @functools.cached_property
    def path_rules(self) -> list[Rule]:
        return [rule for rule in self.scanner.engine.rules if rule.path]

    def profile(self, path: str) -> tuple[Any, ...]:
        cached = self._profiles.get(path)
        if cached is None and not self.share_paths:
            cached = self._profiles[path] = (path,)  # skips compiling every path-scoped rule's regex
        if cached is None:
            reader = kind_by_name(path, relative=lambda: path)
            rules = tuple(rule.applies_to(path) for rule in self.path_rules)
            allow = tuple(bool(a.paths) and matches_any(path, a.paths) for a in self.config.allowlists)
            cached = self._profiles[path] = (reader, rules, allow)
        return cached

    def skip_reason(self, change: Change) -> str | None:
        """Why this file is not read at all (decided from its mode and name, before any I/O)."""
        if change.mode == GITLINK_MODE:
            self.submodules.add(change.path)
            return "submodule"
        if change.mode == SYMLINK_MODE:
            return "symlink"
        reason = self._skip_reason.get(change.path, "")
        if reason == "":
            reason = None
            skip_globs = self.config.skip_globs
            if skip_globs and matches_any(change.path, skip_globs):
                reason = "excluded"
            elif "." in change.path and change.path[change.path.rfind("."):].lower() in BINARY_SUFFIXES:
                reason = "binary"
            self._skip_reason[change.path] = reason
        return reason

    @property
    def blobs_seen(self) -> int:
        return len(self._found)

    def findings(self, blob: str, path: str) -> list[Finding]:
        """The blob's findings, named for `path` (which may differ from the path it was read as)."""
        scanned_path, found = self._found.get((blob, self.profile(path)), (path, []))
        if scanned_path == path:
            return found
        return [rebase(f, scanned_path, path) for f in found]

    def scanned(self, blob: str, path: str) -> bool:
        return (blob, self.profile(path)) in self._found

    def scan(self, items: Iterable[tuple[str, str]]) -> None:
        """Scan each (blob, path) not yet scanned for its profile; sizes are checked before reading."""
        wanted, skipped = self.plan(items)
        for key, path, size in skipped:
            self.skip(key, path, size)
        self._scan_wanted(wanted)

    def plan(self, items: Iterable[tuple[str, str]], requested: set[BlobKey] | None = None
             ) -> tuple[list[WorkItem], list[tuple[BlobKey, str, int | None]]]:
        """The (blob, path) pairs still to scan: those to read, and those to skip (missing, too large).
        Reads this scanner's state only (it may run in the thread that feeds a worker pool); `requested`
        holds the keys already handed out, and gains these."""
        requested = set() if requested is None else requested
        todo: dict[BlobKey, str] = {}
        for blob, path in items:
            key = (blob, self.profile(path))
            if key not in self._found and key not in requested and key not in todo:
                todo[key] = path
        requested.update(todo)
        if not todo:
            return [], []
        sizes = self.reader.sizes({blob for blob, _ in todo})
        wanted: list[WorkItem] = []
        skipped: list[tuple[BlobKey, str, int | None]] = []
        for key, path in todo.items():
            size = sizes.get(key[0])
            if size is None or size > self.config.max_file_size:
                skipped.append((key, path, size))
            else:
                wanted.append((key, path, size))
        return wanted, skipped

    def skip(self, key: BlobKey, path: str, size: int | None) -> None:
        self._found[key] = (path, [])
        if size is None:
            self.stats.skipped["missing object"] += 1
            return
        self.stats.skipped["too large"] += 1
        self.stats.warnings.append(f"{path} ({key[0][:12]}): skipped, {size} bytes is over the "
                                   f"{self.config.max_file_size}-byte limit (scan.max_file_size)")

    def _scan_wanted(self, wanted: list[WorkItem]) -> None:
        total, total_size = len(wanted), sum(size for _, _, size in wanted)
        done = 0
        jobs = self.jobs if len(wanted) >= PARALLEL_MIN_BLOBS else 1
        work = BlobWork(self.scanner, self.reader.repo, self.reader if jobs == 1 else None)
        if jobs > 1:
            self.scanner.engine.prepare()  # compiled once here, then loaded by (or inherited into) the workers
        for scanned, batch_stats in run_parallel(scan_blob_batch, batches(wanted), state=work, jobs=jobs):
            self.record(scanned, batch_stats)
            done += len(scanned)
            self.progress.update(commits=self.commits, blobs=done, total_blobs=total, size=self.stats.bytes_scanned,
                                 total_size=total_size)
        self.progress.update(commits=self.commits, blobs=total, total_blobs=total, size=self.stats.bytes_scanned,
                             force=True)

    def record(self, scanned: list[tuple[BlobKey, str, list[Finding]]], stats: ScanStats) -> None:
        """A worker's results: each blob's findings, and its counters."""
        self.stats.merge(stats)
        for key, path, found in scanned:
            self._found[key] = (path, found)
            if found:
                self.secrets_by_blob.setdefault(key[0], set()).update(
                    secret_key(f) for f in found if f.suppressed is None)

    def added(self, change: Change) -> list[Finding]:
        """Findings in this file version whose key none of its parent versions held."""
        found = self.findings(change.blob, change.path)
        if not found or not change.old_blobs:
            return found
        self.scan((old, change.path) for old in change.old_blobs)
        before = {secret_key(f) for old in change.old_blobs for f in self.findings(old, change.path)}
        return [f for f in found if secret_key(f) not in before]


def rebase(finding: Finding, scanned_path: str, path: str) -> Finding:
    """A finding read at `scanned_path`, named for `path` (archive members keep their `!inner` part;
    a source map's original file names stay as they are)."""
    if finding.path == scanned_path:
        return finding.replace(path=path)
    if finding.path.startswith(scanned_path + "!"):
        return finding.replace(path=path + finding.path[len(scanned_path):])
    return finding
