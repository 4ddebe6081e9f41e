"""The index (pre-commit): what is staged adds relative to HEAD. Work grows with the change only."""

from __future__ import annotations

from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.report import ScanStats
from scanner.sources.git_blobs import BlobScanner
from scanner.sources.gitrepo import BlobReader, Repo


def scan_staged(repo: Repo, *, scanner: Scanner, stats: ScanStats) -> list[Finding]:
    """What the index adds relative to HEAD; lines are the staged file's."""
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
            found.replace(source="git", extra={**found.extra, "staged": True})
            for change in changes
            for found in blobs.added(change)
        ]
    for path in sorted(blobs.submodules):
        stats.warnings.append(f"{path}: submodule skipped; scan its repository separately")
    return findings
