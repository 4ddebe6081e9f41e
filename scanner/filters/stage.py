"""The one filter stage: every candidate, once located, passes the filters in order; the first that
has a reason suppresses it, and the reason is kept, so `--show-suppressed` can say why.

    scan time (in Scanner.scan, per chunk)    report time (in emit, on the whole Report)
    1. the rule's own checks (entropy, …)     6. baseline           (filters/baseline.py)
    2. placeholders                           7. ignore file        (filters/baseline.py)
    3. inline allow comments                     … --verify runs here …
    4. config allowlists                      8. only verified      (filters/verified.py)
    5. publishable keys (filters/publishable.py), password hashes for generic rules (filters/hashes.py),
       and public keys in client code
    then re-grading: a secret-class key in client code is critical (filters/exposure.py)

Scan-time filters see the text around the match (FindingContext); report-time filters see whole
findings: a history finding with all its locations, a finding with its verification result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scanner.config import Config
from scanner.filters.allowlist import config_allow_reason, has_inline_allow, rule_allow_reason
from scanner.filters.exposure import grade_exposure, is_public_key_in_client_code
from scanner.filters.hashes import is_password_hash
from scanner.filters.publishable import is_publishable_key
from scanner.finding import Finding
from scanner.report import Report

Reason = Callable[[Finding], "str | None"]


@dataclass(frozen=True)
class Filter:
    name: str  # for docs and tests; the reason it returns is what users see
    reason: Reason


def scan_filters(config: Config) -> tuple[Filter, ...]:
    """Filters 2-5, in order (1 is the engine's: its reason arrives already set)."""
    return (
        Filter("placeholder", _placeholder),
        Filter("rule allow", _rule_allow),
        Filter("inline allow", lambda f: has_inline_allow(f.context.lines) if f.context else None),
        Filter("config allowlist", lambda f: _config_allow(config, f)),
        Filter("publishable key", is_publishable_key),
        Filter("password hash", is_password_hash),
        Filter("public key in client code", is_public_key_in_client_code),
    )


def _placeholder(finding: Finding) -> str | None:
    from scanner.filters.placeholders import placeholder_reason  # 30 patterns: compiled when first needed

    return placeholder_reason(finding.secret)


def _rule_allow(finding: Finding) -> str | None:
    return rule_allow_reason(finding.context.rule, finding.secret) if finding.context else None


def _config_allow(config: Config, finding: Finding) -> str | None:
    context = finding.context
    if context is None or not config.allowlists:
        return None
    return config_allow_reason(config.allowlists, rule_id=finding.rule_id, rel_path=context.rel_path,
                               secret=finding.secret, match=context.match, line=context.lines)


def first_reason(finding: Finding, filters: Iterable[Filter]) -> str | None:
    for step in filters:
        reason = step.reason(finding)
        if reason:
            return reason
    return None


def apply(finding: Finding, filters: Iterable[Filter]) -> Finding:
    """The finding suppressed by the first filter with a reason (kept as it is if already suppressed),
    re-graded when it is kept."""
    if finding.suppressed is None:
        reason = first_reason(finding, filters)
        if reason is not None:
            return finding.replace(suppressed=reason)
    return grade_exposure(finding) if finding.suppressed is None else finding


def split(findings: Iterable[Finding], filters: Iterable[Filter]) -> tuple[list[Finding], list[Finding]]:
    """(kept, suppressed) after the filters: the report-time half of the stage."""
    filters = tuple(filters)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        filtered = apply(finding, filters)
        (kept if filtered.suppressed is None else suppressed).append(filtered)
    return kept, suppressed


def filter_report(report: Report, filters: Iterable[Filter], *, keep_suppressed: bool) -> Report:
    """The report-time half of the stage: findings the filters drop move to `suppressed` (when kept)."""
    kept, dropped = split(report.findings, filters)
    suppressed = report.suppressed + dropped if keep_suppressed else report.suppressed
    return dataclasses.replace(report, findings=kept, suppressed=suppressed)
