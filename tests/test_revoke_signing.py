"""Standard Webhooks signatures: what the sender writes, the receiver helper accepts; anything
tampered, stale, unsigned or signed with another secret it refuses."""

from __future__ import annotations

import json
import time

import pytest

from scanner.revoke import WebhookVerificationError, verify_signature
from scanner.revoke.signing import decode_secret, sign, signature_headers
from revoke_servers import new_secret

BODY = json.dumps({"type": "secret.exposed", "findings": []}).encode()


def test_signed_delivery_verifies_and_returns_the_body() -> None:
    secret = new_secret()
    headers = signature_headers(decode_secret(secret), "msg_1", BODY)
    assert headers["webhook-signature"].startswith("v1,")
    assert verify_signature(headers, BODY, secret) == {"type": "secret.exposed", "findings": []}


def test_header_names_are_case_insensitive() -> None:
    secret = new_secret()
    headers = {k.title(): v for k, v in signature_headers(decode_secret(secret), "msg_1", BODY).items()}
    assert verify_signature(headers, BODY, secret)["type"] == "secret.exposed"


def test_any_of_several_signatures_may_match() -> None:
    """During a secret rotation a sender may sign with the old and the new secret."""
    secret = new_secret()
    headers = signature_headers(decode_secret(secret), "msg_1", BODY)
    other = sign(decode_secret(new_secret()), "msg_1", int(headers["webhook-timestamp"]), BODY)
    headers["webhook-signature"] = f"{other} {headers['webhook-signature']}"
    assert verify_signature(headers, BODY, secret)


def test_the_prefix_is_optional_as_in_the_reference_libraries() -> None:
    secret = new_secret()
    headers = signature_headers(decode_secret(secret), "msg_1", BODY)
    assert verify_signature(headers, BODY, secret.removeprefix("whsec_"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, b, s: (h, b + b" ", s), "no matching signature"),
        (lambda h, b, s: (h, b, new_secret()), "no matching signature"),
        (lambda h, b, s: ({**h, "webhook-id": "msg_2"}, b, s), "no matching signature"),
        (lambda h, b, s: ({k: v for k, v in h.items() if k != "webhook-signature"}, b, s), "missing header"),
        (lambda h, b, s: ({**h, "webhook-timestamp": "soon"}, b, s), "invalid webhook-timestamp"),
        (lambda h, b, s: (h, b, "not base64!"), "whsec_"),
    ],
    ids=["tampered-body", "wrong-secret", "other-id", "unsigned", "bad-timestamp", "bad-secret"],
)
def test_untrustworthy_deliveries_are_refused(change, message) -> None:
    secret = new_secret()
    headers = signature_headers(decode_secret(secret), "msg_1", BODY)
    headers, body, secret = change(headers, BODY, secret)
    with pytest.raises(WebhookVerificationError, match=message):
        verify_signature(headers, body, secret)


def test_a_replayed_delivery_outside_the_tolerance_is_refused() -> None:
    secret = new_secret()
    headers = signature_headers(decode_secret(secret), "msg_1", BODY, now=time.time() - 600)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_signature(headers, BODY, secret, tolerance=300)
    assert verify_signature(headers, BODY, secret, tolerance=900)


def test_a_secret_too_short_to_be_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        decode_secret("whsec_c2hvcnQ=")
