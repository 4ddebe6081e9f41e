"""A self-contained HTML audit page: summary first, charts, then a table that sorts, filters and expands.

One file, nothing fetched: the stylesheet and script are inlined, and a Content-Security-Policy
meta tag allows exactly those two (by hash) plus `data:` images, so a page that somehow carried
injected markup still could not load or run anything. The table is plain HTML; the script only
sorts, filters and expands, so the page reads the same with JavaScript off.

Every value shown goes through `public_dict` (redaction as in every format) and Jinja2 with
autoescaping on: file names, snippets, commit messages and authors come from scanned content.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scanner import __version__
from scanner.output import public_dict
from scanner.report import SEVERITY_ORDER, Report
from scanner.rules import Rule

if TYPE_CHECKING:  # the charts are drawn only when a page is written (pre-commit imports this module)
    from scanner.reporters.svg import Bar, Point

TEMPLATES = "templates"
MAX_PROVIDER_BARS = 12
# Fields a row shows in its own columns or sections; any other extra field is listed under "More".
SHOWN = frozenset({
    "rule_id", "rule_name", "description", "provider", "severity", "confidence", "secret", "secret_sha256",
    "fingerprint", "path", "line", "column", "end_line", "end_column", "source", "commit", "snippet", "tags",
    "author", "email", "date", "message", "in_head", "first_seen", "age_days", "overdue", "locations",
    "verification", "revocation", "suppressed",
})


@dataclass(frozen=True)
class Summary:
    """The numbers at the top of the page."""

    total: int
    by_severity: dict[str, int]
    by_provider: dict[str, int]
    history: bool  # git findings: in_head / overdue mean something
    in_head: int
    history_only: int
    overdue: int
    oldest_days: int | None
    verification: dict[str, int]  # status -> findings; empty when --verify did not run
    revocation: dict[str, int]  # state -> findings; empty when the report carries no outcome
    suppressed: int

    @property
    def live(self) -> int:
        return self.verification.get("live", 0)


@dataclass
class Row:
    """One finding as the table shows it: the public record plus what the template derives."""

    index: int
    record: dict[str, Any]
    rule: Rule | None
    statuses: list[str] = field(default_factory=list)

    @property
    def severity_rank(self) -> int:
        return SEVERITY_ORDER.get(self.record["severity"], 9)

    @property
    def verification(self) -> str:
        check = self.record.get("verification")
        return check.get("status", "") if isinstance(check, dict) else ""

    @property
    def date(self) -> str:
        return str(self.record.get("first_seen") or self.record.get("date") or "")

    @property
    def docs(self) -> list[str]:
        """The rule's references that are web links (a rule file from a scanned tree could say `javascript:`)."""
        refs = self.rule.references if self.rule else ()
        return [url for url in refs if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc]

    @property
    def ignore_line(self) -> str:
        """The line that accepts this finding in .keysweepignore (see filters/baseline.py)."""
        where = " ".join(str(self.record["path"]).split())  # a comment must stay on one line
        return f"{self.record['fingerprint']}  # {self.record['rule_id']} in {where}"

    @property
    def more(self) -> list[tuple[str, str]]:
        """Other scalar fields a source added (sourcemap, har_field, decoded, timestamp, staged …)."""
        items = []
        for key, value in self.record.items():
            if key in SHOWN or isinstance(value, (dict, list)) or value is None:
                continue
            items.append((key, str(value)))
        return items


