"""Thin click commands: parse options, call a function, map the outcome to an ExitCode.

Imports beyond click are done inside commands so `keysweep --version` and the pre-commit path
stay fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from scanner import __version__
from scanner.cli_revoke import LiveOptions, revoke, revoke_options
from scanner.errors import ExitCode, KeysweepError

FORMATS = ("text", "json", "jsonl", "sarif", "csv")
MAX_WARNINGS_SHOWN = 20


@dataclass(frozen=True)
class OutputOptions:
    """The options every scanning command shares (see `scan_options`)."""

    fmt: str
    output: Path | None
    redact: bool
    config: Path | None
    rules: tuple[Path, ...]
    exit_code: int
    jobs: int | None
    show_suppressed: bool
    baseline: Path | None = None  # accepted findings (scanner/filters/baseline.py)
    ignore_file: Path | None = None
    report_unused_ignores: bool = False


def scan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every scanning command, gathered into one OutputOptions argument."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Report format."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the report here (created with 0600 permissions) instead of stdout."),
        click.option("--no-redact", is_flag=True, help="Show secrets in full (redacted to a prefix by default)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Config file (default: .keysweep.toml or [tool.keysweep] in pyproject.toml, "
                          "found from the scanned path upward)."),
        click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
                     help="Extra rule file or directory (repeatable)."),
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

    def wrapper(fmt: str, output: Path | None, no_redact: bool, config_path: Path | None,
                extra_rules: tuple[Path, ...], exit_code: int, jobs: int | None, show_suppressed: bool,
                **kwargs: Any) -> Any:
        opts = OutputOptions(fmt, output, not no_redact, config_path, extra_rules, exit_code, jobs, show_suppressed,
                             baseline=kwargs.pop("baseline"), ignore_file=kwargs.pop("ignore_file"),
                             report_unused_ignores=kwargs.pop("report_unused_ignores"))
        return command(opts=opts, **kwargs)

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    wrapper.__click_params__ = command.__click_params__  # type: ignore[attr-defined]
    return wrapper


def emit(report: Any, opts: OutputOptions, *, root: Path | None = None, post: Any = None) -> ExitCode | int:
    """Apply the baseline and ignore file, print warnings, write the report, and choose the exit status.

    root is the directory report paths are relative to (a repository's root for git findings).
    post (from `LiveOptions.prepare`) verifies keys before the report and revokes them after it.
    """
    from scanner.output import use_color, write_report
    from scanner.reporters import render

    report = apply_accepted_findings(report, opts, root=Path.cwd() if root is None else root)
    if post is not None:
        report = post.before_output(report)
    warnings = report.stats.warnings
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"keysweep: warning: {warning}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(f"keysweep: warning: … and {len(warnings) - MAX_WARNINGS_SHOWN} more", err=True)
    color = opts.fmt == "text" and opts.output is None and use_color()
    write_report(render(report, opts.fmt, redact=opts.redact, color=color), opts.output)
    if post is not None:
        post.after_output(report, root=root)  # never changes the exit status
    return opts.exit_code if report.findings else ExitCode.CLEAN


def show_notices(notices: tuple[str, ...] | list[str]) -> None:
    """What was ignored for safety (scanner/config.py), said before the scan starts."""
    for notice in notices:
        click.echo(f"keysweep: warning: {notice}", err=True)


def apply_accepted_findings(report: Any, opts: OutputOptions, *, root: Path) -> Any:
    """Baseline and .keysweepignore, matched the same way for every command that emits a report."""
    from scanner.filters.baseline import IGNORE_FILE, apply_accepted, load_accepted

    if opts.baseline is None and opts.ignore_file is None and not (root / IGNORE_FILE).is_file():
        return report
    accepted = load_accepted(baseline=opts.baseline, ignore_file=opts.ignore_file, root=root)
    assert accepted is not None
    report, unused = apply_accepted(report, accepted, root=root, keep_suppressed=opts.show_suppressed)
    if opts.report_unused_ignores:
        report.stats.warnings.extend(f"{accepted.ignore_source}:{i.line}: ignore matched no finding" for i in unused)
    return report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="keysweep")
def cli() -> None:
    """keysweep: find leaked API keys in code, history, logs and bundles, and get them revoked."""


@cli.command()
@click.argument("paths", nargs=-1, type=str)
@click.option("--as", "treat_as", type=click.Choice(("log", "bundle", "sourcemap", "har")),
              help="Read every input as this kind instead of telling it by name and content.")
@scan_options
@revoke_options
def scan(opts: OutputOptions, live: LiveOptions, paths: tuple[str, ...], treat_as: str | None = None) -> int:
    """Scan files and directories (default: the current directory); '-' reads standard input."""
    import dataclasses

    from scanner.config import load_config
    from scanner.scan import build_scanner, default_jobs, scan_paths

    targets = list(paths) or ["."]
    start = next((Path(p) for p in targets if p != "-"), Path.cwd())
    config = load_config(opts.config, start=start)
    if treat_as:
        config = dataclasses.replace(config, force_kind=treat_as)
    scanner = build_scanner(config, extra_rules=opts.rules, keep_suppressed=opts.show_suppressed)
    show_notices(scanner.notices)
    post = live.prepare(config, scanner.engine.rules)
    report = scan_paths(targets, scanner=scanner, jobs=opts.jobs or default_jobs(),
                        read_stdin=lambda: sys.stdin.buffer)  # streamed: a log on stdin may be GBs
    return emit(report, opts, post=post)


@cli.group()
def rules() -> None:
    """List and check rules."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path), help="Extra rule files.")
def rules_list(fmt: str, extra_rules: tuple[Path, ...]) -> int:
    """One rule per line, id first."""
    import json

    from scanner.rules import load_rules

    loaded = load_rules(list(extra_rules))
    if fmt == "json":
        rows = [{"id": r.id, "name": r.name, "provider": r.provider, "severity": r.severity,
                 "confidence": r.confidence, "description": r.description, "keywords": list(r.keywords),
                 "tags": list(r.tags), "references": list(r.references)} for r in loaded]
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in loaded:
            click.echo(f"{r.id}\t{r.severity}\t{r.confidence}\t{r.name}")
    return ExitCode.CLEAN


@rules.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def rules_check(path: Path | None) -> int:
    """Lint rules: ids, patterns, examples, keywords and a ReDoS bound (default: the built-in rules)."""
    from scanner.rule_check import check_rules

    problems, count = check_rules(path)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"keysweep: {len(problems)} problem(s) in {count} rule(s)", err=True)
        return ExitCode.BAD_CONFIG
    click.echo(f"{count} rules OK")
    return ExitCode.CLEAN


# Commands in their own modules; imported here, after scan_options and emit exist for them to use.
from scanner.cli_git import baseline, git, install_hooks  # noqa: E402

cli.add_command(git)
cli.add_command(baseline)
cli.add_command(install_hooks)
cli.add_command(revoke)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one error line on stderr and a meaningful exit status for every outcome."""
    try:
        status = cli.main(args=argv, prog_name="keysweep", standalone_mode=False)
    except KeysweepError as exc:
        click.echo(f"keysweep: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        click.echo("keysweep: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"keysweep: error: {exc.format_message()}", err=True)
        sys.exit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("keysweep: error: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(int(ExitCode.CLEAN))
    except Exception as exc:  # a bug, not bad input: still one line, the traceback on request
        if os.environ.get("KEYSWEEP_DEBUG"):
            raise
        click.echo(f"keysweep: error: internal error: {type(exc).__name__}: {exc} (set KEYSWEEP_DEBUG=1 for a traceback)", err=True)
        sys.exit(int(ExitCode.INCOMPLETE))
    sys.exit(int(status) if isinstance(status, int) else 0)
