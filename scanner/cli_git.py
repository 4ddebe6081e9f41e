"""Commands for repositories: `keysweep git`, `keysweep baseline create`, `keysweep install-hooks`.

Kept apart from cli.py so each stays short; imports beyond click happen inside the commands
(the pre-commit hook runs `keysweep git --staged` on every commit).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from scanner.cli_common import OutputOptions, emit, scan_options, show_notices
from scanner.cli_revoke import LiveOptions, revoke_options
from scanner.errors import ExitCode, UsageError

HOOK_NAMES = ("pre-commit", "pre-push")


@click.command("git")
@click.argument("repo", required=False, default=".")
@click.option("--staged", is_flag=True, help="Only what the index adds relative to HEAD (the pre-commit case).")
@click.option("--range", "range_spec", metavar="A..B", help="Only what the commits in A..B add (a pull request).")
@click.option("--since-commit", metavar="REV", help="Only what the commits after REV up to HEAD add.")
@click.option("--pre-push", is_flag=True,
              help="Only the commits being pushed, read from standard input as git's pre-push hook gives them.")
@click.option("--remote", metavar="NAME", help="With --pre-push: the remote pushed to (git passes it to the hook).")
@click.option("--max-age", "max_age", type=click.IntRange(0), default=90, show_default=True, metavar="DAYS",
              help="Flag keys first committed more than DAYS ago as overdue for rotation.")
@click.option("--whole-blobs", is_flag=True,
              help="Read every changed file version whole instead of settling modifications by their patch "
                   "(slower; also finds matches that reach further than a patch's three lines of context).")
@scan_options
@revoke_options
def git(opts: OutputOptions, live: LiveOptions, repo: str, staged: bool, range_spec: str | None,
        since_commit: str | None, pre_push: bool, remote: str | None, max_age: int, whole_blobs: bool) -> int:
    """Scan a repository's history: every commit on every ref (branches, tags, stashes, notes),
    including keys that were committed and later deleted. Each key is reported once, named for
    the commit that introduced it, with every place it was added."""
    from scanner.git_command import run_git

    return run_git(opts, live, repo, staged=staged, range_spec=range_spec, since_commit=since_commit,
                   pre_push=pre_push, remote=remote, max_age=max_age, whole_blobs=whole_blobs)


@click.group()
def baseline() -> None:
    """Record current findings so later scans report only new ones (`--baseline FILE`)."""


@baseline.command("create")
@click.argument("paths", nargs=-1)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(".keysweep-baseline.json"), show_default=True, help="Where to write the baseline.")
@click.option("--git", "from_git", is_flag=True, help="Baseline a repository's full history (PATHS: one repository).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Config file.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path), help="Extra rule files.")
def baseline_create(paths: tuple[str, ...], output: Path, from_git: bool, config_path: Path | None,
                    extra_rules: tuple[Path, ...]) -> int:
    """Scan PATHS (default ".") or, with --git, a repository's history, and write every finding as an
    accepted fingerprint: rule id, sha256 of the secret, path. No line numbers, no commits, no secrets."""
    from scanner.config import load_config
    from scanner.filters.baseline import render_baseline
    from scanner.output import write_report
    from scanner.execution import default_jobs
    from scanner.scan import build_scanner, scan_paths

    targets = list(paths) or ["."]
    if from_git:
        from scanner.sources.git import git_report
        from scanner.sources.gitrepo import Repo

        if len(targets) > 1:
            raise UsageError("baseline create --git takes one repository")
        repo = Repo(targets[0])
        scanner = build_scanner(load_config(config_path, start=repo.root), extra_rules=extra_rules)
        report = git_report(repo, scanner=scanner, jobs=default_jobs())
        root: Path | None = repo.worktree
    else:
        scanner = build_scanner(load_config(config_path, start=Path(targets[0])), extra_rules=extra_rules)
        report = scan_paths(targets, scanner=scanner, jobs=default_jobs())
        root = Path.cwd()
    for warning in report.stats.warnings[:20]:
        click.echo(f"keysweep: warning: {warning}", err=True)
    write_report(render_baseline(report.findings, root=root, output=output), output)
    click.echo(f"keysweep: baseline of {len(report.findings)} finding(s) written to {output}", err=True)
    return ExitCode.CLEAN


@click.command("install-hooks")
@click.argument("repo", required=False, default=".")
@click.option("--pre-push", is_flag=True, help="Also install the pre-push hook (scans the commits being pushed).")
@click.option("--force", is_flag=True, help="Replace existing hooks.")
def install_hooks(repo: str, pre_push: bool, force: bool) -> int:
    """Install keysweep's plain git hooks (no pre-commit framework needed): pre-commit scans what
    is staged; --pre-push also scans what is pushed. Existing hooks are kept unless --force."""
    from scanner.githooks import install

    names = HOOK_NAMES if pre_push else HOOK_NAMES[:1]
    for path, outcome in install(repo, names=names, force=force):
        click.echo(f"keysweep: {outcome}: {path}")
    return ExitCode.CLEAN
