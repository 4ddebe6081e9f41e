"""The `[revoke]` table: webhooks and delivery settings, checked before any scanning.

    [revoke]
    max_attempts = 5            # per run; a request still failing stays pending for `revoke retry`
    backoff_base = 1.0          # seconds; doubled each attempt, with jitter, up to backoff_max
    backoff_max = 60.0
    max_retry_after = 120.0     # a longer Retry-After leaves the request pending instead of waiting

    [[revoke.webhooks]]
    name = "rotation"           # identity in the outbox (default: the URL)
    url = "https://rotate.example.com/keysweep"
    secret_env = "KEYSWEEP_WEBHOOK_SECRET"   # the variable holding the whsec_… signing secret
    rules = ["stripe.secret-key"]            # which findings it takes; each filter is optional
    providers = ["stripe"]
    tags = ["payments"]
    min_confidence = "medium"
    sources = ["git", "file"]
    only_verified = false       # true: only keys that --verify found valid
    include_secret = false      # false: the payload carries the key's sha256, prefix and last 4
    batch_size = 50             # keys per request
    timeout = 10.0              # seconds per attempt
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scanner.errors import ConfigError
from scanner.revoke.signing import decode_secret
from scanner.revoke.transport import url_problem

CONFIDENCES = ("low", "medium", "high")
SETTINGS_KEYS = {"webhooks", "max_attempts", "backoff_base", "backoff_max", "max_retry_after"}
WEBHOOK_KEYS = {
    "name", "url", "secret_env", "rules", "providers", "tags", "min_confidence", "sources",
    "only_verified", "include_secret", "batch_size", "timeout",
}


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    secret_env: str
    rules: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_confidence: str = "low"
    sources: tuple[str, ...] = ()
    only_verified: bool = False
    include_secret: bool = False
    batch_size: int = 50
    timeout: float = 10.0


@dataclass(frozen=True)
class RevokeSettings:
    webhooks: tuple[Webhook, ...] = ()
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 120.0


def parse_revoke(raw: Any, *, source: str, known_rules: Iterable[str] | None = None) -> RevokeSettings:
    """Validate the [revoke] table; `known_rules` (when given) catches rule ids that do not exist."""
    where = f"{source}: [revoke]"
    if raw is None:
        return RevokeSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    _no_unknown(raw, SETTINGS_KEYS, where)
    entries = raw.get("webhooks", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{where}: webhooks must be an array of tables ([[revoke.webhooks]])")
    known = set(known_rules) if known_rules is not None else None
    webhooks = tuple(_webhook(e, f"{source}: revoke.webhooks[{n}]", known) for n, e in enumerate(entries))
    names = [w.name for w in webhooks]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"{where}: two webhooks are named {duplicate!r}; give each a unique name")
    return RevokeSettings(
        webhooks=webhooks,
        max_attempts=int(_number(raw, "max_attempts", 5, where, minimum=1)),
        backoff_base=_number(raw, "backoff_base", 1.0, where, minimum=0),
        backoff_max=_number(raw, "backoff_max", 60.0, where, minimum=0),
        max_retry_after=_number(raw, "max_retry_after", 120.0, where, minimum=0),
    )


def _webhook(entry: dict[str, Any], where: str, known: set[str] | None) -> Webhook:
    _no_unknown(entry, WEBHOOK_KEYS, where)
    for name in ("url", "secret_env"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise ConfigError(f"{where}: {name} is required (a non-empty string)")
    url = entry["url"]
    problem = url_problem(url)
    if problem:
        raise ConfigError(f"{where}: url: {problem}")
    where = f"{where} ({entry.get('name', url)})"
    rules = _strings(entry, "rules", where)
    unknown = [r for r in rules if known is not None and r not in known]
    if unknown:
        raise ConfigError(f"{where}: rules names unknown rule id(s): {', '.join(unknown)} (see `keysweep rules list`)")
    confidence = entry.get("min_confidence", "low")
    if confidence not in CONFIDENCES:
        raise ConfigError(f"{where}: min_confidence must be one of {', '.join(CONFIDENCES)}")
    name = entry.get("name", url)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: name must be a non-empty string")
    return Webhook(
        name=name,
        url=url,
        secret_env=entry["secret_env"],
        rules=rules,
        providers=_strings(entry, "providers", where),
        tags=_strings(entry, "tags", where),
        min_confidence=confidence,
        sources=_strings(entry, "sources", where),
        only_verified=_bool(entry, "only_verified", where),
        include_secret=_bool(entry, "include_secret", where),
        batch_size=int(_number(entry, "batch_size", 50, where, minimum=1)),
        timeout=_number(entry, "timeout", 10.0, where, minimum=0.001),
    )


def signing_key(secret_env: str, environ: Mapping[str, str] | None = None, *, where: str = "revoke") -> bytes:
    """The HMAC key from the named environment variable; never from the config file itself."""
    value = (os.environ if environ is None else environ).get(secret_env)
    if not value:
        raise ConfigError(f"{where}: environment variable {secret_env} is not set (secret_env: it must hold the "
                          "webhook's whsec_… signing secret)")
    try:
        return decode_secret(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: ${secret_env}: {exc}") from None


def signing_keys(settings: RevokeSettings, environ: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every configured webhook's key by variable name: a missing one is an error before scanning."""
    return {
        w.secret_env: signing_key(w.secret_env, environ, where=f"revoke webhook {w.name!r}") for w in settings.webhooks
    }


def _no_unknown(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}; expected {', '.join(sorted(allowed))}")


def _strings(table: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: {name} must be a list of strings")
    return tuple(value)


def _bool(table: dict[str, Any], name: str, where: str) -> bool:
    value = table.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be true or false")
    return value


def _number(table: dict[str, Any], name: str, default: float, where: str, *, minimum: float) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"{where}: {name} must be a number >= {minimum:g}, got {value!r}")
    return float(value)
