"""Human-readable report: one block per finding, a summary line, colour only on a terminal."""

from __future__ import annotations

from collections import Counter
from typing import Any

from scanner.output import printable, public_dict
from scanner.report import SEVERITY_ORDER, Report

COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"


def render(report: Report, *, redact: bool, color: bool = False) -> str:
    paint = (lambda code, s: f"{code}{s}{RESET}") if color else (lambda code, s: s)
    secrets = report.all_secrets
    blocks = []
    repository = None  # `keysweep fleet`: findings come grouped by repository, each group under its name
    for finding in report.findings + report.suppressed:
        row = safe_row(public_dict(finding, redact_secrets=redact, all_secrets=secrets))
        if "repository" in row and row["repository"] != repository:
            repository = row["repository"]
            blocks.append(paint(BOLD, f"== {repository} =="))
        where = f"{row['path']}:{row['line']}:{row['column']}"
        if row["commit"]:
            where += f" @ {row['commit'][:12]}"
        lines = [
            f"{paint(BOLD, where)}  {row['rule_id']}  "
            f"{paint(COLORS.get(row['severity'], ''), row['severity'])}/{row['confidence']}",
            f"  {row['description']}",
            f"  secret: {row['secret']}   fingerprint: {row['fingerprint']}",
            f"  {paint(DIM, '> ' + row['snippet'][:200])}",
        ]
        if "suppressed" in row:
            lines.insert(1, f"  suppressed: {row['suppressed']}")
        if row.get("author"):  # git history: who introduced it, whether it is still there
            lines.insert(-1, "  " + provenance(row))
        if isinstance(row.get("verification"), dict):  # --verify
            check = row["verification"]
            detail = f" ({printable(str(check['detail']))})" if check.get("detail") else ""
            lines.insert(-1, f"  verified: {printable(str(check['status']))}{detail}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n\n" if blocks else "") + summary(report) + "\n"


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every string from scanned content (paths, snippets, authors, commit messages) without controls:
    an escape sequence in a file name must not reach the terminal, a newline must not fake a finding."""
    return {key: printable(value) if isinstance(value, str) else value for key, value in row.items()}


def provenance(row: dict[str, Any]) -> str:
    text = f"introduced by {row['author']} <{row.get('email', '')}> on {str(row.get('date', ''))[:10]}"
    if row.get("message"):
        text += f": {row['message'][:60]}"
    if "in_head" in row:
        text += "; still in HEAD" if row["in_head"] else "; no longer in HEAD (still in history)"
    if row.get("overdue"):
        text += f"; {row.get('age_days')} days old, overdue for rotation"
    locations = row.get("locations") or []
    if len(locations) > 1:
        text += f"; {len(locations)} locations"
    return text


def summary(report: Report) -> str:
    stats = report.stats
    count = len(report.findings)
    by_severity = Counter(f.severity for f in report.findings)
    detail = ", ".join(f"{by_severity[s]} {s}" for s in sorted(by_severity, key=SEVERITY_ORDER.__getitem__))
    text = f"{count} finding{'s' if count != 1 else ''}" + (f" ({detail})" if detail else "")
    text += f" in {stats.files_scanned} file{'s' if stats.files_scanned != 1 else ''}"
    text += f", {human_bytes(stats.bytes_scanned)}, {report.duration_s:.2f} s"
    if report.suppressed:
        text += f"; {len(report.suppressed)} suppressed"
    if stats.skipped:
        text += "; skipped " + ", ".join(f"{n} {reason}" for reason, n in sorted(stats.skipped.items()))
    if "repositories" in report.extra_stats:  # keysweep fleet
        extra = report.extra_stats
        text += (f"; {extra['repositories']} repositories: {extra['repositories_scanned']} scanned, "
                 f"{extra['repositories_unchanged']} unchanged, {extra['repositories_failed']} failed, "
                 f"{extra['commits_scanned']} new commits")
    return text


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
