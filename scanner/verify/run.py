"""Check found keys against their providers: one request per unique key, a global rate and
concurrency limit, a timeout per request, and a shared pause when a provider answers 429.

    [verify]
    rate_limit = 2.0        # requests per second, across all providers
    concurrency = 4         # requests in flight
    timeout = 10.0          # seconds per request
    max_retry_after = 5.0   # on 429, wait up to this long (Retry-After) and ask again, twice at most
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scanner.errors import ConfigError
from scanner.finding import Finding
from scanner.revoke.delivery import failure, retry_after
from scanner.revoke.transport import request
from scanner.rules import Rule
from scanner.verify.status import RATE_LIMITED, UNKNOWN, Verification, status_for
from scanner.verify.target import Refused, destination, endpoint

RETRIES_ON_429 = 2
SENDABLE = re.compile(r"[\x21-\x7e]{1,8192}")  # printable ASCII, no spaces: what a header or URL can carry
DEFAULT_WAIT_ON_429 = 1.0  # when a 429 carries no Retry-After


@dataclass(frozen=True)
class VerifySettings:
    rate_limit: float = 2.0
    concurrency: int = 4
    timeout: float = 10.0
    max_retry_after: float = 5.0


@dataclass(frozen=True)
class VerifyPlan:
    settings: VerifySettings = field(default_factory=VerifySettings)
    overrides: dict[str, str] = field(default_factory=dict)
    allow_private: bool = False


def parse_verify(raw: Any, *, source: str) -> VerifySettings:
    where = f"{source}: [verify]"
    if raw is None:
        return VerifySettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    defaults = VerifySettings()
    unknown = set(raw) - set(defaults.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}; "
                          f"expected {', '.join(defaults.__dataclass_fields__)} (host overrides are --verify-host only)")
    return VerifySettings(
        rate_limit=_positive(raw, "rate_limit", defaults.rate_limit, where),
        concurrency=int(_positive(raw, "concurrency", defaults.concurrency, where)),
        timeout=_positive(raw, "timeout", defaults.timeout, where),
        max_retry_after=_positive(raw, "max_retry_after", defaults.max_retry_after, where, zero_ok=True),
    )


def _positive(raw: dict[str, Any], name: str, default: float, where: str, *, zero_ok: bool = False) -> float:
    value = raw.get(name, default)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or value < 0 or (value == 0 and not zero_ok):
        raise ConfigError(f"{where}: {name} must be a positive number, got {value!r}")
    return float(value)


class RateLimiter:
    """Spaces request starts 1/rate apart across threads; `hold` pauses everyone (a 429's Retry-After)."""

    def __init__(self, rate: float, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def verify_findings(findings: list[Finding], *, rules_by_id: dict[str, Rule], plan: VerifyPlan) -> list[Finding]:
    """The findings with `extra["verification"]` set where their rule can be checked."""
    jobs: dict[tuple[str, str], Rule] = {}
    for finding in findings:
        rule = rules_by_id.get(finding.rule_id)
        if rule is not None and rule.verify:
            jobs.setdefault((finding.rule_id, finding.secret), rule)
    if not jobs:
        return findings
    limiter = RateLimiter(plan.settings.rate_limit)
    with ThreadPoolExecutor(max_workers=min(plan.settings.concurrency, len(jobs))) as pool:
        futures = {key: pool.submit(check_key, rule, key[1], plan=plan, limiter=limiter) for key, rule in jobs.items()}
        results = {key: future.result() for key, future in futures.items()}
    return [
        f.replace(extra={**f.extra, "verification": results[(f.rule_id, f.secret)].as_dict()})
        if (f.rule_id, f.secret) in results else f
        for f in findings
    ]


def check_key(rule: Rule, secret: str, *, plan: VerifyPlan, limiter: RateLimiter) -> Verification:
    assert rule.verify is not None
    spec = rule.verify
    url, explicit = endpoint(rule, spec.url, plan.overrides)
    parts = urlsplit(url)
    shown = f"{spec.method} {parts.hostname}{parts.path}"  # never the query: it may hold the key
    try:
        address = destination(url, explicit=explicit, allow_private=plan.allow_private)
    except Refused as exc:
        return Verification(UNKNOWN, None, f"{shown}: {exc}")
    if not SENDABLE.fullmatch(secret):
        return Verification(UNKNOWN, None, f"{shown}: not checked (the key holds characters a request cannot carry)")
    target, headers = spec.request(url, secret)
    for attempt in range(RETRIES_ON_429 + 1):
        limiter.wait()
        try:
            answer = request(spec.method, target, headers=headers, timeout=plan.settings.timeout, connect_ip=address)
        except (OSError, http.client.HTTPException) as exc:
            return Verification(UNKNOWN, None, f"{shown}: {failure(exc, plan.settings.timeout)}")
        except ValueError:  # http.client quotes the offending header value, i.e. the key: never shown
            return Verification(UNKNOWN, None, f"{shown}: the request could not be sent")
        status = status_for(answer.status)
        if status != RATE_LIMITED:
            return Verification(status, answer.status, f"{shown}: HTTP {answer.status}")
        wait = retry_after(answer.headers.get("retry-after"))
        wait = DEFAULT_WAIT_ON_429 if wait is None else wait
        if attempt == RETRIES_ON_429 or wait > plan.settings.max_retry_after:
            break
        limiter.hold(wait)
    return Verification(RATE_LIMITED, 429, f"{shown}: HTTP 429; try again later")
