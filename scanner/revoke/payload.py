"""Which findings a webhook takes, and the body it receives: one entry per key, with every place
it was found. The body is built once and stored; retries send the same bytes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scanner import __version__
from scanner.finding import Finding
from scanner.output import redact
from scanner.revoke.config import CONFIDENCES, Webhook
from scanner.verify.status import VALID, verification_of

EVENT_TYPE = "secret.exposed"
ACTION = "revoke"


@dataclass(frozen=True)
class KeyRef:
    """A key an event covers, as the outbox remembers it: never the key itself."""

    secret_sha256: str
    fingerprint: str
    label: str  # rule id and a redacted prefix, for `revoke status`


@dataclass(frozen=True)
class Event:
    webhook_id: str  # also the body's event_id: the receiver's idempotency key
    body: bytes
    keys: tuple[KeyRef, ...]


def takes(webhook: Webhook, finding: Finding) -> bool:
    """Every filter the webhook sets must hold; an unset filter takes everything."""
    return (
        (not webhook.rules or finding.rule_id in webhook.rules)
        and (not webhook.providers or finding.provider in webhook.providers)
        and (not webhook.tags or bool(set(webhook.tags) & set(finding.tags)))
        and (not webhook.sources or finding.source in webhook.sources)
        and CONFIDENCES.index(finding.confidence) >= CONFIDENCES.index(webhook.min_confidence)
        and (not webhook.only_verified or verification_of(finding.extra) in VALID)
    )


def build_events(
    webhook: Webhook, findings: Iterable[Finding], *, repository: str | None = None, now: float | None = None
) -> list[Event]:
    """Findings grouped by key, then cut into batches of `batch_size` keys: one event per batch."""
    by_key: dict[str, list[Finding]] = {}
    for finding in findings:
        by_key.setdefault(finding.fingerprint, []).append(finding)
    groups = list(by_key.values())
    occurred = iso_time(time.time() if now is None else now)
    events = []
    for start in range(0, len(groups), webhook.batch_size):
        batch = groups[start : start + webhook.batch_size]
        webhook_id = f"msg_{uuid.uuid4().hex}"
        document = {
            "type": EVENT_TYPE,
            "event_id": webhook_id,
            "occurred_at": occurred,
            "requested_action": ACTION,
            "scanner": {"name": "keysweep", "version": __version__},
            "findings": [key_entry(group, include_secret=webhook.include_secret, repository=repository)
                         for group in batch],
        }
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        keys = tuple(KeyRef(g[0].secret_sha256, g[0].fingerprint, f"{g[0].rule_id} {redact(g[0].secret)}") for g in batch)
        events.append(Event(webhook_id, body, keys))
    return events


def key_entry(group: list[Finding], *, include_secret: bool, repository: str | None) -> dict[str, Any]:
    first = group[0]
    entry: dict[str, Any] = {"rule_id": first.rule_id, "provider": first.provider, "fingerprint": first.fingerprint}
    if include_secret:
        entry["secret"] = first.secret
    else:
        entry.update(secret_sha256=first.secret_sha256, **hint(first.secret))
    validation = first.extra.get("verification")
    if isinstance(validation, dict):
        entry["validation"] = validation
    entry["locations"] = unique([loc for f in group for loc in locations(f, repository)])
    return entry


def hint(secret: str) -> dict[str, str]:
    """Enough to recognise a key by eye, never enough to use it: the redacted prefix and, for long keys, the last 4."""
    prefix = redact(secret).removesuffix("…")
    return {"secret_prefix": prefix, "secret_last4": secret[-4:] if len(secret) >= 16 else ""}


def locations(finding: Finding, repository: str | None) -> list[dict[str, Any]]:
    """Where the key was found; a history finding also lists every other commit that added it."""
    extra = finding.extra
    repo = extra.get("repository") or (repository if finding.source == "git" else None)
    main: dict[str, Any] = {"source": finding.source, "path": finding.path, "line": finding.line}
    optional = {
        "repository": public_remote(repo) if isinstance(repo, str) else None,
        "commit": finding.commit,
        "author": extra.get("author"),
        "author_email": extra.get("email"),
        "first_seen": extra.get("first_seen"),
    }
    main.update({k: v for k, v in optional.items() if v})
    others = [
        {"source": finding.source, "path": loc.get("path"), "line": loc.get("line"), "commit": loc.get("commit"),
         **({"repository": main["repository"]} if "repository" in main else {})}
        for loc in extra.get("locations", []) if isinstance(loc, dict)
    ]
    return [main, *[o for o in others if (o["path"], o["line"], o["commit"]) != (main["path"], main["line"], finding.commit)]]


def unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    kept = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def public_remote(url: str) -> str:
    """A remote URL without credentials: `https://user:token@host/repo` is itself a leak."""
    parts = urlsplit(url)
    if parts.scheme and parts.hostname and (parts.username or parts.password):
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def redacted_body(body: bytes) -> dict[str, Any]:
    """A stored body as `revoke status` and `--dry-run` show it: any raw key cut to its prefix."""
    document: dict[str, Any] = json.loads(body)
    for entry in document.get("findings", []):
        if "secret" in entry:
            entry["secret"] = redact(entry["secret"])
    return document


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
