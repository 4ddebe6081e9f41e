"""The one place that writes reports: redaction, private file permissions, colour."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from scanner.errors import UsageError
from scanner.finding import Finding

ELLIPSIS = "…"


def redact(secret: str) -> str:
    """A short prefix plus an ellipsis: enough to recognise the key, never enough to use it."""
    keep = min(6, len(secret) // 4)
    return secret[:keep] + ELLIPSIS


def mask_others(text: str, secrets: Iterable[str]) -> str:
    """Redact every given secret in text, in the forms text may hold it: as is, percent-encoded,
    JSON-escaped (a log line, a HAR URL or a commit message quoting a key)."""
    for secret in secrets:
        if not secret:
            continue
        for form in encoded_forms(secret):
            if form in text:
                text = text.replace(form, redact(secret))
    return text


@functools.lru_cache(maxsize=4096)
def encoded_forms(secret: str) -> tuple[str, ...]:
    forms = [secret, quote(secret, safe=""), quote(secret, safe="/:@"), quote_plus(secret),
             json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1]]
    return tuple(sorted(set(forms), key=len, reverse=True))


def public_dict(finding: Finding, *, redact_secrets: bool, all_secrets: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON contract for one finding (see README: JSON report)."""
    secret = redact(finding.secret) if redact_secrets else finding.secret
    before, after = finding.context_before, finding.context_after
    if redact_secrets:
        others = (*finding.nearby_secrets, *all_secrets)
        before, after = mask_others(before, others), mask_others(after, others)
    record: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "description": finding.description,
        "provider": finding.provider,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "secret": secret,
        "secret_sha256": finding.digest,  # keyed when KEYSWEEP_FINGERPRINT_KEY is set
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
            value = mask_others(value, (finding.secret, *finding.nearby_secrets, *all_secrets))
        record.setdefault(key, value)
    return record


# C0 and C1 controls, DEL, and the bidirectional overrides that make text read differently than it is
# stored (CVE-2021-42574): a file name or log line must not drive the terminal or fake a report line.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from scanned content made safe for a terminal: controls shown as escapes (`\\x1b`, `\\n`)."""
    if not UNPRINTABLE.search(text):
        return text
    return UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def write_report(text: str, output: Path | None) -> None:
    """stdout, or a file written privately (0600) and atomically: a temporary file beside it, renamed
    over it, so a crash never leaves half a report and a symlink at the report's path (one committed in
    the scanned repository, say) is never followed. Special files such as /dev/null, and links to
    them such as /dev/stdout, are written into, never replaced."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        existing = os.lstat(output)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise UsageError(f"{output}: cannot write report: {exc.strerror}") from None
    try:
        if existing is not None and stat.S_ISLNK(existing.st_mode):
            _write_through_link(text, output)
        elif existing is not None and not stat.S_ISREG(existing.st_mode):
            _write_special(text, output)
        else:
            _write_atomically(text, Path(output))
    except OSError as exc:
        raise UsageError(f"{output}: cannot write report: {exc.strerror}") from None


def _write_through_link(text: str, output: Path) -> None:
    """A link to a device or pipe (/dev/stdout) is written into; a link to a file, or a dangling one,
    is refused: following it would let whoever placed it choose which file gets overwritten."""
    try:
        target = os.stat(output)
    except FileNotFoundError:
        target = None
    if target is None or stat.S_ISREG(target.st_mode) or stat.S_ISDIR(target.st_mode):
        raise UsageError(f"{output}: is a symbolic link; refusing to write a report through it "
                         "(remove it or choose another path)")
    _write_special(text, output)


def _write_special(text: str, output: Path) -> None:
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)


def _write_atomically(text: str, output: Path) -> None:
    import tempfile

    directory = output.parent if str(output.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=directory)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
