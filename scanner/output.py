"""The one place that writes reports: redaction, private file permissions, colour."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.finding import Finding

ELLIPSIS = "…"


def redact(secret: str) -> str:
    """A short prefix plus an ellipsis: enough to recognise the key, never enough to use it."""
    keep = min(6, len(secret) // 4)
    return secret[:keep] + ELLIPSIS


def mask_others(text: str, secrets: frozenset[str]) -> str:
    """Redact any other reported secret that shares a line with this one."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, redact(secret))
    return text


def public_dict(finding: Finding, *, redact_secrets: bool, all_secrets: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON contract for one finding (see README: JSON report)."""
    secret = redact(finding.secret) if redact_secrets else finding.secret
    before, after = finding.context_before, finding.context_after
    if redact_secrets:
        before, after = mask_others(before, all_secrets), mask_others(after, all_secrets)
    record: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "description": finding.description,
        "provider": finding.provider,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "secret": secret,
        "secret_sha256": finding.secret_sha256,
        "fingerprint": finding.fingerprint,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "source": finding.source,
        "commit": finding.commit,
        "snippet": f"{before}{secret}{after}",
        "tags": list(finding.tags),
    }
    if finding.suppressed is not None:
        record["suppressed"] = finding.suppressed
    for key, value in finding.extra.items():
        if redact_secrets and isinstance(value, str):  # a commit message or log line may quote the key
            value = mask_others(value, all_secrets | {finding.secret})
        record.setdefault(key, value)
    return record


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def write_report(text: str, output: Path | None) -> None:
    """stdout, or a file created private (0600); special files such as /dev/null are written into, never replaced."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        existing = os.stat(output)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise UsageError(f"{output}: cannot write report: {exc.strerror}") from None
    try:
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            return
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing report may have been world-readable
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write report: {exc.strerror}") from None
