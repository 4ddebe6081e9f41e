"""History: what the commits selected by a set of revisions add, with provenance.

A commit *adds* a key at a path when its version of the file holds the key and none of the parents'
versions of that file do; every such place is a location, and a key is one finding with all of its
locations, named for the earliest. A modification is first read as its patch (git_patches.py): only
when a match touches its changed lines are both versions read whole (git_blobs.py), so rules that need
neighbouring lines fire in history exactly as in a file scan, even when a commit changed only one of
those lines. New files, merges and files read by their own reader are read whole from the start;
`whole_blobs` reads every change whole (the slower, simplest reading, kept to check the other against).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.progress import Progress
from scanner.report import ScanStats
from scanner.sources.git_blobs import BlobScanner, SecretKey, secret_key
from scanner.sources.git_changes import read_changes
from scanner.sources.gitrepo import BlobReader, Change, Commit, Repo

DAY = 86400
DEFAULT_MAX_AGE_DAYS = 90  # the usual rotation policy


@dataclass(frozen=True)
class Location:
    """A place a commit added a key."""

    commit: Commit
    file: str  # the file the commit changed
    finding: Finding  # as found in that file version: line and column are that file's

    @property
    def path(self) -> str:
        """As reported: the file, or a member inside it (`site.zip!config/.env`)."""
        return self.finding.path

    @property
    def sort_key(self) -> tuple[int, int, str, int]:
        """Earliest first: author date, then ancestors before descendants (git log order)."""
        return (self.commit.timestamp, -self.commit.order, self.path, self.finding.line)

    def public(self) -> dict[str, Any]:
        return {"commit": self.commit.sha, "path": self.path, "line": self.finding.line}


@dataclass
class HistoryResult:
    findings: list[Finding]
    commits: int
    blobs: int  # read whole
    default_branch: str | None
    # Raw material of the findings, for callers that merge several scans of one repository (the fleet's
    # commit-range tasks and incremental reruns): every place each key was added, and the keys in HEAD.
    locations: dict[SecretKey, list[Location]] = field(default_factory=dict)
    in_head: set[SecretKey] = field(default_factory=set)
    patches: int = 0  # file changes read as patches (those a match touches are also read whole)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for `stats.phase_seconds`


class PhaseClock:
    """Wall time of each phase of a scan, as it ends."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


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
    whole_blobs: bool = False,
) -> HistoryResult:
    """Scan what the commits selected by revs add; provenance from the earliest commit adding each key."""
    now = time.time() if now is None else now
    progress = progress or Progress()
    clock = PhaseClock()
    with BlobReader(repo) as reader:
        blobs = BlobScanner(reader, scanner, stats, progress, jobs=jobs)
        reading = read_changes(repo, revs, blobs, whole_blobs=whole_blobs, progress=progress, jobs=jobs)
        clock.lap("log, patches and new files")
        locations = added_keys(blobs, reading.whole)
        clock.lap("flagged changes read whole")
        default_branch = repo.default_branch() if locations else None
        in_head = keys_in_head(repo, blobs, locations, default_branch)
        clock.lap("keys at the default branch")
        progress.done()
    note_skips(repo, blobs, stats)
    findings = [
        history_finding(locs, in_head=key in in_head, now=now, max_age_days=max_age_days)
        for key, locs in locations.items()
    ]
    return HistoryResult(findings, blobs.commits, blobs.blobs_seen, default_branch, locations, in_head,
                         reading.patches, clock.laps)


def added_keys(blobs: BlobScanner, changes: list[tuple[Commit, Change]]) -> dict[SecretKey, list[Location]]:
    """Every place a change adds a key: new versions first (most were read in the first pass), then the
    parents' versions of those that hold one."""
    blobs.scan((change.blob, change.path) for _, change in changes)
    holding = [(commit, change) for commit, change in changes if blobs.findings(change.blob, change.path)]
    blobs.scan((old, change.path) for _, change in holding for old in change.old_blobs)
    locations: dict[SecretKey, list[Location]] = {}
    for commit, change in holding:
        for found in blobs.added(change):
            locations.setdefault(secret_key(found), []).append(Location(commit, change.path, found))
    return locations


def note_skips(repo: Repo, blobs: BlobScanner, stats: ScanStats) -> None:
    for path in sorted(blobs.submodules):
        stats.warnings.append(f"{path}: submodule skipped; scan its repository separately")
    if blobs.submodules:
        stats.skipped["submodule"] += len(blobs.submodules)
    if repo.shallow:
        stats.warnings.append("shallow clone: scanned the history that is present; commits before the shallow "
                              "boundary were not scanned (fetch with --unshallow for the full history)")


def keys_in_head(
    repo: Repo, blobs: BlobScanner, locations: dict[SecretKey, list[Location]], ref: str | None
) -> set[SecretKey]:
    """Keys still present at the tip of the default branch: in a file where one was added, or in any
    file there holding its text (a key moved or copied to another file)."""
    if not locations or ref is None:
        return set()
    head = repo.tree_blobs(ref)
    paths = {loc.file for locs in locations.values() for loc in locs if loc.file in head}
    paths |= repo.files_holding(ref, {fragment(secret) for _, secret in locations} - {""}) & head.keys()
    at_head = {(head[path], path) for path in paths}
    blobs.scan(at_head)
    present = {secret_key(f) for blob, path in at_head for f in blobs.findings(blob, path) if f.suppressed is None}
    return present & locations.keys()


FRAGMENT_MIN_CHARS = 8


def fragment(secret: str) -> str:
    """A line of the secret to search for (a PEM key spans lines; a search pattern is one line)."""
    longest = max(secret.splitlines() or [""], key=len)
    return longest if len(longest) >= FRAGMENT_MIN_CHARS else ""


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
