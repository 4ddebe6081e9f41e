"""Which commits a history scan reads: every ref, a range, what came after a commit, or a push.

Every revision a user, a hook or pre-commit's environment names is resolved to a commit id
(`rev-parse --end-of-options`) before it reaches `git log`: `PRE_COMMIT_TO_REF=--output=/tmp/x`
must be an unknown revision, never an option. Only the options written here are passed as such.
"""

from __future__ import annotations

from collections.abc import Iterable

from scanner.errors import UsageError
from scanner.sources.gitrepo import Repo, is_null_sha


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
        return [repo.resolve(environ["PRE_COMMIT_TO_REF"]), f"^{repo.resolve(environ['PRE_COMMIT_FROM_REF'])}"]
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
        tips.append(repo.resolve(local_sha))
        if not is_null_sha(remote_sha) and repo.rev_exists(remote_sha):
            known_remote.append(f"^{repo.resolve(remote_sha)}")
    if not tips:
        return []
    # Anything a remote-tracking ref already has is on the remote: a new branch sends only its own commits.
    remotes = f"--remotes={remote}" if remote and not remote.startswith("-") and "\0" not in remote else "--remotes"
    return [*tips, *known_remote, "--not", remotes]
