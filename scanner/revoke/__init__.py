"""Revoke webhooks: signed deliveries of exposed keys to the key owner's rotation service.

    config.py     [revoke] / [[revoke.webhooks]]: validated before any scanning
    payload.py    which findings a webhook takes, and the JSON body it receives
    signing.py    Standard Webhooks signatures, and `verify_signature` for receivers
    outbox.py     the durable SQLite outbox: every request is written before it is sent
    transport.py  one HTTP request, no redirects followed
    delivery.py   retries with backoff, Retry-After, and what each answer means
    hook.py       the step after a scan: verify, report, then queue and deliver

Receivers import only `verify_signature` from here, so this module stays light.
"""

from __future__ import annotations

from scanner.revoke.signing import WebhookVerificationError, verify_signature

__all__ = ["WebhookVerificationError", "verify_signature"]
