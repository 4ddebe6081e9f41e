"""Delivery against a real receiver on 127.0.0.1: retries keep the webhook-id, Retry-After is
honoured, 410 stops, redirects are not followed, and the outbox records each outcome."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from revoke_servers import ReceiverServer, Step, new_secret, random_key, receiver_example

from scanner.finding import Finding
from scanner.revoke import verify_signature
from scanner.revoke.config import RevokeSettings, Webhook
from scanner.revoke.delivery import backoff, deliver_pending, retry_after
from scanner.revoke.outbox import Outbox
from scanner.revoke.payload import build_events
from scanner.revoke.signing import decode_secret, signature_headers
from scanner.revoke.transport import request

FAST = RevokeSettings(max_attempts=4, backoff_base=0.0, backoff_max=0.0, max_retry_after=5.0)
ENV = "TEST_REVOKE_SECRET"


def finding(secret: str, path: str = "app/settings.py") -> Finding:
    return Finding(rule_id="stripe.secret-key", rule_name="Stripe live secret key", description="d",
                   severity="critical", confidence="high", provider="stripe", secret=secret, path=path, line=3,
                   column=1, end_line=3, end_column=40, tags=("payments",))


def queue(outbox: Outbox, url: str, *keys: str, name: str = "rotation", timeout: float = 5.0) -> list[str]:
    webhook = Webhook(name=name, url=url, secret_env=ENV, timeout=timeout)
    events = build_events(webhook, [finding(k) for k in keys])
    for event in events:
        outbox.add(webhook, event)
    return [e.webhook_id for e in events]


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox(tmp_path / "state") as box:
        yield box


def deliver(outbox: Outbox, secret: str, settings: RevokeSettings = FAST, **kwargs):
    return deliver_pending(outbox, settings=settings, environ={ENV: secret}, **kwargs)


def test_delivery_is_signed_and_the_receipt_kept(outbox: Outbox) -> None:
    secret = new_secret()
    key = random_key("sk_live_")
    with ReceiverServer(secret) as server:
        [webhook_id] = queue(outbox, server.url + "/hook", key)
        [outcome] = deliver(outbox, secret)
    assert outcome.state == "delivered" and outcome.http_status == 200
    [request] = server.seen
    event = verify_signature(request.headers, request.body, secret)
    assert event["event_id"] == webhook_id == request.webhook_id
    assert event["type"] == "secret.exposed" and event["requested_action"] == "revoke"
    [entry] = event["findings"]
    assert key not in request.body.decode()  # include_secret is off: hash, prefix and last 4 only
    assert entry["secret_last4"] == key[-4:] and len(entry["secret_sha256"]) == 64
    [row] = outbox.rows()
    assert row.state == "delivered" and json.loads(row.response or "")["status"] == "revoked"


def test_500_then_200_is_one_logical_delivery_with_one_webhook_id(outbox: Outbox) -> None:
    secret = new_secret()
    with ReceiverServer(secret, [Step(status=500), Step(status=503)]) as server:
        [webhook_id] = queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver(outbox, secret)
    assert outcome.state == "delivered" and outcome.attempts == 3
    assert server.webhook_ids == [webhook_id] * 3
    assert len({s.body for s in server.seen}) == 1  # the very same bytes each time
    assert len(server.revoked) == 1
    assert [(r.state, r.attempts) for r in outbox.rows()] == [("delivered", 3)]


@pytest.mark.slow
def test_429_waits_for_retry_after(outbox: Outbox) -> None:
    secret = new_secret()
    with ReceiverServer(secret, [Step(status=429, headers={"Retry-After": "1"})]) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver(outbox, secret)
    assert outcome.state == "delivered"
    first, second = server.seen
    assert second.at - first.at >= 1.0  # backoff is 0 here: only Retry-After made it wait
    assert first.webhook_id == second.webhook_id


def test_a_retry_after_beyond_the_limit_leaves_the_request_pending(outbox: Outbox) -> None:
    secret = new_secret()
    with ReceiverServer(secret, [Step(status=429, headers={"Retry-After": "3600"})]) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver(outbox, secret)
        assert outcome.state == "pending" and "max_retry_after" in outcome.detail
        assert len(server.seen) == 1
        [again] = deliver(outbox, secret)  # a later `revoke retry`
    assert again.state == "delivered"


@pytest.mark.slow
def test_a_timeout_is_retried_and_acted_on_once(outbox: Outbox) -> None:
    """The first answer never arrives in time; the receiver has acted anyway; the retry carries the
    same webhook-id, so it answers with its first receipt instead of revoking again."""
    secret = new_secret()
    with ReceiverServer(secret, [Step(sleep=1.5)]) as server:
        queue(outbox, server.url, random_key("sk_live_"), timeout=0.5)
        [outcome] = deliver(outbox, secret)
        server.release.set()
    assert outcome.state == "delivered" and outcome.attempts == 2
    assert len(set(server.webhook_ids)) == 1 and len(server.seen) == 2
    assert len(server.revoked) == 1


def test_410_marks_gone_and_stops_sending_to_that_endpoint(outbox: Outbox) -> None:
    secret = new_secret()
    with ReceiverServer(secret, [Step(status=410)]) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        queue(outbox, server.url, random_key("sk_live_"))
        outcomes = deliver(outbox, secret)
    assert [o.state for o in outcomes] == ["gone", "pending"]
    assert "410" in outcomes[0].detail and "is gone" in outcomes[1].detail
    assert len(server.seen) == 1
    assert sorted(r.state for r in outbox.rows()) == ["gone", "pending"]


def test_a_redirect_is_a_failure_and_is_not_followed(outbox: Outbox) -> None:
    secret = new_secret()
    with ReceiverServer(secret) as elsewhere, \
            ReceiverServer(secret, [Step(status=307, headers={"Location": elsewhere.url})]) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver(outbox, secret)
    assert outcome.state == "failed" and "not followed" in outcome.detail
    assert elsewhere.seen == [] and len(server.seen) == 1


def test_other_4xx_is_a_permanent_failure_resent_only_on_request(outbox: Outbox) -> None:
    secret = new_secret()
    with ReceiverServer(secret, [Step(status=422)]) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver(outbox, secret)
        assert outcome.state == "failed" and outcome.attempts == 1
        assert deliver(outbox, secret) == []  # plain retry leaves failed requests alone
        [again] = deliver(outbox, secret, include_failed=True)
    assert again.state == "delivered"
    assert len(set(server.webhook_ids)) == 1


def test_a_bad_signature_is_refused_by_the_receiver(outbox: Outbox) -> None:
    with ReceiverServer(new_secret()) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver(outbox, new_secret())
    assert outcome.state == "failed" and outcome.http_status == 401
    assert server.revoked == []


def test_an_unreachable_receiver_keeps_the_request_pending(outbox: Outbox) -> None:
    with ReceiverServer(new_secret()) as server:
        url = server.url
    queue(outbox, url, random_key("sk_live_"))
    [outcome] = deliver(outbox, new_secret())
    assert outcome.state == "pending" and "refused" in outcome.detail
    [row] = outbox.rows()
    assert row.state == "pending" and row.attempts == FAST.max_attempts


def test_a_missing_secret_variable_keeps_the_request_pending(outbox: Outbox) -> None:
    with ReceiverServer(new_secret()) as server:
        queue(outbox, server.url, random_key("sk_live_"))
        [outcome] = deliver_pending(outbox, settings=FAST, environ={})
    assert outcome.state == "pending" and ENV in outcome.detail
    assert server.seen == []


def test_batches_split_keys_and_one_key_found_twice_is_one_entry() -> None:
    webhook = Webhook(name="w", url="https://r.example/h", secret_env=ENV, batch_size=2)
    keys = [random_key("sk_live_") for _ in range(3)]
    events = build_events(webhook, [finding(keys[0], "a.py"), finding(keys[0], "b.py"),
                                    finding(keys[1]), finding(keys[2])])
    assert [len(e.keys) for e in events] == [2, 1]
    first = json.loads(events[0].body)["findings"][0]
    assert [loc["path"] for loc in first["locations"]] == ["a.py", "b.py"]


def test_include_secret_puts_the_raw_key_in_the_body() -> None:
    key = random_key("sk_live_")
    webhook = Webhook(name="w", url="https://r.example/h", secret_env=ENV, include_secret=True)
    [event] = build_events(webhook, [finding(key)])
    assert json.loads(event.body)["findings"][0]["secret"] == key


@pytest.mark.parametrize(("value", "seconds"), [("2", 2.0), ("0", 0.0), (None, None), ("soon", None),
                                                 ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after_reads_seconds_and_dates(value, seconds) -> None:
    assert retry_after(value) == seconds


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    assert [backoff(n, base=1.0, cap=5.0, rng=lambda: 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.5]
    assert [backoff(n, base=1.0, cap=5.0, rng=lambda: 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]



def test_the_example_receiver_as_shipped(outbox: Outbox, capsys: pytest.CaptureFixture[str]) -> None:
    """examples/revoke_receiver.py's own HTTP handler: verifies, revokes once, answers a repeat alike."""
    secret = new_secret()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver_example.handler_for(receiver_example.Receiver(secret)))
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        [webhook_id] = queue(outbox, url, random_key("sk_live_"))
        [first] = deliver(outbox, secret)
        [row] = outbox.rows()
        headers = signature_headers(decode_secret(secret), webhook_id, row.body)
        repeat = request("POST", url, headers=headers, body=row.body, timeout=5)  # a resend after a lost answer
        queue(outbox, url, random_key("sk_live_"))
        [refused] = deliver(outbox, new_secret())
    finally:
        server.shutdown()
        server.server_close()
    assert first.state == "delivered"
    assert repeat.status == 200 and json.loads(repeat.body) == json.loads(row.response or "")
    assert refused.state == "failed" and refused.http_status == 401
    assert capsys.readouterr().out.count("revoke stripe.secret-key") == 1
