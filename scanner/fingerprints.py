"""How reports, baselines and ignore files name a secret without holding it: a SHA-256 of the secret,
or, when KEYSWEEP_FINGERPRINT_KEY is set, an HMAC-SHA256 keyed with it.

The plain hash is the default because baselines and ignore files are shared between teammates and
CI, which would otherwise all need the same key, and because an API key's hash cannot be reversed.
A short password's hash can be looked up in a dictionary, though: where reports leave the team
(SARIF alerts uploaded to a code-scanning service), set the key (docs/security.md).
Webhook payloads keep the plain SHA-256: receivers match it against the keys they issued.
"""

from __future__ import annotations

import hashlib
import hmac
import os

KEY_ENV = "KEYSWEEP_FINGERPRINT_KEY"


def fingerprint_key() -> bytes | None:
    value = os.environ.get(KEY_ENV)
    return value.encode("utf-8") if value else None


def secret_digest(secret: str) -> str:
    """64 hex characters naming the secret in reports, baselines and ignore files."""
    data = secret.encode("utf-8", "surrogatepass")
    key = fingerprint_key()
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()
