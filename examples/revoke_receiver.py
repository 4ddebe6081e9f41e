"""An example revoke receiver: verify the signature, act once per webhook-id, answer with a receipt.

    KEYSWEEP_WEBHOOK_SECRET=whsec_... python examples/revoke_receiver.py --port 8787

It only prints what it would revoke; put your provider calls in `revoke_key`. keysweep retries
until it gets a 2xx, with the same webhook-id each time, so remember the ids you have handled
(here in memory; use your database) and answer a repeat with the first receipt instead of acting
again. Answer quickly; do slow work after answering if you must.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scanner.revoke import WebhookVerificationError, verify_signature

MAX_BODY = 1024 * 1024


def print_revocation(entry: dict[str, Any]) -> dict[str, Any]:
    """Replace with a call to the provider (or your vault) that revokes and rotates this key."""
    print(f"revoke {entry['rule_id']} {entry['fingerprint']} found at {entry['locations'][0]}", flush=True)
    return {"fingerprint": entry["fingerprint"], "status": "revoked"}


class Receiver:
    """What a receiver does with one delivery, apart from HTTP."""

    def __init__(self, secret: str, revoke_key: Callable[[dict[str, Any]], dict[str, Any]] = print_revocation) -> None:
        self.secret = secret
        self.revoke_key = revoke_key
        self.receipts: dict[str, dict[str, Any]] = {}  # webhook-id -> the answer we gave
        self._lock = threading.Lock()

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            event = verify_signature(headers, body, self.secret)
        except WebhookVerificationError as exc:
            return 401, {"error": str(exc)}
        webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        with self._lock:  # one delivery of an id at a time, so a retry racing the first cannot act twice
            if webhook_id in self.receipts:
                return 200, self.receipts[webhook_id]
            results = [self.revoke_key(entry) for entry in event["findings"]]
            receipt = {"status": "revoked", "revoked_at": datetime.now(timezone.utc).isoformat(), "keys": results}
            self.receipts[webhook_id] = receipt
        return 200, receipt


def handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.reply(413, {"error": "body too large"})
                return
            status, answer = receiver.handle(dict(self.headers.items()), self.rfile.read(length))
            self.reply(status, answer)

        def reply(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args()
    receiver = Receiver(os.environ["KEYSWEEP_WEBHOOK_SECRET"])
    server = ThreadingHTTPServer((args.host, args.port), handler_for(receiver))
    print(f"listening on http://{args.host}:{args.port}/ (put TLS in front of it for anything but loopback)")
    server.serve_forever()


if __name__ == "__main__":
    main()
