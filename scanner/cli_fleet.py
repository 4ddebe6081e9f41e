"""`keysweep fleet`: many repositories' histories on Dask, incrementally (scanner/fleet/).

Shaped like `keysweep git`: the shared scan options, --verify/--revoke, `emit` for the report and
the exit status; baseline and ignore files are applied per repository, each relative to its own
root, as `git` applies them to one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scanner.cli_common import OutputOptions, emit, scan_options, show_notices
from scanner.cli_revoke import LiveOptions, revoke_options
from scanner.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from scanner.fleet.run import RepoRun
    from scanner.report import Report


@click.command("fleet")
@click.argument("repos", nargs=-1, metavar="[REPO]...")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Scan every git repository found under DIR (working copies and bare ones).")
@click.option("--repos-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Scan the repositories listed in FILE: one path or clone URL per line, # comments.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on an existing Dask cluster (tcp://host:port), left running; its workers must see the "
                   "repositories and the state dir at the same paths. Default: a local cluster.")
@click.option("--workers", type=click.IntRange(1, 1024), help="Local cluster size (default: --jobs, else all cores).")
@click.option("--max-age", "max_age", type=click.IntRange(0), default=90, show_default=True, metavar="DAYS",
              help="Flag keys first committed more than DAYS ago as overdue for rotation.")
@scan_options
@revoke_options
def fleet(opts: OutputOptions, live: LiveOptions, repos: tuple[str, ...], root: Path | None,
          repos_file: Path | None, scheduler: str | None, workers: int | None, max_age: int) -> int:
    """Scan the full history of many repositories (paths or clone URLs) on Dask, incrementally: a
    rerun scans only the commits that are new since the last run (state in --state-dir) and
    reports the union. Each finding names its repository."""
    from scanner.config import load_config
    from scanner.execution import default_jobs
    from scanner.fleet.cluster import dask_pool, require_dask
    from scanner.fleet.discovery import gather
    from scanner.fleet.run import run_fleet
    from scanner.fleet.state import FleetState
    from scanner.output import printable
    from scanner.progress import Progress
    from scanner.revoke.outbox import default_state_dir
    from scanner.scan import build_scanner

    sources = gather(repos, root=root, repos_file=repos_file)
    if not sources:
        raise UsageError("no repositories to scan: give REPO arguments, --root DIR or --repos-file FILE")
    require_dask()
    config = load_config(opts.config, start=Path.cwd())
    scanner = build_scanner(config, extra_rules=opts.rules, rulesets=opts.rulesets, keep_suppressed=opts.show_suppressed)
    show_notices(scanner.notices)
    post = live.prepare(config, scanner.engine.rules)
    state_dir = live.state_dir or default_state_dir()
    size = workers or opts.jobs or default_jobs()
    with FleetState.open(state_dir) as state:
        result = run_fleet(sources, scanner=scanner, state=state, state_dir=state_dir, max_age_days=max_age,
                           open_pool=lambda work: dask_pool(work, scheduler=scheduler, workers=size),
                           progress=Progress())
    for run in result.failed:  # controls escaped: a repository's name or git's message must not drive the terminal
        click.echo(f"keysweep: warning: {printable(f'{run.source.name}: not scanned: {run.error}')}", err=True)
    report = accept_per_repository(result.report, opts, result.repos)
    status = emit(report, opts, post=post, apply_accepted=False)
    if status == ExitCode.CLEAN and result.failed:
        return ExitCode.INCOMPLETE
    return status


def accept_per_repository(report: Report, opts: OutputOptions, runs: list[RepoRun]) -> Report:
    """Baseline and ignore files (filters 6 and 7) per repository: paths relative to its root, its own
    `.keysweepignore`; an ignore line is unused only if no repository used it."""
    from scanner.filters.baseline import IGNORE_FILE, AcceptedFilters, load_accepted
    from scanner.filters.stage import filter_report
    from scanner.fleet.run import by_repository

    findings, suppressed = [], list(report.suppressed)
    used: dict[str, set[int]] = {}
    unused: dict[str, list[int]] = {}
    for run in runs:
        if run.status == "failed":
            continue
        name = run.source.name
        mine = [f for f in report.findings if f.extra.get("repository") == name]
        root = run.worktree or Path.cwd()
        if opts.baseline is None and opts.ignore_file is None and not (root / IGNORE_FILE).is_file():
            findings += mine
            continue
        accepted = load_accepted(baseline=opts.baseline, ignore_file=opts.ignore_file, root=root)
        assert accepted is not None
        filters = AcceptedFilters(accepted, root=root)
        part = filter_report(dataclasses.replace(report, findings=mine, suppressed=[]), filters.filters,
                             keep_suppressed=opts.show_suppressed)
        filters.note_suppressed([f for f in report.suppressed if f.extra.get("repository") == name])
        filters.note_suppressed(part.suppressed)
        findings += part.findings
        suppressed += part.suppressed
        if accepted.ignore_source:
            used.setdefault(accepted.ignore_source, set()).update(filters.used)
            unused[accepted.ignore_source] = [i.line for i in accepted.ignores]
    if opts.report_unused_ignores:
        report.stats.warnings.extend(f"{source}:{line}: ignore matched no finding"
                                     for source, lines in unused.items() for line in lines if line not in used[source])
    names = [run.source.name for run in runs]
    return by_repository(dataclasses.replace(report, findings=findings, suppressed=suppressed), names)
