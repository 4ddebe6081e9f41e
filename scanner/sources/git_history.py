"""History: what the commits selected by a set of revisions add, with provenance.

Each unique blob is read once and scanned whole (git_blobs.py), so rules that need neighbouring
lines fire in history exactly as in a file scan, even when a commit changed only one of those lines
(diff-based scanners lose that context). A commit *adds* a key at a path when its version of the
file holds the key and none of the parents' versions of that file do; every such place is a
location, and a key is one finding with all of its locations, named for the earliest.
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
    blobs: int
    default_branch: str | None
    # Raw material of the findings, for callers that merge several scans of one repository (the fleet's
    # commit-range tasks and incremental reruns): every place each key was added, and the keys in HEAD.
    locations: dict[SecretKey, list[Location]] = field(default_factory=dict)
    in_head: set[SecretKey] = field(default_factory=set)


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
        changes = changed_files(repo, revs, blobs, stats, progress)
        blobs.scan((change.blob, change.path) for _, change in changes)
        locations: dict[SecretKey, list[Location]] = {}
        for commit, change in changes:
            for found in blobs.added(change):
                locations.setdefault(secret_key(found), []).append(Location(commit, change.path, found))
        default_branch = repo.default_branch() if locations else None
        in_head = keys_in_head(repo, blobs, locations, default_branch)
        progress.done()
    note_skips(repo, blobs, stats)
    findings = [
        history_finding(locs, in_head=key in in_head, now=now, max_age_days=max_age_days)
        for key, locs in locations.items()
    ]
    return HistoryResult(findings, blobs.commits, blobs.blobs_seen, default_branch, locations, in_head)


def changed_files(repo: Repo, revs: list[str], blobs: BlobScanner, stats: ScanStats,
                  progress: Progress) -> list[tuple[Commit, Change]]:
    """Every file each selected commit sets, less what is never read (submodules, symlinks, excluded
    paths, binary names)."""
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
    return changes


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
    """Keys still present at the tip of the default branch (any file there holding them)."""
    if not locations or ref is None:
        return set()
    head = repo.tree_blobs(ref)
    head_shas = set(head.values())
    # Files at head where a key was added, even if that version was never scanned (range mode).
    at_paths = {(head[loc.file], loc.file) for locs in locations.values() for loc in locs if loc.file in head}
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
