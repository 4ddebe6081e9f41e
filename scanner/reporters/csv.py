"""CSV for spreadsheets: one finding per row."""

from __future__ import annotations

import csv
import io

from scanner.output import printable, public_dict
from scanner.report import Report

COLUMNS = (
    "rule_id", "severity", "confidence", "path", "line", "column", "secret", "fingerprint",
    "source", "commit", "description", "suppressed",
)


def render(report: Report, *, redact: bool, color: bool = False) -> str:
    buffer = io.StringIO()
    # A `verification` column (live, invalid, …) appears only when --verify checked some key.
    verified = any("verification" in f.extra for f in report.findings)
    columns = (*COLUMNS, "verification") if verified else COLUMNS
    # `keysweep fleet`: which repository each finding is in, first.
    if any("repository" in f.extra for f in report.findings + report.suppressed):
        columns = ("repository", *columns)
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    secrets = report.all_secrets
    for finding in report.findings + report.suppressed:
        row = public_dict(finding, redact_secrets=redact, all_secrets=secrets)
        row.setdefault("suppressed", "")
        row["verification"] = (row.get("verification") or {}).get("status")
        writer.writerow({k: "" if row.get(k) is None else neutralised(row[k]) for k in columns})
    return buffer.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A cell a spreadsheet would run as a formula (`=HYPERLINK(…)` as a file name) starts with a quote
    instead (OWASP: CSV injection); control characters are escaped, as on a terminal."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value.startswith(FORMULA_START) else value
