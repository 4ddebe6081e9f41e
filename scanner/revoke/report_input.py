"""Findings read back from a JSON (or JSON lines) report, for `keysweep revoke --from-report`.

Only a report made with `--no-redact` will do: a redacted key cannot be revoked, and each
record's `secret_sha256` tells a redacted secret from a real one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.finding import Finding

FIELDS = {f for f in Finding.__dataclass_fields__ if f not in ("extra", "context_before", "context_after", "suppressed")}
DERIVED = {"secret_sha256", "fingerprint", "snippet", "suppressed"}


def findings_from_report(path: Path) -> list[Finding]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read report: {exc}") from None
    records = _records(text, path)
    return [_finding(record, f"{path}: finding #{n}") for n, record in enumerate(records, 1)
            if "suppressed" not in record]


def _records(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = {"findings": [json.loads(line) for line in text.splitlines() if line.strip()]}
        except ValueError:
            raise UsageError(f"{path}: not a keysweep JSON or JSON lines report") from None
    records = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UsageError(f"{path}: not a keysweep JSON report (expected a 'findings' list; use --format json)")
    return records


def _finding(record: dict[str, Any], where: str) -> Finding:
    required = ("rule_id", "secret", "secret_sha256", "path", "line")
    missing = [name for name in required if name not in record]
    if missing:
        raise UsageError(f"{where}: missing {', '.join(missing)}; is this a keysweep JSON report?")
    secret = record["secret"]
    if hashlib.sha256(str(secret).encode("utf-8", "surrogatepass")).hexdigest() != record["secret_sha256"]:
        raise UsageError(f"{where}: the secret is redacted; make the report with --no-redact")
    known = {k: v for k, v in record.items() if k in FIELDS}
    return Finding(
        rule_id=record["rule_id"],
        rule_name=record.get("rule_name", record["rule_id"]),
        description=record.get("description", ""),
        severity=record.get("severity", "high"),
        confidence=record.get("confidence", "high"),
        provider=record.get("provider", record["rule_id"].split(".")[0]),
        secret=secret,
        path=record["path"],
        line=int(record["line"]),
        column=int(known.get("column", 1)),
        end_line=int(known.get("end_line", record["line"])),
        end_column=int(known.get("end_column", 1)),
        source=record.get("source", "file"),
        commit=record.get("commit"),
        tags=tuple(record.get("tags", ())),
        extra={k: v for k, v in record.items() if k not in FIELDS and k not in DERIVED},
    )
