"""The step after a scan, shared by every scanning command through `emit`:

    prepare()        before scanning: validate [verify]/[revoke], the signing secrets' variables,
                     --verify-host overrides, and open the outbox; any problem is one line, now
    verify()         verify keys (--verify); --only-verified is a filter (filters/verified.py) run after it
    after_output()   after the report is written: queue findings in the outbox, then deliver

Revocation never changes the exit status and never holds back the report: it runs after the
report is out, and its problems are warnings.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from scanner.config import Config
from scanner.errors import KeysweepError, UsageError
from scanner.finding import Finding
from scanner.report import Report
from scanner.revoke.config import RevokeSettings, Webhook, parse_revoke, signing_keys
from scanner.revoke.delivery import Outcome, deliver_pending
from scanner.revoke.outbox import Outbox, default_state_dir
from scanner.revoke.payload import Event, build_events, redacted_body, takes
from scanner.revoke.transport import display_url
from scanner.rules import Rule
from scanner.verify.run import VerifyPlan, parse_verify, verify_findings
from scanner.verify.status import verification_of
from scanner.verify.target import parse_overrides

Echo = Callable[[str], None]


def to_stderr(line: str) -> None:
    print(f"keysweep: revoke: {line}", file=sys.stderr, flush=True)


def text_to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RevokeRun:
    settings: RevokeSettings
    state_dir: Path
    dry_run: bool = False
    force: bool = False


@dataclass(frozen=True)
class PostScan:
    plan: VerifyPlan | None = None
    only_verified: bool = False
    revoke: RevokeRun | None = None

    def verify(self, report: Report) -> Report:
        if self.plan is None:
            return report
        findings = verify_findings(report.findings, rules_by_id=report.rules_by_id, plan=self.plan)
        counts = Counter(verification_of(f.extra) or "not-checkable" for f in findings)
        stats = {**report.extra_stats, "verification": dict(sorted(counts.items()))}
        return dataclasses.replace(report, findings=findings, extra_stats=stats)

    def after_output(self, report: Report, *, root: Path | None = None, echo: Echo = to_stderr,
                     show: Echo = text_to_stderr) -> dict[str, int] | None:
        """Queue and deliver; the outcome counts by state (None when --revoke was not asked)."""
        if self.revoke is None:
            return None
        try:
            repository = origin_url(root) if root and any(f.source == "git" for f in report.findings) else None
            outcomes = revoke_findings(report.findings, run=self.revoke, repository=repository, echo=echo, show=show)
        except (KeysweepError, OSError, sqlite3.Error) as exc:
            echo(f"warning: revocation did not complete: {exc}")
            return {"not completed": 1}
        return dict(Counter(outcome.state for outcome in outcomes))


def prepare(
    *, config: Config, rules: Iterable[Rule], revoke: bool, dry_run: bool, force: bool, state_dir: Path | None,
    verify: bool, only_verified: bool, verify_hosts: tuple[str, ...], allow_private: bool,
) -> PostScan | None:
    """Everything that can be wrong, found before the scan starts."""
    rules = list(rules)
    source = config.source or "config"
    plan = None
    if verify or only_verified:
        plan = VerifyPlan(parse_verify(config.raw.get("verify"), source=source),
                          parse_overrides(verify_hosts, rules), allow_private)
    elif verify_hosts or allow_private:
        raise UsageError("--verify-host and --verify-allow-private need --verify")
    run = None
    if revoke or dry_run:
        run = RevokeRun(revoke_settings(config, rules), state_dir or default_state_dir(), dry_run, force)
        needs_verify = [w.name for w in run.settings.webhooks if w.only_verified]
        if needs_verify and plan is None:
            raise UsageError(f"revoke webhook {display_url(needs_verify[0])!r} takes only verified keys (only_verified = true); "
                             "add --verify")
        if not dry_run:
            Outbox(run.state_dir).close()  # an unwritable state directory is an error now, not after the scan
    elif force:
        raise UsageError("--force needs --revoke")
    if plan is None and run is None:
        return None
    return PostScan(plan, only_verified, run)


def revoke_settings(config: Config, rules: Iterable[Rule]) -> RevokeSettings:
    settings = parse_revoke(config.raw.get("revoke"), source=config.revoke_source or config.source or "config",
                            known_rules={rule.id for rule in rules})
    if not settings.webhooks:
        ignored = next((n for n in config.notices if "[revoke] ignored" in n), None)
        raise UsageError(ignored or "--revoke needs at least one [[revoke.webhooks]] in a trusted config (--config FILE, "
                         "or the user config; a config found in the scanned tree cannot send data); "
                         "see docs/revoke-webhook.md")
    signing_keys(settings)
    return settings


def revoke_findings(findings: list[Finding], *, run: RevokeRun, repository: str | None, echo: Echo,
                    show: Echo) -> list[Outcome]:
    """Queue what each webhook takes (each key once), then deliver everything pending."""
    outbox = Outbox.existing(run.state_dir) if run.dry_run else Outbox(run.state_dir)
    try:
        queued = [(w, e) for w in run.settings.webhooks for e in queue(w, findings, outbox=outbox, run=run,
                                                                       repository=repository, echo=echo)]
        if run.dry_run:
            pending = len(outbox.rows(states=("pending",))) if outbox else 0
            echo(f"--dry-run: {len(queued)} new request(s) shown, {pending} pending in the outbox; nothing sent or queued")
            for webhook, event in queued:
                show(request_text(webhook, event))
            return []
        assert outbox is not None
        outcomes = deliver_pending(outbox, settings=run.settings, echo=echo)
        for outcome in outcomes:
            echo(describe(outcome))
        return outcomes
    finally:
        if outbox is not None:
            outbox.close()


def queue(webhook: Webhook, findings: list[Finding], *, outbox: Outbox | None, run: RevokeRun,
          repository: str | None, echo: Echo) -> list[Event]:
    taken = [f for f in findings if takes(webhook, f)]
    states = ("pending",) if run.force else ("pending", "delivered")
    covered = outbox.covered(webhook.name, {f.secret_sha256 for f in taken}, states=states) if outbox else set()
    fresh = [f for f in taken if f.secret_sha256 not in covered]
    events = build_events(webhook, fresh, repository=repository)
    if not run.dry_run:
        assert outbox is not None
        for event in events:
            outbox.add(webhook, event)  # committed before anything is sent
    skipped = len({f.secret_sha256 for f in taken} & covered)
    if events or skipped:
        keys = sum(len(e.keys) for e in events)
        note = f"; {skipped} key(s) already queued or delivered (--force sends delivered ones again)" if skipped else ""
        echo(f"webhook {display_url(webhook.name)!r}: {keys} key(s) in {len(events)} new request(s){note}")
    return events


def request_text(webhook: Webhook, event: Event) -> str:
    """The request as it would go out, with any raw key redacted in the body shown."""
    body = json.dumps(redacted_body(event.body), indent=2, ensure_ascii=False)
    return (
        f"POST {display_url(webhook.url)}\n"
        "Content-Type: application/json\n"
        f"webhook-id: {event.webhook_id}\n"
        "webhook-timestamp: <unix time of the attempt>\n"
        f"webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body, keyed by ${webhook.secret_env}>\n"
        f"\n{body}\n"
    )


def describe(outcome: Outcome) -> str:
    text = f"{display_url(outcome.webhook)} {outcome.webhook_id}: {outcome.state}"
    if outcome.detail:
        text += f" ({outcome.detail})"
    return text + (f" after {outcome.attempts} attempt(s)" if outcome.attempts > 1 else "")


def origin_url(root: Path) -> str | None:
    """The repository's `origin` remote, for the payload's locations; None if there is none."""
    try:
        result = subprocess.run(["git", "-C", str(root), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
