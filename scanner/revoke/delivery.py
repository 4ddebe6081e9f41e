"""Send what the outbox holds, and decide what each answer means.

    2xx                   delivered: the receiver's answer is kept as the receipt
    410                   gone: the endpoint says it no longer exists; stop sending to it
    3xx                   failed: redirects are not followed (a signed key must not wander)
    408, 429, 5xx, no answer (timeout, refused, TLS)
                          retried with exponential backoff and jitter, or after Retry-After;
                          still failing after max_attempts: left pending for `revoke retry`
    other 4xx             failed: the receiver rejected it; retrying would not help

Every attempt carries the same webhook-id, so a receiver that dedupes on it acts once even when
an answer was lost and we sent again.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from scanner.errors import ConfigError
from scanner.revoke.config import RevokeSettings, signing_key
from scanner.revoke.outbox import Outbox, Row
from scanner.revoke.signing import signature_headers
from scanner.revoke.transport import Response, display_url, request

LEASE_MARGIN_S = 60.0
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Verdict:
    state: str  # delivered, failed, gone, or retry
    http_status: int | None = None
    detail: str = ""
    response: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Outcome:
    webhook_id: str
    webhook: str
    state: str  # delivered, failed, gone, or pending (to be retried later)
    attempts: int  # made in this run
    http_status: int | None = None
    detail: str = ""


def classify(response: Response) -> Verdict:
    status = response.status
    text = response.body.decode("utf-8", "replace")
    if 200 <= status < 300:
        return Verdict("delivered", status, f"HTTP {status}", response=text)
    if status == 410:
        return Verdict("gone", status, "HTTP 410 Gone: the endpoint no longer exists; fix the webhook url")
    if 300 <= status < 400:
        target = response.headers.get("location", "?")
        return Verdict("failed", status, f"HTTP {status} redirect to {display_url(target)} not followed; point url at the final address")
    if status in (408, 429) or status >= 500:
        return Verdict("retry", status, f"HTTP {status}", retry_after=retry_after(response.headers.get("retry-after")))
    return Verdict("failed", status, f"HTTP {status}: {one_line(text)}".rstrip(": "))


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent or unreadable.

    Only ASCII digits count (`str.isdigit` accepts `²` and `١٢`, which float() then refuses), and a
    value no clock could mean is unreadable too."""
    if not value:
        return None
    value = value.strip()
    if DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


DELTA_SECONDS = re.compile(r"[0-9]{1,12}")


def backoff(attempt: int, *, base: float, cap: float, rng: Callable[[], float] = random.random) -> float:
    """Exponential with 'equal jitter': half the step fixed, half random, so senders spread out."""
    step = min(cap, base * 2.0 ** (attempt - 1))
    return step / 2 + rng() * step / 2


def failure(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"


def one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def deliver_pending(
    outbox: Outbox, *, settings: RevokeSettings, environ: Mapping[str, str] | None = None,
    include_failed: bool = False, ids: Iterable[str] | None = None, echo: Echo = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send every claimable request, oldest first. An endpoint that is gone or keeps failing is not
    tried again in this run: its other requests stay pending."""
    outcomes = []
    stopped: dict[str, str] = {}  # url -> why
    for row in outbox.claim(include_failed=include_failed, ids=ids):
        if row.url in stopped:
            outbox.settle(row.webhook_id, "pending", error=f"not sent: {stopped[row.url]}")
            outcomes.append(Outcome(row.webhook_id, row.webhook, "pending", 0, detail=stopped[row.url]))
            continue
        try:
            key = signing_key(row.secret_env, environ, where=f"revoke webhook {row.webhook!r}")
        except ConfigError as exc:
            outbox.settle(row.webhook_id, "pending", error=str(exc))
            outcomes.append(Outcome(row.webhook_id, row.webhook, "pending", 0, detail=str(exc)))
            continue
        outcome = send(outbox, row, key=key, settings=settings, echo=echo, sleep=sleep)
        outcomes.append(outcome)
        if outcome.state in ("gone", "pending"):
            stopped[row.url] = f"endpoint {display_url(row.webhook)!r} {'is gone' if outcome.state == 'gone' else 'is failing'} " \
                               f"({outcome.detail})"
    return outcomes


def send(outbox: Outbox, row: Row, *, key: bytes, settings: RevokeSettings, echo: Echo,
         sleep: Callable[[float], None]) -> Outcome:
    """One logical delivery: up to max_attempts tries of the same webhook-id and body."""
    verdict = Verdict("retry")
    attempt = 0
    for attempt in range(1, settings.max_attempts + 1):
        outbox.attempt(row.webhook_id, lease=row.timeout + LEASE_MARGIN_S)
        headers = {"Content-Type": "application/json", **signature_headers(key, row.webhook_id, row.body)}
        try:
            verdict = classify(request("POST", row.url, headers=headers, body=row.body, timeout=row.timeout))
        except (OSError, http.client.HTTPException) as exc:
            verdict = Verdict("retry", None, failure(exc, row.timeout))
        if verdict.state != "retry":
            outbox.settle(row.webhook_id, verdict.state, http_status=verdict.http_status,
                          error=None if verdict.state == "delivered" else verdict.detail, response=verdict.response)
            return Outcome(row.webhook_id, row.webhook, verdict.state, attempt, verdict.http_status, verdict.detail)
        if attempt == settings.max_attempts:
            break
        delay = verdict.retry_after
        if delay is None:
            delay = backoff(attempt, base=settings.backoff_base, cap=settings.backoff_max)
        elif delay > settings.max_retry_after:
            detail = f"{verdict.detail}, Retry-After {delay:g} s is beyond max_retry_after; left pending"
            outbox.settle(row.webhook_id, "pending", http_status=verdict.http_status, error=detail)
            return Outcome(row.webhook_id, row.webhook, "pending", attempt, verdict.http_status, detail)
        echo(f"{row.webhook} {row.webhook_id}: {verdict.detail}; retrying in {delay:.1f} s "
             f"(attempt {attempt}/{settings.max_attempts})")
        outbox.extend(row.webhook_id, lease=delay + row.timeout + LEASE_MARGIN_S)
        sleep(delay)
    detail = f"{verdict.detail}; left pending for `keysweep revoke retry`"
    outbox.settle(row.webhook_id, "pending", http_status=verdict.http_status, error=detail)
    return Outcome(row.webhook_id, row.webhook, "pending", attempt, verdict.http_status, detail)
