"""`keysweep git` without its command line: what the click command and the pre-commit hook's fast
path (scanner/entry.py) both run."""

from __future__ import annotations

import os
import sys

from scanner.config import load_config
from scanner.emit import OutputOptions, emit, say, show_notices
from scanner.errors import ExitCode, UsageError
from scanner.live import LiveOptions

BLOCKED_HINT = (
    "keysweep: commit blocked: the staged changes add the key(s) above. Remove them (use the environment "
    "or a secret store), mark a deliberate test value with a `keysweep:allow` comment on its line, or accept "
    "a finding by adding its fingerprint to .keysweepignore."
)


def run_git(opts: OutputOptions, live: LiveOptions, repo: str, *, staged: bool = False, range_spec: str | None = None,
            since_commit: str | None = None, pre_push: bool = False, remote: str | None = None,
            max_age: int = 90, whole_blobs: bool = False) -> int:
    from scanner.execution import default_jobs
    from scanner.assemble import build_scanner
    from scanner.sources.git import git_report
    from scanner.sources.git_revs import pre_push_revs, range_revs, since_revs
    from scanner.sources.gitrepo import Repo

    modes = [name for name, on in (("--staged", staged), ("--range", range_spec), ("--since-commit", since_commit),
                                   ("--pre-push", pre_push)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined; choose one")
    git_repo = Repo(repo)
    revs: list[str] | None = None
    if range_spec:
        revs = range_revs(git_repo, range_spec)
    elif since_commit:
        revs = since_revs(git_repo, since_commit)
    elif pre_push:
        lines = [] if os.environ.get("PRE_COMMIT") or sys.stdin.isatty() else sys.stdin.read().splitlines()
        revs = pre_push_revs(git_repo, lines, remote=remote, environ=dict(os.environ))
    config = load_config(opts.config, start=git_repo.root)
    scanner = build_scanner(config, extra_rules=opts.rules, rulesets=opts.rulesets, keep_suppressed=opts.show_suppressed)
    show_notices(scanner.notices)
    post = live.prepare(config, scanner.engine.rules)
    report = git_report(git_repo, scanner=scanner, staged=staged, revs=revs, max_age_days=max_age,
                        jobs=opts.jobs or (1 if staged else default_jobs()), whole_blobs=whole_blobs)
    status = emit(report, opts, root=git_repo.worktree, post=post)
    if staged and status != ExitCode.CLEAN and opts.fmt == "text":
        say(BLOCKED_HINT)
    return status
