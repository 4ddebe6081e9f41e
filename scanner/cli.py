"""Thin click commands: parse options, call a function, map the outcome to an ExitCode.

Imports beyond click are done inside commands so `keysweep --version` and the pre-commit path
stay fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner import __version__
from scanner.cli_common import OutputOptions, emit, scan_options, show_notices
from scanner.cli_fleet import fleet
from scanner.cli_git import baseline, git, install_hooks
from scanner.cli_revoke import LiveOptions, revoke, revoke_options
from scanner.errors import ExitCode


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
    from scanner.execution import default_jobs
    from scanner.scan import build_scanner, scan_paths

    targets = list(paths) or ["."]
    start = next((Path(p) for p in targets if p != "-"), Path.cwd())
    config = load_config(opts.config, start=start)
    if treat_as:
        config = dataclasses.replace(config, force_kind=treat_as)
    scanner = build_scanner(config, extra_rules=opts.rules, rulesets=opts.rulesets, keep_suppressed=opts.show_suppressed)
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
@click.option("--ruleset", "rulesets", multiple=True, metavar="NAME",
              help="Only rules of this ruleset (repeatable); default: every rule.")
def rules_list(fmt: str, extra_rules: tuple[Path, ...], rulesets: tuple[str, ...]) -> int:
    """One rule per line, id first; the totals (rules, providers, families) on stderr."""
    import json

    from scanner.rules import ALL_RULESET, load_rules, select_rulesets

    loaded = select_rulesets(load_rules(list(extra_rules), lean=True), rulesets or (ALL_RULESET,))
    if fmt == "json":
        rows = [{"id": r.id, "name": r.name, "provider": r.provider, "family": r.family, "severity": r.severity,
                 "confidence": r.confidence, "precise": r.precise, "rulesets": sorted(r.ruleset_names),
                 "description": r.description, "keywords": list(r.keywords), "tags": list(r.tags),
                 "references": list(r.references), "verify": r.verify is not None} for r in loaded]
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in loaded:
            click.echo(f"{r.id}\t{r.severity}\t{r.confidence}\t{r.name}")
    providers, families = {r.provider for r in loaded}, {r.family for r in loaded if r.family}
    click.echo(f"keysweep: {len(loaded)} rules from {len(providers)} providers in {len(families)} families", err=True)
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


cli.add_command(git)
cli.add_command(baseline)
cli.add_command(install_hooks)
cli.add_command(revoke)
cli.add_command(fleet)


def main(argv: list[str] | None = None) -> None:
    """The full command line: one error line on stderr and a meaningful exit status for every outcome."""
    from scanner.emit import fail
    from scanner.output import printable

    try:
        status = cli.main(args=argv, prog_name="keysweep", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("keysweep: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"keysweep: error: {printable(exc.format_message())}", err=True)
        sys.exit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code)
    except BaseException as exc:  # noqa: BLE001
        fail(exc)
    sys.exit(int(status) if isinstance(status, int) else 0)
