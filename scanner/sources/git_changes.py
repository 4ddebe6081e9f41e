"""How each change of a history is read, decided while `git log` still runs.

The log streams commits to a feeder that hands workers two kinds of task as soon as it has enough of
either: batches of modifications to read as patches (git_patches.py), and batches of blobs to read
whole (git_blobs.py: new files, merges, files read by their own reader). So workers start on the first
commits while git is still listing the last, and new files are read while patches are. What the
patches flag is read whole afterwards, with the parents' versions (git_history.py).

The feeder runs in the thread that feeds the worker pool: of the blob scanner's state it only reads
results and fills per-path caches, and it keeps what it decides in a Tally that the caller reads once
the pool is done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.execution import run_parallel
from scanner.finding import Finding
from scanner.progress import Progress
from scanner.report import ScanStats
from scanner.sources.git_blobs import BlobKey, BlobScanner, BlobWork, batches, scan_blob_batch
from scanner.sources.git_patches import (
    PATCH_BATCH,
    CommitPatches,
    PatchKey,
    PatchOutcome,
    PatchPlan,
    patch_key,
    scan_patch_batch,
)
from scanner.sources.gitrepo import Change, Commit, Repo

WHOLE_BATCH = 256  # changes to read whole gathered before their sizes are asked and tasks made
Task = tuple[str, Any]  # ("patches", list[CommitPatches]) or ("blobs", list[WorkItem])
BlobResult = tuple[list[tuple[BlobKey, str, list[Finding]]], ScanStats]
ChangeList = list[tuple[Commit, Change]]


@dataclass
class Tally:
    """What the feeder decided, for the caller once the pool is done."""

    commits: int = 0
    whole: ChangeList = field(default_factory=list)  # read whole: their new versions in the first pass
    by_patch: ChangeList = field(default_factory=list)
    handed_out: int = 0  # changes in tasks so far, for progress
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_blobs: list[tuple[BlobKey, str, int | None]] = field(default_factory=list)  # missing or too large
    requested: set[BlobKey] = field(default_factory=set)


@dataclass
class Reading:
    """The changes still to be compared with their parents' versions, and how many patches were read."""

    whole: ChangeList
    patches: int


def read_changes(repo: Repo, revs: list[str], blobs: BlobScanner, *, whole_blobs: bool, progress: Progress,
                 jobs: int) -> Reading:
    """Every change the commits make, each read as a patch or whole; the blob scanner holds what the
    whole reads found."""
    tally = Tally()
    plan = None if whole_blobs else PatchPlan(blobs.scanner)
    if jobs > 1:
        blobs.scanner.engine.prepare()  # compiled once here, then inherited into (or loaded by) the workers
    work = BlobWork(blobs.scanner, repo, blobs.reader if jobs == 1 else None)
    seen: set[PatchKey] = set()
    flagged: set[PatchKey] = set()
    done = 0
    tasks = feed(repo, revs, blobs, plan, tally) if revs else iter(())
    for result in run_parallel(history_task, tasks, state=work, jobs=jobs):
        if isinstance(result, PatchOutcome):
            seen |= result.seen
            flagged |= result.flagged
            blobs.stats.merge(result.stats)
            done += result.changes
        else:
            blobs.record(*result)
            done += len(result[0])
        progress.update(commits=tally.commits, blobs=done, total_blobs=tally.handed_out,
                        size=blobs.stats.bytes_scanned, unit="changes")
    for blob_key, path, size in tally.skipped_blobs:
        blobs.skip(blob_key, path, size)
    blobs.stats.skipped.update(tally.skipped)
    blobs.commits = tally.commits
    again = [(commit, change) for commit, change in tally.by_patch
             if (key := patch_key(commit, change)) in flagged or key not in seen]
    return Reading(tally.whole + again, len(seen))


def history_task(work: BlobWork, task: Task) -> PatchOutcome | BlobResult:
    """One worker task: a batch of patches, or a batch of blobs to read whole."""
    kind, batch = task
    return scan_patch_batch(work, batch) if kind == "patches" else scan_blob_batch(work, batch)


def changes_of(repo: Repo, revs: list[str], blobs: BlobScanner, tally: Tally) -> Iterator[tuple[Commit, Change]]:
    """Every file each selected commit sets, less what is never read (submodules, symlinks, excluded
    paths, binary names) and what adds nothing: a rename or mode change of the same content, and a
    merge carrying a version an ordinary commit made (merges come last: Repo.log)."""
    made: set[str] = set()
    for commit, commit_changes in repo.log(revs):
        tally.commits += 1
        merge = len(commit.parents) > 1
        for change in commit_changes:
            if change.blob in change.old_blobs or (merge and change.blob in made):
                continue
            if not merge:
                made.add(change.blob)
            reason = blobs.skip_reason(change)
            if reason is None:
                yield commit, change
            elif reason != "submodule":
                tally.skipped[reason] += 1


def feed(repo: Repo, revs: list[str], blobs: BlobScanner, plan: PatchPlan | None, tally: Tally) -> Iterator[Task]:
    """Tasks as the log goes: a patch batch ends at a commit's end, once it holds PATCH_BATCH changes."""
    patches: ChangeList = []
    wholes: ChangeList = []
    current = ""
    for commit, change in changes_of(repo, revs, blobs, tally):
        if commit.sha != current:
            current = commit.sha
            if len(patches) >= PATCH_BATCH:
                yield from patch_tasks(patches, blobs, plan, tally)  # type: ignore[arg-type]
                patches = []
        if plan is not None and plan.shaped(commit, change):
            patches.append((commit, change))
        else:
            wholes.append((commit, change))
            if len(wholes) >= WHOLE_BATCH:
                yield from blob_tasks(wholes, blobs, tally)
                wholes = []
    if patches:
        yield from patch_tasks(patches, blobs, plan, tally)  # type: ignore[arg-type]
    if wholes:
        yield from blob_tasks(wholes, blobs, tally)


def patch_tasks(pairs: ChangeList, blobs: BlobScanner, plan: PatchPlan, tally: Tally) -> Iterator[Task]:
    """One patch batch of the changes whose blobs allow it; the others are read whole."""
    sizes = blobs.reader.sizes({sha for _, change in pairs for sha in (change.blob, *change.old_blobs)})
    by_commit: dict[str, list[tuple[str, str, str]]] = {}
    wholes: ChangeList = []
    for commit, change in pairs:
        if plan.sized(change, sizes):
            tally.by_patch.append((commit, change))
            _, old, new = patch_key(commit, change)
            by_commit.setdefault(commit.sha, []).append((old, new, change.path))
        else:
            wholes.append((commit, change))
    batch: list[CommitPatches] = list(by_commit.items())
    tally.handed_out += len(pairs) - len(wholes)
    if batch:
        yield "patches", batch
    if wholes:
        yield from blob_tasks(wholes, blobs, tally)


def blob_tasks(pairs: ChangeList, blobs: BlobScanner, tally: Tally) -> Iterator[Task]:
    tally.whole.extend(pairs)
    wanted, skipped = blobs.plan(((change.blob, change.path) for _, change in pairs), tally.requested)
    tally.skipped_blobs.extend(skipped)
    tally.handed_out += len(wanted)
    for batch in batches(wanted):
        yield "blobs", batch

