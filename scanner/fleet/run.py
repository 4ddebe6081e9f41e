"""A fleet run: which repositories need a task, the tasks on a pool, the state updated, one Report.

    plan      each repository's local copy (mirrors fetched in threads), what was stored for it, and
              whether its refs moved since (unchanged: no task at all, and no cluster if none moved)
    submit    one task per repository that moved or is new; a long history comes back as commit
              ranges, each submitted in turn
    finish    stored locations still reachable + what the new commits add, named for the earliest
              place each key was added; saved as each repository finishes
    report    every repository's findings, each with `repository`, grouped by repository
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scanner.finding import Finding
from scanner.fleet.cluster import Pool
from scanner.fleet.discovery import MirrorError, RepoSource, update_mirror
from scanner.fleet.state import FleetState, RepoState, StoredKey, setup_digest
from scanner.fleet.tasks import (
    FleetWork, RangeOutcome, RepoJob, RepoOutcome, current_tips, describe_error, scan_range,
    scan_repository,
)
from scanner.pipeline import Scanner
from scanner.progress import Progress, eta
from scanner.report import Report, ScanStats, build_report
from scanner.sources.git_blobs import SecretKey
from scanner.sources.git_history import DEFAULT_MAX_AGE_DAYS, Location, history_finding
from scanner.sources.gitrepo import Repo

PLAN_THREADS = 8  # clones, fetches and `git rev-list` of many repositories at once (I/O, not CPU)
PoolOpener = Callable[[FleetWork], AbstractContextManager[Pool]]
Status = Literal["scanned", "unchanged", "failed"]


@dataclass
class RepoRun:
    """One repository through the run."""

    index: int
    source: RepoSource
    path: str | None = None  # the local copy git reads
    worktree: Path | None = None  # where its .keysweepignore would be
    stored: RepoState | None = None
    status: Status | None = None
    error: str | None = None
    keys: dict[SecretKey, StoredKey] = field(default_factory=dict)
    commits: int = 0
    outcome: RepoOutcome | None = None
    parts_left: int = 0


@dataclass
class FleetResult:
    report: Report
    repos: list[RepoRun]

    @property
    def failed(self) -> list[RepoRun]:
        return [r for r in self.repos if r.status == "failed"]


class FleetProgress:
    """`keysweep: fleet: 12/200 repositories, 3456 commits, 12.3 MB/s, ETA 1m05s` on a terminal."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total = progress, total
        self.done = self.commits = self.bytes = 0

    def add(self, *, done: int = 0, commits: int = 0, size: int = 0) -> None:
        self.done += done
        self.commits += commits
        self.bytes += size
        if not self.progress.enabled:
            return
        elapsed = max(time.monotonic() - self.progress.started, 1e-6)
        line = (f"\rkeysweep: fleet: {self.done}/{self.total} repositories, {self.commits} commits, "
                f"{self.bytes / elapsed / 1e6:.1f} MB/s")
        if 0 < self.done < self.total:
            line += f", ETA {eta(elapsed, self.done, self.total)}"
        self.progress.write(line + " ")

    def finish(self) -> None:
        self.progress.done()


def run_fleet(
    sources: list[RepoSource],
    *,
    scanner: Scanner,
    state: FleetState,
    state_dir: Path,
    open_pool: PoolOpener,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    now: float | None = None,
    progress: Progress | None = None,
    work: FleetWork | None = None,
) -> FleetResult:
    """Scan what changed in each repository since the state last saw it; report every repository's keys."""
    started = time.monotonic()
    now = time.time() if now is None else now
    setup = setup_digest(scanner)
    runs = [RepoRun(i, source) for i, source in enumerate(sources)]
    for run in runs:
        run.stored = state.load(run.source.key, setup=setup)
    shown = FleetProgress(progress or Progress(enabled=False), len(runs))
    with ThreadPoolExecutor(max_workers=PLAN_THREADS) as threads:
        jobs = [job for job in threads.map(lambda r: plan(r, state_dir), runs) if job is not None]
    shown.add(done=sum(r.status is not None for r in runs))
    if jobs:
        scanner.engine.prepare()  # compiled (or loaded) once here; workers load it from the on-disk cache

        def save(run: RepoRun) -> None:  # as each repository finishes: an interrupted run keeps what it did
            assert run.outcome is not None
            state.save(run.source.key, name=run.source.name, setup=setup,
                       state=RepoState(run.outcome.tips, run.outcome.head, run.keys))

        with open_pool(work or FleetWork(scanner)) as pool:
            for job in jobs:
                pool.submit(scan_repository, job, tag=job, key=f"keysweep-repo-{job.index}-{time.time_ns()}")
            collect(pool, runs, shown, save)
    shown.finish()
    return FleetResult(fleet_report(runs, scanner=scanner, now=now, max_age_days=max_age_days, started=started), runs)


def plan(run: RepoRun, state_dir: Path) -> RepoJob | None:
    """The repository's local copy; a job if it is new or its refs moved, else it is unchanged."""
    if run.source.refused:
        run.status, run.error = "failed", run.source.refused
        return None
    try:
        # Absolute: a worker of another machine's cluster does not share our working directory.
        run.path = str(update_mirror(state_dir, run.source)) if run.source.url else os.path.abspath(run.source.location)
        repo = Repo(run.path)
        run.worktree = repo.worktree
        stored = run.stored
        if stored is not None and current_tips(repo) == stored.tips:
            run.status, run.keys = "unchanged", stored.keys
            return None
    except Exception as exc:  # noqa: BLE001 - named in the report; the others go on
        run.status, run.error = "failed", str(exc) if isinstance(exc, MirrorError) else describe_error(exc)
        return None
    if stored is None:
        return RepoJob(run.index, run.path)
    return RepoJob(run.index, run.path, old_tips=stored.tips, old_head=stored.head,
                   stored_commits=tuple(sorted(stored.commits)),
                   stored_files=tuple((key, tuple(sorted({loc.file for loc in s.locations})))
                                      for key, s in sorted(stored.keys.items())))


