"""`--revoke`/`--verify` for scanning commands, and `keysweep revoke status|retry|--from-report`.

`revoke_options` adds the options to a scanning command and hands it one LiveOptions; the command
calls `live.prepare(config, rules)` before scanning and passes the result to `emit`, which verifies
before writing the report and delivers after. Kept light: everything else is imported on use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scanner.errors import ExitCode, UsageError
from scanner.live import LiveOptions

if TYPE_CHECKING:
    from scanner.config import Config
    from scanner.revoke.hook import PostScan
    from scanner.rules import Rule

STATE_DIR_HELP = "Where the revoke outbox lives (default: $KEYSWEEP_STATE_DIR, else the user's state directory)."


def revoke_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options for live verification and revocation, gathered into one `live` argument."""
    options = [
        click.option("--revoke", is_flag=True,
                     help="After the report, send findings to the configured revoke webhooks (see docs/revoke-webhook.md)."),
        click.option("--dry-run", is_flag=True,
                     help="Print the revoke requests that would be sent (keys redacted); send and queue nothing."),
        click.option("--force", is_flag=True, help="With --revoke: send keys again even if already delivered."),
        click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), help=STATE_DIR_HELP),
        click.option("--verify", is_flag=True,
                     help="Ask each key's provider whether it is live (one harmless request per unique key)."),
        click.option("--only-verified", is_flag=True, help="Report only keys verified valid (implies --verify)."),
        click.option("--verify-host", "verify_hosts", multiple=True, metavar="NAME=URL",
                     help="Check keys of rule or provider NAME at URL instead (self-hosted or test endpoints)."),
        click.option("--verify-allow-private", is_flag=True,
                     help="Let --verify-host URLs resolve to private, loopback or link-local addresses."),
    ]
    for option in reversed(options):
        command = option(command)

    def wrapper(revoke: bool, dry_run: bool, force: bool, state_dir: Path | None, verify: bool, only_verified: bool,
                verify_hosts: tuple[str, ...], verify_allow_private: bool, **kwargs: Any) -> Any:
        live = LiveOptions(revoke, dry_run, force, state_dir, verify or only_verified, only_verified,
                           verify_hosts, verify_allow_private)
        return command(live=live, **kwargs)

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    wrapper.__click_params__ = command.__click_params__  # type: ignore[attr-defined]
    return wrapper


def state_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), help=STATE_DIR_HELP)(command)


def config_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                         help="Config file (default: found from the current directory upward).")(command)


@click.group("revoke", invoke_without_command=True)
@click.option("--from-report", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Queue and deliver the findings of a JSON report made with --no-redact.")
@click.option("--dry-run", is_flag=True, help="Print the requests that would be sent; send and queue nothing.")
@click.option("--force", is_flag=True, help="Send keys again even if already delivered.")
@state_dir_option
@config_option
@click.pass_context
def revoke(ctx: click.Context, from_report: Path | None, dry_run: bool, force: bool, state_dir: Path | None,
           config_path: Path | None) -> int:
    """The revoke outbox: queue a report's findings (--from-report), `status`, `retry`."""
    if ctx.invoked_subcommand is not None:
        if from_report or dry_run or force:
            raise UsageError("--from-report, --dry-run and --force go without a subcommand")
        return ExitCode.CLEAN
    if from_report is None:
        raise UsageError("give --from-report REPORT.json, or a subcommand: status, retry (see `keysweep revoke -h`)")
    from scanner.config import load_config
    from scanner.revoke.hook import RevokeRun, revoke_findings, revoke_settings
    from scanner.revoke.outbox import default_state_dir
    from scanner.revoke.report_input import findings_from_report
    from scanner.assemble import select_rules

    config = load_config(config_path, start=Path.cwd())
    for notice in config.notices:
        click.echo(f"keysweep: warning: {notice}", err=True)
    run = RevokeRun(revoke_settings(config, select_rules(config)), state_dir or default_state_dir(), dry_run, force)
    findings = findings_from_report(from_report)
    outcomes = revoke_findings(findings, run=run, repository=None, echo=_echo, show=click.echo)
    return ExitCode.CLEAN if all(o.state == "delivered" for o in outcomes) else ExitCode.INCOMPLETE


@revoke.command("status")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--state", "states", multiple=True, type=click.Choice(("pending", "delivered", "failed", "gone")),
              help="Only requests in this state (repeatable).")
@state_dir_option
def status(fmt: str, states: tuple[str, ...], state_dir: Path | None) -> int:
    """List the outbox, oldest first; keys are shown redacted."""
    from scanner.revoke.outbox import STATES, Outbox, default_state_dir
    from scanner.revoke.status import render_json, render_text

    outbox = Outbox.existing(state_dir or default_state_dir())
    rows = [] if outbox is None else outbox.rows(states=states or STATES)
    if outbox is not None:
        outbox.close()
    click.echo(render_json(rows) if fmt == "json" else render_text(rows), nl=False)
    return ExitCode.CLEAN


@revoke.command("retry")
@click.argument("webhook_ids", nargs=-1)
@click.option("--include-failed", is_flag=True, help="Also resend failed and gone requests (same webhook-id).")
@state_dir_option
@config_option
def retry(webhook_ids: tuple[str, ...], include_failed: bool, state_dir: Path | None, config_path: Path | None) -> int:
    """Resend pending requests (or only WEBHOOK_IDS) with their original webhook-id and body.
    Exits 0 when everything sent was delivered, 4 when some remain pending or failed."""
    from scanner.config import load_config
    from scanner.revoke.config import parse_revoke
    from scanner.revoke.delivery import deliver_pending
    from scanner.revoke.hook import describe
    from scanner.revoke.outbox import Outbox, default_state_dir

    config = load_config(config_path, start=Path.cwd())
    settings = parse_revoke(config.raw.get("revoke"), source=config.revoke_source or config.source or "config")
    outbox = Outbox.existing(state_dir or default_state_dir())
    if outbox is None:
        click.echo("keysweep: revoke: the outbox is empty; nothing to retry", err=True)
        return ExitCode.CLEAN
    with outbox:
        outcomes = deliver_pending(outbox, settings=settings, environ=os.environ, include_failed=include_failed,
                                   ids=webhook_ids or None, echo=_echo)
    for outcome in outcomes:
        _echo(describe(outcome))
    if not outcomes:
        _echo("nothing pending")
    return ExitCode.CLEAN if all(o.state == "delivered" for o in outcomes) else ExitCode.INCOMPLETE


def _echo(line: str) -> None:
    click.echo(f"keysweep: revoke: {line}", err=True)
