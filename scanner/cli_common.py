"""What every scanning command shares: its options, gathered into one OutputOptions, and `emit`,
which applies accepted findings, prints warnings, writes the report and picks the exit status.

Both cli.py and cli_git.py import this module; neither imports the other's commands' helpers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from scanner.errors import ExitCode

FORMATS = ("text", "json", "jsonl", "sarif", "csv", "html", "junit", "gitlab")
MAX_WARNINGS_SHOWN = 20


@dataclass(frozen=True)
class OutputOptions:
    """The options every scanning command shares (see `scan_options`)."""

    fmt: str  # what standard output gets: --format, else text
    outputs: tuple[tuple[str, Path], ...]  # (format, file) for each -o; empty: the report goes to stdout
    redact: bool
    config: Path | None
    rules: tuple[Path, ...]
    exit_code: int
    jobs: int | None
    show_suppressed: bool
    baseline: Path | None = None  # accepted findings (scanner/filters/baseline.py)
    ignore_file: Path | None = None
    report_unused_ignores: bool = False
    rulesets: tuple[str, ...] = ()  # built-in rulesets to run; empty: the config's, else `default`


def scan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every scanning command, gathered into one OutputOptions argument."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Report format (default: text; for -o files, the one each file's extension names)."),
        click.option("--output", "-o", "outputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
                     help="Write a report here (created with 0600 permissions) instead of stdout; repeatable, "
                          "the format taken from each extension: .sarif .json .jsonl .csv .html .xml (JUnit) "
                          ".gitlab.json .txt."),
        click.option("--no-redact", is_flag=True, help="Show secrets in full (redacted to a prefix by default)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Config file (default: .keysweep.toml or [tool.keysweep] in pyproject.toml, "
                          "found from the scanned path upward)."),
        click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
                     help="Extra rule file or directory (repeatable)."),
        click.option("--ruleset", "rulesets", multiple=True, metavar="NAME",
                     help="Run the built-in rules of this ruleset (repeatable): default (every precise rule), all, "
                          "a family (cloud, ai, payments …) or a provider. Extra rule files always run."),
        click.option("--exit-code", type=click.IntRange(0, 255), default=1, show_default=True,
                     help="Exit status when findings remain."),
        click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes (default: all cores)."),
        click.option("--show-suppressed", is_flag=True,
                     help="Also list candidates that filters suppressed, with the reason."),
        click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
                     help="Report only findings not in this baseline (see `keysweep baseline create`)."),
        click.option("--ignore-file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Fingerprints to ignore (default: .keysweepignore in the project root, if any)."),
        click.option("--report-unused-ignores", is_flag=True,
                     help="Warn about ignore-file entries that matched no finding."),
    ]
    for option in reversed(options):
        command = option(command)

    def wrapper(fmt: str | None, outputs: tuple[Path, ...], no_redact: bool, config_path: Path | None,
                extra_rules: tuple[Path, ...], exit_code: int, jobs: int | None, show_suppressed: bool,
                **kwargs: Any) -> Any:
        targets = report_targets(outputs, fmt)  # an unknown extension is an error now, not after the scan
        opts = OutputOptions(fmt or "text", targets, not no_redact, config_path, extra_rules, exit_code, jobs,
                             show_suppressed,
                             baseline=kwargs.pop("baseline"), ignore_file=kwargs.pop("ignore_file"),
                             report_unused_ignores=kwargs.pop("report_unused_ignores"),
                             rulesets=kwargs.pop("rulesets"))
        return command(opts=opts, **kwargs)

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    wrapper.__click_params__ = command.__click_params__  # type: ignore[attr-defined]
    return wrapper


def emit(report: Any, opts: OutputOptions, *, root: Path | None = None, post: Any = None) -> ExitCode | int:
    """Run the report-time filters (baseline, ignore file; --only-verified after --verify), print
    warnings, write the report, and choose the exit status.

    root is the directory report paths are relative to (a repository's root for git findings).
    post (from `LiveOptions.prepare`) verifies keys before the report and revokes them after it.
    """
    from datetime import datetime, timezone

    from scanner.filters.stage import filter_report
    from scanner.output import printable, use_color, write_report
    from scanner.reporters import render

    report = apply_accepted_findings(report, opts, root=Path.cwd() if root is None else root)
    if post is not None:
        report = post.verify(report)
        if post.only_verified:
            from scanner.filters.verified import ONLY_VERIFIED

            report = filter_report(report, [ONLY_VERIFIED], keep_suppressed=opts.show_suppressed)
    warnings = report.stats.warnings
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"keysweep: warning: {printable(warning)}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(f"keysweep: warning: … and {len(warnings) - MAX_WARNINGS_SHOWN} more", err=True)
    finished_at = datetime.now(timezone.utc)
    target = str(root if root is not None else Path.cwd())
    to_stdout = not opts.outputs or any(str(path) == "-" for _, path in opts.outputs)
    for fmt, path in opts.outputs or ((opts.fmt, Path("-")),):
        color = fmt == "text" and str(path) == "-" and use_color()
        write_report(render(report, fmt, redact=opts.redact, color=color, finished_at=finished_at, target=target),
                     None if str(path) == "-" else path)
    if not to_stdout:  # every report went to a file: the terminal still hears how the scan went
        from scanner.reporters.text import summary

        written = ", ".join(f"{path} ({fmt})" for fmt, path in opts.outputs)
        click.echo(f"keysweep: {summary(report)}; report{'s' if len(opts.outputs) > 1 else ''}: {written}", err=True)
    if post is not None:
        revocation = post.after_output(report, root=root)  # never changes the exit status
        html = [(fmt, path) for fmt, path in opts.outputs if fmt == "html" and str(path) != "-"]
        if revocation and html:  # the audit page shows what revocation did: written again, atomically
            with_outcomes = dataclasses.replace(report, extra_stats={**report.extra_stats, "revocation": revocation})
            for fmt, path in html:
                write_report(render(with_outcomes, fmt, redact=opts.redact, finished_at=finished_at, target=target), path)
    return opts.exit_code if report.findings else ExitCode.CLEAN


def report_targets(outputs: tuple[Path, ...], fmt: str | None) -> tuple[tuple[str, Path], ...]:
    """Each -o file with its format: --format if given, else what the file's extension names
    (scanner/reporters: EXTENSIONS), else text for a name with no extension (`-`, /dev/null).
    A file named twice is written once."""
    if not outputs:
        return ()
    from scanner.reporters import format_for_path

    targets: dict[Path, str] = {}
    for path in outputs:
        targets.setdefault(path, fmt or ("text" if str(path) == "-" else format_for_path(path) or "text"))
    return tuple((chosen, path) for path, chosen in targets.items())


def show_notices(notices: tuple[str, ...] | list[str]) -> None:
    """What was ignored for safety (scanner/config.py), said before the scan starts."""
    from scanner.output import printable

    for notice in notices:
        click.echo(f"keysweep: warning: {printable(notice)}", err=True)


def apply_accepted_findings(report: Any, opts: OutputOptions, *, root: Path) -> Any:
    """Filters 6 and 7 (baseline, .keysweepignore), matched the same way for every command."""
    from scanner.filters.baseline import IGNORE_FILE, AcceptedFilters, load_accepted
    from scanner.filters.stage import filter_report

    if opts.baseline is None and opts.ignore_file is None and not (root / IGNORE_FILE).is_file():
        return report
    accepted = load_accepted(baseline=opts.baseline, ignore_file=opts.ignore_file, root=root)
    assert accepted is not None
    filters = AcceptedFilters(accepted, root=root)
    report = filter_report(report, filters.filters, keep_suppressed=opts.show_suppressed)
    filters.note_suppressed(report.suppressed)
    if opts.report_unused_ignores:
        report.stats.warnings.extend(f"{accepted.ignore_source}:{i.line}: ignore matched no finding"
                                     for i in filters.unused())
    return report
