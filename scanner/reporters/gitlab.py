"""GitLab's secret-detection report (`artifacts: reports: secret_detection:`), so findings show in
merge requests and the security dashboard.

Written to the 15.x security report schemas
(https://gitlab.com/gitlab-org/security-products/security-report-schemas, secret-detection-report-format.json).
We declare 15.0.7, the version GitLab's own secrets analyzer pins because later ones are refused by
GitLab 16.x (https://gitlab.com/gitlab-org/security-products/analyzers/secrets/-/merge_requests/299).
Model 15 removed `vulnerabilities[].category` (and `cve`, `message`, `confidence`, `scanner`); the report
type lives in `scan.type`, so a vulnerability here has none of them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from scanner import __version__
from scanner.output import public_dict
from scanner.report import Report

SCHEMA_VERSION = "15.0.7"
SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
NO_COMMIT = "0000000"  # what GitLab's analyzer writes for a finding outside git history
# A fixed namespace so a finding keeps its id across runs (GitLab recommends UUIDs for `id`).
ID_NAMESPACE = "5c1f3a8e-2b7d-4e0a-9f61-6b4f7d2c9e10"
VENDOR = {"name": "keysweep"}
TOOL = {"id": "keysweep", "name": "keysweep", "version": __version__, "vendor": VENDOR}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def render(report: Report, *, redact: bool, color: bool = False, finished_at: datetime | None = None,
           target: str | None = None) -> str:
    """finished_at is the scan's end (start = end - duration); without it (a bare call, as in the
    golden-file test) the times are the Unix epoch, since a reporter does not read the clock."""
    end = (finished_at or EPOCH).astimezone(timezone.utc)
    start = end - timedelta(seconds=report.duration_s)
    rules_by_id = report.rules_by_id
    secrets = report.all_secrets
    vulnerabilities = []
    for finding in report.findings:
        row = public_dict(finding, redact_secrets=redact, all_secrets=secrets)
        rule = rules_by_id.get(finding.rule_id)
        vulnerabilities.append(vulnerability(row, references=rule.references if rule else ()))
    document = {
        "version": SCHEMA_VERSION,
        "scan": {
            "analyzer": TOOL,
            "scanner": {**TOOL, "url": "https://pypi.org/project/keysweep/"},
            "type": "secret_detection",
            "start_time": timestamp(start),
            "end_time": timestamp(end),
            "status": "success",
        },
        "vulnerabilities": vulnerabilities,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def vulnerability(row: dict[str, Any], *, references: tuple[str, ...] = ()) -> dict[str, Any]:
    import uuid  # not at import time: pre-commit imports every reporter, and uuid costs a few ms

    commit: dict[str, Any] = {"sha": row["commit"] or NO_COMMIT}
    if row.get("author"):
        commit["author"] = f"{row['author']} <{row.get('email', '')}>"
    if row.get("date"):
        commit["date"] = str(row["date"])
    if row.get("message"):
        commit["message"] = str(row["message"])
    docs = [url for url in references if urlsplit(url).scheme in ("http", "https")]
    entry: dict[str, Any] = {
        # The same key at two places is two vulnerabilities; the same place next run is the same id.
        "id": str(uuid.uuid5(uuid.UUID(ID_NAMESPACE), f"{row['fingerprint']}|{row['path']}|{row['line']}|{row['commit'] or ''}")),
        "name": row["rule_name"][:255],
        "description": description(row),
        "severity": SEVERITY.get(row["severity"], "Unknown"),
        "solution": ("Rotate the key at the provider" + (f" ({docs[0]})" if docs else "") + ", then remove it from "
                     "the code and load it from the environment or a secret store. If it is a deliberate test value, "
                     f"accept it with this line in .keysweepignore: {row['fingerprint']}"),
        "raw_source_code_extract": row["secret"],
        "identifiers": [
            {"type": "keysweep_rule_id", "name": f"keysweep rule {row['rule_id']}", "value": row["rule_id"],
             **({"url": docs[0]} if docs else {})},
            {"type": "keysweep_fingerprint", "name": "keysweep fingerprint", "value": row["fingerprint"]},
        ],
        "location": {"file": row["path"], "start_line": row["line"], "end_line": row["end_line"], "commit": commit},
    }
    if docs:
        entry["links"] = [{"name": "Rotation docs", "url": url} for url in docs]
    return entry


def description(row: dict[str, Any]) -> str:
    text = f"{row['description']} Secret: {row['secret']} (confidence {row['confidence']})."
    if "in_head" in row:
        text += " Still in HEAD." if row["in_head"] else " Only in history: deleted from HEAD, still in every clone."
    if row.get("overdue"):
        text += f" First committed {row.get('age_days')} days ago: overdue for rotation."
    locations = row.get("locations") or []
    if len(locations) > 1:
        text += f" Added in {len(locations)} places."
    if isinstance(row.get("verification"), dict):
        text += f" Verified: {row['verification'].get('status')}."
    return text


def timestamp(when: datetime) -> str:
    """The schema's format: no fractional seconds, no zone (UTC)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S")
