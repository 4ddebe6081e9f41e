"""JSON (one object) and JSON lines (one finding per line)."""

from __future__ import annotations

import json
from typing import Any

from scanner import __version__
from scanner.output import public_dict
from scanner.report import Report


def records(report: Report, findings: list[Any], *, redact: bool) -> list[dict[str, Any]]:
    secrets = report.all_secrets
    return [public_dict(f, redact_secrets=redact, all_secrets=secrets) for f in findings]


def render(report: Report, *, redact: bool, color: bool = False) -> str:
    document: dict[str, Any] = {
        "version": __version__,
        "findings": records(report, report.findings, redact=redact),
        "stats": report.stats_dict(),
    }
    if report.suppressed:
        document["suppressed"] = records(report, report.suppressed, redact=redact)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_lines(report: Report, *, redact: bool, color: bool = False) -> str:
    rows = records(report, report.findings + report.suppressed, redact=redact)
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
