"""Git as a source: the whole history, a range of commits, a push, or what the index stages.

Each unique blob is read once through one `git cat-file --batch` stream and scanned whole, so
rules that need neighbouring lines fire in history exactly as in a file scan, even when a commit
changed only one of those lines (diff-based scanners lose that context). A commit *adds* a key
at a path when its version of the file holds the key and none of the parents' versions of that
file do; every such place is a location, and a key is one finding with all of its locations,
named for the earliest.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.errors import UsageError
from scanner.finding import Finding
from scanner.globs import matches_any
from scanner.pipeline import Scanner
from scanner.report import Report, ScanStats
from scanner.sources.files import BINARY_SUFFIXES, SNIFF_BYTES, decode, is_binary
from scanner.sources.gitrepo import GITLINK_MODE, SYMLINK_MODE, BlobReader, Change, Commit, Repo, is_null_sha

DAY = 86400
DEFAULT_MAX_AGE_DAYS = 90  # the usual rotation policy
SecretKey = tuple[str, str]  # (rule id, secret): one finding per key however often it was committed
BlobKey = tuple[str, tuple[Any, ...]]  # (blob sha, path profile)
ScannedBlob = tuple[BlobKey, int, "list[Finding] | None"]  # size, findings (None: binary)
PARALLEL_MIN_BLOBS = 64  # below this, forking workers costs more than it saves
BATCH_BYTES = 1 << 20  # blob bytes per worker task


@dataclass(frozen=True)
class Location:
    """A place a commit added a key."""

    commit: Commit
    path: str
    finding: Finding  # as found in that file version: line and column are that file's

    @property
    def sort_key(self) -> tuple[int, int, str, int]:
        """Earliest first: author date, then ancestors before descendants (git log order)."""
        return (self.commit.timestamp, -self.commit.order, self.path, self.finding.line)

    def public(self) -> dict[str, Any]:
        return {"commit": self.commit.sha, "path": self.path, "line": self.finding.line}


class Progress:
    """Commits and blobs done and MB/s on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None, interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = (hasattr(self.stream, "isatty") and self.stream.isatty()) if enabled is None else enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self.shown = False

    def update(self, *, commits: int, blobs: int, total_blobs: int, size: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        rate = size / max(now - self.started, 1e-6) / 1e6
        self.stream.write(f"\rkeysweep: {commits} commits, {blobs}/{total_blobs} blobs, {rate:.1f} MB/s ")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class BlobScanner:
    """Scans each blob once per *path profile* and remembers what it found.

    A profile is what a path changes about a scan (path-scoped rules, path allowlists); most
    paths share one, so a blob stored at many paths is still read and scanned once.
    """

    reader: BlobReader
    scanner: Scanner
    stats: ScanStats
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    share_paths: bool = True  # False: key blobs by path itself (a few staged files need no sharing)
    jobs: int = 1
    commits: int = 0
    _found: dict[BlobKey, list[Finding]] = field(default_factory=dict)
    _profiles: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _skip_reason: dict[str, str | None] = field(default_factory=dict)
    secrets_by_blob: dict[str, set[SecretKey]] = field(default_factory=dict)
    submodules: set[str] = field(default_factory=set)

    @property
    def config(self) -> Config:
        return self.scanner.config

    def profile(self, path: str) -> tuple[Any, ...]:
        cached = self._profiles.get(path)
        if cached is None and not self.share_paths:
            cached = self._profiles[path] = (path,)  # skips compiling every path-scoped rule's regex
        if cached is None:
            rules = tuple(rule.applies_to(path) for rule in self.scanner.engine.rules if rule.path)
            allow = tuple(bool(a.paths) and matches_any(path, a.paths) for a in self.config.allowlists)
            cached = self._profiles[path] = (rules, allow)
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
            skip_globs = self.config.exclude + tuple(g for a in self.config.allowlists if a.is_path_only for g in a.paths)
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
        return self._found.get((blob, self.profile(path)), [])

    def scanned(self, blob: str, path: str) -> bool:
        return (blob, self.profile(path)) in self._found

    def scan(self, items: Iterable[tuple[str, str]]) -> None:
        """Scan each (blob, path) not yet scanned for its profile; sizes are checked before reading."""
        todo: dict[BlobKey, str] = {}
        for blob, path in items:
            key = (blob, self.profile(path))
            if key not in self._found and key not in todo:
                todo[key] = path
        if not todo:
            return
        sizes = self.reader.sizes({blob for blob, _ in todo})
        wanted: list[tuple[BlobKey, str, int]] = []
        for key, path in todo.items():
            size = sizes.get(key[0])
            if size is None:
                self._found[key] = []
                self.stats.skipped["missing object"] += 1
            elif size > self.config.max_file_size:
                self._found[key] = []
                self.stats.skipped["too large"] += 1
                self.stats.warnings.append(f"{path} ({key[0][:12]}): skipped, {size} bytes is over the "
                                           f"{self.config.max_file_size}-byte limit (scan.max_file_size)")
            else:
                wanted.append((key, path, size))
        total = len(wanted)
        for done, (key, size, found) in enumerate(self._scanned(wanted), 1):
            self._record(key, size, found)
            self.progress.update(commits=self.commits, blobs=done, total_blobs=total, size=self.stats.bytes_scanned)
        self.progress.update(commits=self.commits, blobs=total, total_blobs=total, size=self.stats.bytes_scanned,
                             force=True)

    def _scanned(self, wanted: list[tuple[BlobKey, str, int]]) -> Iterator[ScannedBlob]:
        """Read each wanted blob once and scan it, in worker processes when there are many."""
        if self.jobs > 1 and len(wanted) >= PARALLEL_MIN_BLOBS:
            yield from self._scanned_parallel(wanted)
            return
        for (key, path, _), (_, data) in zip(wanted, self.reader.read_many([key[0] for key, _, _ in wanted])):
            yield key, len(data), scan_blob(self.scanner, path, data)

    def _scanned_parallel(self, wanted: list[tuple[BlobKey, str, int]]) -> Iterator[ScannedBlob]:
        """Workers get blob ids, not contents: each reads its batches through its own cat-file
        stream, so inflating objects runs in parallel and no blob is copied between processes."""
        import multiprocessing

        global _WORKER_SCANNER, _WORKER_REPO
        _WORKER_SCANNER, _WORKER_REPO = self.scanner, self.reader.repo
        self.scanner.engine.prepare()
        with multiprocessing.get_context("fork").Pool(processes=self.jobs) as pool:
            for batch in pool.imap(_scan_batch, _batches(wanted)):
                yield from batch
        _WORKER_SCANNER = _WORKER_REPO = None

    def _record(self, key: BlobKey, size: int, found: list[Finding] | None) -> None:
        if found is None:
            self.stats.skipped["binary"] += 1
            self._found[key] = []
            return
        self.stats.files_scanned += 1
        self.stats.bytes_scanned += size
        self._found[key] = found
        if found:
            self.secrets_by_blob.setdefault(key[0], set()).update(secret_key(f) for f in found if f.suppressed is None)

    def added(self, change: Change) -> list[Finding]:
        """Findings in this file version whose key none of its parent versions held."""
        found = self.findings(change.blob, change.path)
        if not found or not change.old_blobs:
            return found
        self.scan((old, change.path) for old in change.old_blobs)
        before = {secret_key(f) for old in change.old_blobs for f in self.findings(old, change.path)}
        return [f for f in found if secret_key(f) not in before]


def secret_key(finding: Finding) -> SecretKey:
    return (finding.rule_id, finding.secret)


def scan_blob(scanner: Scanner, path: str, data: bytes) -> list[Finding] | None:
    """Findings in one file version, or None when it is binary."""
    if is_binary(data[:SNIFF_BYTES]):
        return None
    return scanner.scan(Chunk(text=decode(data), path=path, source="git"))


# Worker processes inherit the scanner and repository through fork rather than unpickling them.
_WORKER_SCANNER: Scanner | None = None
_WORKER_REPO: Repo | None = None
_WORKER_READER: BlobReader | None = None  # one cat-file stream per worker, for its lifetime


def _scan_batch(batch: list[tuple[BlobKey, str, int]]) -> list[ScannedBlob]:
    global _WORKER_READER
    assert _WORKER_SCANNER is not None and _WORKER_REPO is not None
    if _WORKER_READER is None:
        _WORKER_READER = BlobReader(_WORKER_REPO)  # its git process ends with the worker (EOF on stdin)
    contents = _WORKER_READER.read_many([key[0] for key, _, _ in batch])
    return [(key, len(data), scan_blob(_WORKER_SCANNER, path, data))
            for (key, path, _), (_, data) in zip(batch, contents)]


def _batches(blobs: Iterable[tuple[BlobKey, str, int]]) -> Iterator[list[tuple[BlobKey, str, int]]]:
    batch: list[tuple[BlobKey, str, int]] = []
    size = 0
    for item in blobs:
        batch.append(item)
        size += item[2]
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# --- history, ranges and pushes ---------------------------------------------------------------


def all_refs(repo: Repo) -> list[str]:
    """Every ref (branches, tags, notes, remotes, HEAD) plus every stash entry, not only the newest."""
    return ["--all", *repo.stash_commits()]


def range_revs(repo: Repo, spec: str) -> list[str]:
    """`A..B` (what B has that A lacks) as log arguments, each end checked for a clear error."""
    if "..." in spec or ".." not in spec:
        raise UsageError(f"--range {spec!r}: expected A..B (two revisions separated by '..')")
    base, _, tip = spec.partition("..")
    tip_sha = repo.resolve(tip or "HEAD")
    return [tip_sha, f"^{repo.resolve(base or 'HEAD')}"]


def since_revs(repo: Repo, rev: str) -> list[str]:
    return [repo.resolve("HEAD"), f"^{repo.resolve(rev)}"]


def pre_push_revs(repo: Repo, lines: Iterable[str], *, remote: str | None, environ: dict[str, str]) -> list[str]:
    """The commits a push sends: git's pre-push stdin (`<local ref> <sha> <remote ref> <sha>` per line),
    or the refs the pre-commit framework passes in its environment instead."""
    if environ.get("PRE_COMMIT_FROM_REF") and environ.get("PRE_COMMIT_TO_REF"):
        return [environ["PRE_COMMIT_TO_REF"], f"^{environ['PRE_COMMIT_FROM_REF']}"]
    remote = remote or environ.get("PRE_COMMIT_REMOTE_NAME")
    if environ.get("PRE_COMMIT") and environ.get("PRE_COMMIT_LOCAL_BRANCH"):
        lines = [f"{environ['PRE_COMMIT_LOCAL_BRANCH']} {repo.resolve(environ['PRE_COMMIT_LOCAL_BRANCH'])} x {'0' * 40}"]
    tips: list[str] = []
    known_remote: list[str] = []
    for line in lines:
        parts = line.split()
        if len(parts) != 4:
            continue
        _local_ref, local_sha, _remote_ref, remote_sha = parts
        if is_null_sha(local_sha):
            continue  # a deletion sends no commits
        tips.append(local_sha)
        if not is_null_sha(remote_sha) and repo.rev_exists(remote_sha):
            known_remote.append(f"^{remote_sha}")
    if not tips:
        return []
    # Anything a remote-tracking ref already has is on the remote: a new branch sends only its own commits.
    return [*tips, *known_remote, "--not", f"--remotes={remote}" if remote else "--remotes"]


@dataclass
class HistoryResult:
    findings: list[Finding]
    commits: int
    blobs: int
    default_branch: str | None


def scan_commits(
    repo: Repo,
    revs: list[str],
    *,
    scanner: Scanner,
    stats: ScanStats,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    now: float | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> HistoryResult:
    """Scan what the commits selected by revs add; provenance from the earliest commit adding each key."""
    now = time.time() if now is None else now
    progress = progress or Progress()
    with BlobReader(repo) as reader:
        blobs = BlobScanner(reader, scanner, stats, progress, jobs=jobs)
        changes: list[tuple[Commit, Change]] = []
        for commit, commit_changes in (repo.log(revs) if revs else ()):
            blobs.commits += 1
            for change in commit_changes:
                reason = blobs.skip_reason(change)
                if reason is None:
                    changes.append((commit, change))
                elif reason != "submodule":
                    stats.skipped[reason] += 1
            progress.update(commits=blobs.commits, blobs=0, total_blobs=0, size=0)
        blobs.scan((change.blob, change.path) for _, change in changes)
        locations: dict[SecretKey, list[Location]] = {}
        for commit, change in changes:
            for found in blobs.added(change):
                locations.setdefault(secret_key(found), []).append(Location(commit, change.path, found))
        default_branch = repo.default_branch() if locations else None
        in_head = keys_in_head(repo, blobs, locations, default_branch)
        progress.done()
    for path in sorted(blobs.submodules):
        stats.warnings.append(f"{path}: submodule skipped; scan its repository separately")
    stats.skipped["submodule"] += len(blobs.submodules)
    if not stats.skipped["submodule"]:
        del stats.skipped["submodule"]
    if repo.shallow:
        stats.warnings.append("shallow clone: scanned the history that is present; commits before the shallow "
                              "boundary were not scanned (fetch with --unshallow for the full history)")
    findings = [
        history_finding(locs, in_head=key in in_head, now=now, max_age_days=max_age_days)
        for key, locs in locations.items()
    ]
    return HistoryResult(findings, blobs.commits, blobs.blobs_seen, default_branch)


def keys_in_head(
    repo: Repo, blobs: BlobScanner, locations: dict[SecretKey, list[Location]], ref: str | None
) -> set[SecretKey]:
    """Keys still present at the tip of the default branch (any file there holding them)."""
    if not locations or ref is None:
        return set()
    head = repo.tree_blobs(ref)
    head_shas = set(head.values())
    # Files at head where a key was added, even if that version was never scanned (range mode).
    at_paths = {(head[loc.path], loc.path) for locs in locations.values() for loc in locs if loc.path in head}
    blobs.scan(at_paths)
    present: set[SecretKey] = set()
    for sha in head_shas & blobs.secrets_by_blob.keys():
        present |= blobs.secrets_by_blob[sha]
    return present & locations.keys()


def history_finding(locations: list[Location], *, in_head: bool, now: float, max_age_days: int) -> Finding:
    locations = sorted(locations, key=lambda loc: loc.sort_key)
    first = locations[0]
    commit = first.commit
    age_days = max(0, int((now - commit.timestamp) // DAY))
    extra = {
        **first.finding.extra,
        "author": commit.author,
        "email": commit.email,
        "date": commit.date,
        "message": commit.message,
        "in_head": in_head,
        "first_seen": commit.date,
        "age_days": age_days,
        "overdue": age_days > max_age_days,
        "locations": [loc.public() for loc in locations],
    }
    return first.finding.replace(path=first.path, commit=commit.sha, source="git", extra=extra)


# --- the index (pre-commit) -----------------------------------------------------------------------


def scan_staged(repo: Repo, *, scanner: Scanner, stats: ScanStats) -> list[Finding]:
    """What the index adds relative to HEAD; lines are the staged file's. Work grows with the change only."""
    changes = []
    with BlobReader(repo) as reader:
        blobs = BlobScanner(reader, scanner, stats, share_paths=False)
        for change in repo.staged_changes():
            reason = blobs.skip_reason(change)
            if reason is None:
                changes.append(change)
            elif reason != "submodule":
                stats.skipped[reason] += 1
        blobs.scan((change.blob, change.path) for change in changes)
        findings = [
            found.replace(path=change.path, source="git", extra={**found.extra, "staged": True})
            for change in changes
            for found in blobs.added(change)
        ]
    for path in sorted(blobs.submodules):
        stats.warnings.append(f"{path}: submodule skipped; scan its repository separately")
    return findings


# --- one entry point for the command ----------------------------------------------------------


def git_report(
    repo: Repo,
    *,
    scanner: Scanner,
    staged: bool = False,
    revs: list[str] | None = None,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    now: float | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Report:
    """Scan the index (staged) or the commits revs select (None: every ref) into a Report."""
    from scanner.scan import make_report

    started = time.monotonic()
    stats = ScanStats()
    if staged:
        findings = scan_staged(repo, scanner=scanner, stats=stats)
        extra: dict[str, Any] = {"mode": "staged"}
    else:
        result = scan_commits(repo, all_refs(repo) if revs is None else revs, scanner=scanner, stats=stats,
                              max_age_days=max_age_days, now=now, progress=progress, jobs=jobs)
        findings = result.findings
        extra = {"mode": "history" if revs is None else "commits", "commits_scanned": result.commits,
                 "blobs_scanned": result.blobs, "default_branch": result.default_branch, "shallow": repo.shallow}
    report = make_report(scanner, findings, stats, started)
    return dataclasses.replace(report, extra_stats={**report.extra_stats, **extra})
