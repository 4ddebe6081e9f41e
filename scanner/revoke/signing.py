"""Standard Webhooks signatures (https://www.standardwebhooks.com/, spec v1).

The sender signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256; the key is the
base64 part of a `whsec_…` secret. `webhook-signature` carries `v1,<base64>` entries separated
by spaces (several during a secret rotation). The receiver rejects timestamps too far from its
clock, which stops replays of captured deliveries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300  # the spec's recommendation: five minutes
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # seconds since the epoch, ASCII digits only


class WebhookVerificationError(Exception):
    """A delivery that must not be trusted; the receiver should answer 400 or 401."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key in a `whsec_<base64>` secret (the prefix is optional, as in the reference libraries)."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a signing secret must be 'whsec_' followed by base64 (Standard Webhooks)") from None
    if len(key) < 16:
        raise ValueError("a signing secret must hold at least 16 bytes (24 base64 characters after 'whsec_')")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signature_headers(key: bytes, webhook_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The three headers for one attempt: the id stays, the timestamp and signature are fresh."""
    timestamp = int(time.time() if now is None else now)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, webhook_id, timestamp, body),
    }


def verify_signature(
    headers: Mapping[str, str], body: bytes, secret: str, tolerance: float = DEFAULT_TOLERANCE_S
) -> dict[str, Any]:
    """Check a delivery in one call and return its parsed JSON body; raise WebhookVerificationError if
    a header is missing, the timestamp is outside `tolerance` seconds, or no signature matches.

    `headers` may be any mapping (http.server's message, a framework's headers, a plain dict);
    `body` must be the raw bytes as received, before any JSON parsing.
    """
    try:
        lowered = {str(k).lower(): v for k, v in headers.items()}
    except (AttributeError, TypeError):
        raise WebhookVerificationError("headers must be a mapping of names to values") from None
    try:
        webhook_id = lowered["webhook-id"]
        timestamp_text = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    if not all(isinstance(v, str) for v in (webhook_id, timestamp_text, signatures)) or not isinstance(body, bytes):
        raise WebhookVerificationError("header values must be text and the body bytes")
    try:
        key = decode_secret(secret)
    except (ValueError, TypeError, AttributeError) as exc:
        raise WebhookVerificationError(str(exc) if "secret" in str(exc) else "invalid signing secret") from None
    if not TIMESTAMP.fullmatch(timestamp_text.strip()):
        raise WebhookVerificationError("invalid webhook-timestamp")
    timestamp = int(timestamp_text.strip())
    if abs(time.time() - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance (replayed or clock skew)")
    expected = sign(key, webhook_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures.split()):
        raise WebhookVerificationError("no matching signature")
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("body is not a JSON object")
    return payload