def collect(pool: Pool, runs: list[RepoRun], shown: FleetProgress, save: Callable[[RepoRun], None]) -> None:
    for tag, result, error in pool.completed():
        run = runs[tag.index]
        if run.status is not None:
            continue  # a part of a repository that already failed
        if error is not None:
            fail(run, shown, f"task failed: {describe_error(error)}")
        elif isinstance(result, RepoOutcome):
            if result.status == "failed":
                fail(run, shown, result.error or "failed")
                continue
            run.outcome = result
            if result.status == "split":
                run.parts_left = len(result.ranges)
                for job in result.ranges:
                    pool.submit(scan_range, job, tag=job,
                                key=f"keysweep-range-{job.index}-{job.part}-{time.time_ns()}")
            else:
                finish(run, shown)
                save(run)
        elif isinstance(result, RangeOutcome):
            assert run.outcome is not None
            if result.error is not None or result.part is None:
                fail(run, shown, f"commit range {result.part_number + 1}: {result.error}")
                continue
            run.outcome.part.merge(result.part)
            shown.add(commits=result.part.commits, size=result.part.stats.bytes_scanned)
            run.parts_left -= 1
            if run.parts_left == 0:
                finish(run, shown, counted=True)
                save(run)


def fail(run: RepoRun, shown: FleetProgress, reason: str) -> None:
    run.status, run.error = "failed", reason
    shown.add(done=1)


def finish(run: RepoRun, shown: FleetProgress, *, counted: bool = False) -> None:
    """Stored keys less what no ref reaches any more, united with what the new commits add."""
    outcome = run.outcome
    assert outcome is not None
    part = outcome.part
    stored = run.stored.keys if run.stored else {}
    keys: dict[SecretKey, StoredKey] = {}
    for key, old in stored.items():
        kept = [loc for loc in old.locations if loc.commit.sha not in outcome.unreachable]
        if kept:  # a key whose every adding commit was rewritten away is dropped
            in_head = old.in_head if outcome.stored_in_head is None else key in outcome.stored_in_head
            keys[key] = StoredKey(kept, in_head)
    for key, locations in part.locations.items():
        entry = keys.setdefault(key, StoredKey([], False))
        entry.locations = unique(entry.locations + locations)
        entry.in_head = entry.in_head or key in part.in_head
    run.keys, run.commits = keys, part.commits
    run.status = "scanned" if part.commits or run.stored is None else "unchanged"
    shown.add(done=1, commits=0 if counted else part.commits, size=0 if counted else part.stats.bytes_scanned)


def unique(locations: list[Location]) -> list[Location]:
    seen: dict[tuple[str, str, str, int, int], Location] = {}
    for loc in locations:
        seen.setdefault((loc.commit.sha, loc.file, loc.path, loc.finding.line, loc.finding.column), loc)
    return list(seen.values())


def fleet_report(runs: list[RepoRun], *, scanner: Scanner, now: float, max_age_days: int, started: float) -> Report:
    stats = ScanStats()
    findings: list[Finding] = []
    for run in runs:
        if run.outcome is not None and run.status != "failed":
            part_stats = run.outcome.part.stats
            stats.files_scanned += part_stats.files_scanned
            stats.bytes_scanned += part_stats.bytes_scanned
            stats.skipped.update(part_stats.skipped)
            stats.warnings.extend(f"{run.source.name}: {w}" for w in part_stats.warnings)
        if run.status == "failed":
            continue
        for key, entry in run.keys.items():
            finding = history_finding(entry.locations, in_head=entry.in_head, now=now, max_age_days=max_age_days)
            findings.append(finding.replace(extra={**finding.extra, "repository": run.source.name}))
    counts = {status: sum(r.status == status for r in runs) for status in ("scanned", "unchanged", "failed")}
    extra: dict[str, Any] = {
        "mode": "fleet",
        "repositories": len(runs),
        "repositories_scanned": counts["scanned"],
        "repositories_unchanged": counts["unchanged"],
        "repositories_failed": counts["failed"],
        "commits_scanned": sum(r.commits for r in runs),
        "blobs_scanned": sum(r.outcome.part.blobs for r in runs if r.outcome is not None and r.status != "failed"),
        "failed": [{"repository": r.source.name, "reason": r.error} for r in runs if r.status == "failed"],
    }
    report = build_report(scanner.engine.rules, findings, stats, started, extra)
    return by_repository(report, [r.source.name for r in runs])


def by_repository(report: Report, names: list[str]) -> Report:
    """Findings grouped by repository, in the order the repositories were given (stable within each)."""
    order = {name: i for i, name in enumerate(names)}

    def key(finding: Finding) -> int:
        return order.get(str(finding.extra.get("repository")), len(order))

    return dataclasses.replace(report, findings=sorted(report.findings, key=key),
                               suppressed=sorted(report.suppressed, key=key))


def groups(report: Report) -> Iterator[tuple[str, Report]]:
    """The report cut into one report per repository (for per-repository ignore files)."""
    names: dict[str, None] = {}
    for finding in (*report.findings, *report.suppressed):
        names.setdefault(str(finding.extra.get("repository")), None)
    for name in names:
        yield name, dataclasses.replace(
            report, findings=[f for f in report.findings if f.extra.get("repository") == name],
            suppressed=[f for f in report.suppressed if f.extra.get("repository") == name])
