"""SARIF 2.1.0 for code-scanning dashboards; partialFingerprints carry our stable fingerprint."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from scanner import __version__
from scanner.globs import without_dot_slash
from scanner.output import public_dict
from scanner.report import Report
from scanner.rules import Rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads a 0-10 score from rule properties to rank security alerts.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def render(report: Report, *, redact: bool, color: bool = False) -> str:
    rules_by_id = report.rules_by_id
    fired = sorted({f.rule_id for f in report.findings})
    index = {rule_id: i for i, rule_id in enumerate(fired)}
    secrets = report.all_secrets
    results = []
    for finding in report.findings:
        row = public_dict(finding, redact_secrets=redact, all_secrets=secrets)
        results.append(result(row, index[finding.rule_id]))
    run = {
        "tool": {
            "driver": {
                "name": "keysweep",
                "version": __version__,
                "informationUri": "https://pypi.org/project/keysweep/",
                "rules": [descriptor(rules_by_id[r]) if r in rules_by_id else {"id": r} for r in fired],
            }
        },
        "results": results,
    }
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def descriptor(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace("-", ".").replace("_", ".").split(".")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.description},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", "secret", *rule.tags],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": {"high": "high", "medium": "medium", "low": "low"}[rule.confidence],
        },
    }
    if rule.references:
        entry["helpUri"] = rule.references[0]
    return entry


def result(row: dict[str, Any], rule_index: int) -> dict[str, Any]:
    region = {
        "startLine": row["line"],
        "startColumn": row["column"],
        "endLine": row["end_line"],
        "endColumn": row["end_column"],
        "snippet": {"text": row["snippet"]},
    }
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": artifact_uri(row["path"])}, "region": region}
    }
    entry: dict[str, Any] = {
        "ruleId": row["rule_id"],
        "ruleIndex": rule_index,
        "level": LEVELS.get(row["severity"], "warning"),
        "message": {"text": f"{row['description']} ({row['rule_id']}): {row['secret']}"},
        "locations": [location],
        "partialFingerprints": {"keysweep/v1": row["fingerprint"]},
        "properties": {"severity": row["severity"], "confidence": row["confidence"], "source": row["source"]},
    }
    if row.get("commit"):
        entry["properties"]["commit"] = row["commit"]
    if row.get("repository"):  # keysweep fleet
        entry["properties"]["repository"] = row["repository"]
    if isinstance(row.get("verification"), dict):  # --verify: live, invalid, valid-no-permission, …
        entry["properties"]["verification"] = row["verification"]["status"]
    return entry


def artifact_uri(path: str) -> str:
    path = without_dot_slash(path.replace("\\", "/"))
    return quote(path, safe="/:@!$&'()*+,;=-._~")
