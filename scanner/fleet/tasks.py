"""The fleet's tasks: one per repository, and one per commit range of a very large history.

Each is `task(work, job)` like every task of scanner/execution.py: a module-level function, the
state every worker needs (`FleetWork`: the Scanner) sent once per worker, a small picklable job.
Both scan with `scan_commits`, the function `keysweep git` scans with, and return its raw
locations rather than findings, so that the parts of one repository (commit ranges, earlier runs)
can be merged exactly as one scan would have: every place a key was added, named for the earliest.

A repository task never raises for a bad repository: corrupt, not a repository, unreadable, it
returns the reason, and the run goes on with the others.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from scanner.errors import KeysweepError
from scanner.fleet.state import is_commit_id
from scanner.pipeline import Scanner
from scanner.report import ScanStats
from scanner.sources.git_blobs import BlobScanner, SecretKey
from scanner.sources.git_history import Location, scan_commits
from scanner.sources.git_revs import all_refs
from scanner.sources.gitrepo import BlobReader, Repo

SPLIT_COMMITS = 2000  # a history with more new commits than this is scanned as several range tasks
MAX_TIPS_ARGS = 20000  # more old tips than this: scan the whole history again rather than overflow argv
MAX_RANGE_COMMITS = 20000  # commit ids given to one `git log --no-walk` (argv stays far below its limit)


@dataclass(frozen=True)
class FleetWork:
    """What every worker needs; scattered to each worker once."""

    scanner: Scanner
    split_commits: int = SPLIT_COMMITS
    ranges_per_split: int = 0  # 0: as many as needed for parts of about split_commits / 2 commits


@dataclass(frozen=True)
class RepoJob:
    index: int  # the repository's place in the run
    path: str  # a working copy, a bare repository or a mirror
    old_tips: tuple[str, ...] = ()  # validated commit ids scanned before: skip what they reach
    old_head: str | None = None
    stored_commits: tuple[str, ...] = ()  # commits of stored locations: are they still in some ref?
    stored_files: tuple[tuple[SecretKey, tuple[str, ...]], ...] = ()  # per stored key, the files it was added to


@dataclass(frozen=True)
class RangeJob:
    index: int
    part: int
    path: str
    commits: tuple[str, ...]  # validated ids, newest first (topological order)
    first_order: int  # the first commit's place in the whole history's order


@dataclass
class ScanPart:
    """What one scan (a whole repository or a range of it) found."""

    locations: dict[SecretKey, list[Location]] = field(default_factory=dict)
    in_head: set[SecretKey] = field(default_factory=set)
    commits: int = 0
    blobs: int = 0
    stats: ScanStats = field(default_factory=ScanStats)

    def merge(self, other: ScanPart) -> None:
        for key, locations in other.locations.items():
            self.locations.setdefault(key, []).extend(locations)
        self.in_head |= other.in_head
        self.commits += other.commits
        self.blobs += other.blobs
        self.stats.merge(other.stats)


@dataclass
class RepoOutcome:
    index: int
    status: Literal["scanned", "split", "failed"]
    error: str | None = None
    tips: tuple[str, ...] = ()
    head: str | None = None
    part: ScanPart = field(default_factory=ScanPart)
    ranges: list[RangeJob] = field(default_factory=list)  # status "split": scan these, then merge
    unreachable: set[str] = field(default_factory=set)  # stored commits no ref reaches any more
    stored_in_head: set[SecretKey] | None = None  # stored keys in HEAD, when HEAD moved; None: unchanged


@dataclass
class RangeOutcome:
    index: int
    part_number: int
    part: ScanPart | None = None
    error: str | None = None


def current_tips(repo: Repo) -> tuple[str, ...]:
    """Every ref's commit (tags peeled, HEAD included) and every stash entry, sorted."""
    out = repo.git("rev-list", "--no-walk", "--all").decode().split()
    # Older stash entries live only in refs/stash's reflog; most repositories have none, and asking
    # git costs a process per repository on every rerun (reftable keeps no logs/: always ask there).
    files = repo.git_dir / "logs" / "refs" / "stash"
    stashes = repo.stash_commits() if files.exists() or (repo.git_dir / "reftable").exists() else []
    return tuple(sorted({sha for sha in (*out, *stashes) if _is_id(sha)}))


def existing_commits(repo: Repo, shas: list[str] | tuple[str, ...]) -> set[str]:
    """The ids among shas that name commits present in the repository (a force-push and gc drop some)."""
    if not shas:
        return set()
    out = repo.git("cat-file", "--batch-check=%(objectname) %(objecttype)", stdin="".join(f"{s}\n" for s in shas).encode())
    return {line.split()[0] for line in out.decode().splitlines() if line.endswith(" commit")}


