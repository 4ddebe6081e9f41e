"""CSV for spreadsheets: one finding per row."""

from __future__ import annotations

import csv
import io

from scanner.output import public_dict
from scanner.report import Report

COLUMNS = (
    "rule_id", "severity", "confidence", "path", "line", "column", "secret", "fingerprint",
    "source", "commit", "description", "suppressed",
)


def render(report: Report, *, redact: bool, color: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    secrets = report.all_secrets
    for finding in report.findings + report.suppressed:
        row = public_dict(finding, redact_secrets=redact, all_secrets=secrets)
        row.setdefault("suppressed", "")
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    return buffer.getvalue()
