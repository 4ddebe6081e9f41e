"""Git as a source: the whole history, a range of commits, a push, or what the index stages.

    git_revs.py     which commits: every ref, a range, since a commit, a push (all resolved first)
    git_history.py  what those commits add, with provenance (commit, author, in HEAD, age)
    git_staged.py   what the index adds (the pre-commit hook)
    git_blobs.py    each blob read once through the dispatcher, in worker processes
    gitrepo.py      the git plumbing: log parsing, cat-file streams
"""

from __future__ import annotations

import time
from typing import Any

from scanner.pipeline import Scanner
from scanner.progress import Progress
from scanner.report import Report, ScanStats, build_report
from scanner.sources.git_history import DEFAULT_MAX_AGE_DAYS, scan_commits
from scanner.sources.git_revs import all_refs
from scanner.sources.git_staged import scan_staged
from scanner.sources.gitrepo import Repo


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
    whole_blobs: bool = False,
) -> Report:
    """Scan the index (staged) or the commits revs select (None: every ref) into a Report."""
    started = time.monotonic()
    stats = ScanStats()
    if staged:
        findings = scan_staged(repo, scanner=scanner, stats=stats)
        extra: dict[str, Any] = {"mode": "staged"}
    else:
        result = scan_commits(repo, all_refs(repo) if revs is None else revs, scanner=scanner, stats=stats,
                              max_age_days=max_age_days, now=now, progress=progress, jobs=jobs,
                              whole_blobs=whole_blobs)
        findings = result.findings
        extra = {"mode": "history" if revs is None else "commits", "commits_scanned": result.commits,
                 "blobs_scanned": result.blobs, "patches_scanned": result.patches, "phase_seconds": result.timings,
                 "default_branch": result.default_branch, "shallow": repo.shallow}
    return build_report(scanner.engine.rules, findings, stats, started, extra)