def unreachable_commits(repo: Repo, commits: tuple[str, ...]) -> set[str]:
    """Stored commits that no ref (nor stash entry) reaches any more: history was rewritten."""
    wanted = [c for c in commits if _is_id(c)]
    present = existing_commits(repo, wanted)
    gone = set(wanted) - present
    if present:
        out = repo.git("rev-list", *sorted(present), "--not", *all_refs(repo))
        gone |= present & set(out.decode().split())
    return gone


def head_commit(repo: Repo) -> tuple[str | None, str | None]:
    ref = repo.default_branch()
    if ref is None:
        return None, None
    return ref, repo.resolve(ref)


def keys_in_tree(repo: Repo, scanner: Scanner, ref: str, files: tuple[tuple[SecretKey, tuple[str, ...]], ...],
                 stats: ScanStats) -> set[SecretKey]:
    """Which stored keys the tip of the default branch still holds, in a file they were added to."""
    tree = repo.tree_blobs(ref)
    wanted = {(tree[f], f) for _, paths in files for f in paths if f in tree}
    if not wanted:
        return set()
    with BlobReader(repo) as reader:
        blobs = BlobScanner(reader, scanner, ScanStats())
        blobs.scan(wanted)
    held = set().union(*(blobs.secrets_by_blob.get(sha, set()) for sha, _ in wanted))
    return {key for key, _ in files} & held


def scan_repository(work: FleetWork, job: RepoJob) -> RepoOutcome:
    """One repository: what its commits since the old tips add (all of them on a first run); or, for
    a long history, the commit ranges to scan as separate tasks."""
    try:
        return _scan_repository(work, job)
    except Exception as exc:  # noqa: BLE001 - one bad repository must not end a fleet run
        return RepoOutcome(job.index, "failed", error=describe_error(exc))


def _scan_repository(work: FleetWork, job: RepoJob) -> RepoOutcome:
    repo = Repo(job.path)
    tips = current_tips(repo)
    ref, head = head_commit(repo)
    outcome = RepoOutcome(job.index, "scanned", tips=tips, head=head)
    if job.stored_commits:
        outcome.unreachable = unreachable_commits(repo, job.stored_commits)
    if job.stored_files and head != job.old_head:
        outcome.stored_in_head = keys_in_tree(repo, work.scanner, ref, job.stored_files, outcome.part.stats) \
            if ref else set()
    old = sorted(existing_commits(repo, [t for t in job.old_tips if _is_id(t)]))
    if len(old) > MAX_TIPS_ARGS:
        old = []
    revs = [*all_refs(repo), *(["--not", *old] if old else [])]
    count = int(repo.git("rev-list", "--count", *revs).decode().strip() or 0)
    if count > work.split_commits:
        commits = tuple(repo.git("rev-list", "--topo-order", *revs).decode().split())
        outcome.status = "split"
        outcome.ranges = split_ranges(job, commits, work)
        return outcome
    if count:
        outcome.part = scan_part(work.scanner, repo, revs, outcome.part.stats)
    return outcome


def split_ranges(job: RepoJob, commits: tuple[str, ...], work: FleetWork) -> list[RangeJob]:
    parts = work.ranges_per_split or -(-len(commits) // max(1, work.split_commits // 2))
    size = min(MAX_RANGE_COMMITS, -(-len(commits) // max(1, parts)))
    return [RangeJob(job.index, n, job.path, commits[start:start + size], start)
            for n, start in enumerate(range(0, len(commits), size))]


def scan_range(work: FleetWork, job: RangeJob) -> RangeOutcome:
    """The commits of one range of a long history, each diffed against its parents as usual."""
    try:
        repo = Repo(job.path)
        commits = [c for c in job.commits if _is_id(c)]
        part = scan_part(work.scanner, repo, ["--no-walk", *commits], ScanStats())
        order = {sha: job.first_order + i for i, sha in enumerate(commits)}  # the whole history's order
        part.locations = {key: [dataclasses.replace(loc, commit=dataclasses.replace(
            loc.commit, order=order.get(loc.commit.sha, loc.commit.order))) for loc in locations]
            for key, locations in part.locations.items()}
        return RangeOutcome(job.index, job.part, part)
    except Exception as exc:  # noqa: BLE001
        return RangeOutcome(job.index, job.part, error=describe_error(exc))


def scan_part(scanner: Scanner, repo: Repo, revs: list[str], stats: ScanStats) -> ScanPart:
    """`scan_commits`, in this process (a fleet worker scans one repository at a time)."""
    result = scan_commits(repo, revs, scanner=scanner, stats=stats, jobs=1)
    return ScanPart(result.locations, result.in_head, result.commits, result.blobs, stats)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, KeysweepError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    # Not the exception's text: it may quote what was being scanned (STYLE: internal errors name their type).
    return f"internal error: {type(exc).__name__} (rerun `keysweep git` on this repository with KEYSWEEP_DEBUG=1)"


def _is_id(text: str) -> bool:
    return is_commit_id(text)
