"""What a scan produces: findings, the suppressed ones (kept for --show-suppressed) and counters."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scanner.finding import Finding
from scanner.rules import Rule

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@dataclass
class ScanStats:
    """Counters a source updates as it goes; merged across worker processes."""

    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: ScanStats) -> None:
        self.files_scanned += other.files_scanned
        self.bytes_scanned += other.bytes_scanned
        self.skipped.update(other.skipped)
        self.warnings.extend(other.warnings)


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    suppressed: list[Finding]
    stats: ScanStats
    rules: tuple[Rule, ...]
    duration_s: float = 0.0
    extra_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    @property
    def all_secrets(self) -> frozenset[str]:
        return frozenset(f.secret for f in (*self.findings, *self.suppressed))

    def stats_dict(self) -> dict[str, Any]:
        return {
            "findings": len(self.findings),
            "suppressed": len(self.suppressed),
            "files_scanned": self.stats.files_scanned,
            "bytes_scanned": self.stats.bytes_scanned,
            "skipped": dict(sorted(self.stats.skipped.items())),
            "rules": len(self.rules),
            "duration_s": round(self.duration_s, 3),
            **self.extra_stats,
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule_id, f.commit or ""))


def build_report(rules: Iterable[Rule], findings: Iterable[Finding], stats: ScanStats, started: float,
                 extra_stats: dict[str, Any] | None = None) -> Report:
    """The one place a Report is made: findings sorted, the suppressed ones kept apart."""
    ordered = sort_findings(list(findings))
    return Report(
        findings=[f for f in ordered if f.suppressed is None],
        suppressed=[f for f in ordered if f.suppressed is not None],
        stats=stats,
        rules=tuple(rules),
        duration_s=time.monotonic() - started,
        extra_stats=dict(extra_stats or {}),
    )