def render(report: Report, *, redact: bool, color: bool = False, finished_at: datetime | None = None,
           target: str | None = None) -> str:
    """The page. finished_at and target (what was scanned) are shown when the caller knows them."""
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup

    from scanner.reporters.svg import SEVERITIES, provider_bars, timeline

    secrets = report.all_secrets
    rules_by_id = report.rules_by_id
    records = [public_dict(f, redact_secrets=redact, all_secrets=secrets) for f in report.findings]
    records.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["path"], r["line"], r["rule_id"]))
    rows = [Row(i, record, rules_by_id.get(record["rule_id"])) for i, record in enumerate(records)]
    for row in rows:
        row.statuses = statuses(row.record)
    suppressed = [public_dict(f, redact_secrets=redact, all_secrets=secrets) for f in report.suppressed]
    summary = summarize(records, suppressed=len(report.suppressed), extra_stats=report.extra_stats)
    now = finished_at.astimezone(timezone.utc) if finished_at else None
    env = Environment(loader=PackageLoader("scanner.reporters", TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    style, script = asset("report.css"), asset("report.js")
    columns = visible_columns(rows)
    return env.get_template("report.html.j2").render(
        title=f"keysweep report: {target}" if target else "keysweep report",
        heading=PurePath(target).name or target if target else "Leaked keys",
        target=target,
        generated=now.strftime("%Y-%m-%d %H:%M UTC") if now else None,
        version=__version__,
        redacted=redact,
        summary=summary,
        severities=SEVERITIES,
        stats=report.stats,
        duration=report.duration_s,
        rule_count=len(report.rules),
        rows=rows,
        suppressed=suppressed,
        columns=columns,
        providers=sorted(summary.by_provider),
        status_choices=status_choices(rows),
        bars=Markup(provider_bars(bars(records))),
        timeline=Markup(timeline(timeline_points(records), now=now)),
        style=Markup(style),
        script=Markup(script),
        csp=csp(style, script),
        short=short_sha,
    )


def summarize(records: list[dict[str, Any]], *, suppressed: int = 0,
              extra_stats: dict[str, Any] | None = None) -> Summary:
    """Counts for the summary, from public records (what the page shows is what is counted)."""
    severity = Counter(r["severity"] for r in records)
    provider = Counter(r["provider"] for r in records)
    history = [r for r in records if "in_head" in r]
    checked = Counter(r["verification"]["status"] for r in records if isinstance(r.get("verification"), dict))
    stats_verification = (extra_stats or {}).get("verification")
    if isinstance(stats_verification, dict) and "not-checkable" in stats_verification:
        checked["not-checkable"] = int(stats_verification["not-checkable"])
    ages = [int(r["age_days"]) for r in records if isinstance(r.get("age_days"), int)]
    return Summary(
        total=len(records),
        by_severity={s: severity[s] for s in sorted(severity, key=lambda s: SEVERITY_ORDER.get(s, 9))},
        by_provider=dict(sorted(provider.items(), key=lambda item: (-item[1], item[0]))),
        history=bool(history),
        in_head=sum(1 for r in history if r["in_head"]),
        history_only=sum(1 for r in history if not r["in_head"]),
        overdue=sum(1 for r in records if r.get("overdue")),
        oldest_days=max(ages) if ages else None,
        verification=dict(sorted(checked.items())),
        revocation=revocation_counts(records, extra_stats or {}),
        suppressed=suppressed,
    )


def revocation_counts(records: list[dict[str, Any]], extra_stats: dict[str, Any]) -> dict[str, int]:
    """Revoke outcomes, if whoever built the report recorded them (per finding or as totals).

    `--revoke` runs after the reports are written; `emit` then writes an HTML report again with the
    outcomes by state in `extra_stats["revocation"]`."""
    counts: Counter[str] = Counter()
    for record in records:
        outcome = record.get("revocation")
        state = outcome.get("state") if isinstance(outcome, dict) else outcome
        if isinstance(state, str) and state:
            counts[state] += 1
    totals = extra_stats.get("revocation")
    if not counts and isinstance(totals, dict):
        counts.update({str(k): int(v) for k, v in totals.items() if isinstance(v, int)})
    return dict(sorted(counts.items()))


def statuses(record: dict[str, Any]) -> list[str]:
    """Tokens the status filter matches: where the key is, whether it is overdue, what --verify said."""
    tokens = []
    if "in_head" in record:
        tokens.append("in-head" if record["in_head"] else "history-only")
    if record.get("overdue"):
        tokens.append("overdue")
    if record.get("staged"):
        tokens.append("staged")
    check = record.get("verification")
    if isinstance(check, dict) and check.get("status"):
        tokens.append(str(check["status"]))
    return tokens


STATUS_LABELS = {
    "in-head": "still in HEAD", "history-only": "history only", "overdue": "overdue for rotation",
    "staged": "staged", "live": "verified live", "invalid": "invalid (revoked or wrong)",
    "valid-no-permission": "valid, no permission", "rate-limited": "rate-limited", "unknown": "verification unknown",
}


def status_choices(rows: list[Row]) -> list[tuple[str, str]]:
    present = {token for row in rows for token in row.statuses}
    ordered = [t for t in STATUS_LABELS if t in present] + sorted(present - set(STATUS_LABELS))
    return [(token, STATUS_LABELS.get(token, token)) for token in ordered]


def visible_columns(rows: list[Row]) -> set[str]:
    """Git and verification columns only when some finding has them: a file scan's table stays narrow."""
    columns = set()
    for row in rows:
        if row.record.get("commit"):
            columns.add("commit")
        if row.record.get("author"):
            columns.add("author")
        if row.date:
            columns.add("date")
        if isinstance(row.record.get("age_days"), int):
            columns.add("age")
        if "in_head" in row.record:
            columns.add("head")
        if row.verification:
            columns.add("verify")
    return columns


def bars(records: list[dict[str, Any]]) -> list[Bar]:
    from scanner.reporters.svg import Bar

    by_provider: dict[str, Counter[str]] = {}
    for record in records:
        by_provider.setdefault(record["provider"], Counter())[record["severity"]] += 1
    ordered = sorted(by_provider.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    result = [Bar(name, dict(counts)) for name, counts in ordered[:MAX_PROVIDER_BARS]]
    rest = ordered[MAX_PROVIDER_BARS:]
    if rest:
        merged: Counter[str] = Counter()
        for _, counts in rest:
            merged.update(counts)
        result.append(Bar(f"{len(rest)} other providers", dict(merged)))
    return result


def timeline_points(records: list[dict[str, Any]]) -> list[Point]:
    from scanner.reporters.svg import Point

    points = []
    for record in records:
        when = parse_time(record.get("first_seen"))
        if when is None or "in_head" not in record:
            continue
        where = "still in HEAD" if record["in_head"] else "history only"
        age = f", {record['age_days']} days old" if isinstance(record.get("age_days"), int) else ""
        overdue = ", overdue for rotation" if record.get("overdue") else ""
        label = (f"{record['path']}:{record['line']} ({record['rule_id']}): first committed "
                 f"{when.date().isoformat()}{age}, {where}{overdue}")
        points.append(Point(when, bool(record["in_head"]), bool(record.get("overdue")), record["severity"],
                                label, record["fingerprint"]))
    return points


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def short_sha(sha: Any) -> str:
    return str(sha)[:10] if sha else ""


@cache
def asset(name: str) -> str:
    from importlib import resources

    return resources.files("scanner.reporters").joinpath(TEMPLATES, name).read_text(encoding="utf-8")


def csp(style: str, script: str) -> str:
    """Nothing may load from anywhere; only this page's own stylesheet and script run (by hash)."""
    return ("default-src 'none'; "
            f"style-src '{digest(style)}'; script-src '{digest(script)}'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
