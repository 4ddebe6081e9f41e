"""Real HTTP servers on 127.0.0.1 for the revoke and verify tests: a scripted front for the
example receiver (examples/revoke_receiver.py), and a fake provider that answers key checks."""

from __future__ import annotations

import base64
import importlib.util
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("revoke_receiver", ROOT / "examples" / "revoke_receiver.py")
assert _spec and _spec.loader
receiver_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receiver_example)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def random_key(prefix: str, length: int = 32) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")


@dataclass
class Step:
    """One scripted answer: a canned status (the receiver never sees it), or a pause before or after
    the receiver handles it (`hold` blocks until `release` is set: a sender killed mid-request)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0
    hold: bool = False


class _Server:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._dispatch(self)

            def do_POST(self) -> None:
                outer._dispatch(self)

            def do_HEAD(self) -> None:
                outer._dispatch(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=lambda: self.httpd.serve_forever(poll_interval=0.05), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _record(self, request: BaseHTTPRequestHandler) -> Seen:
        length = int(request.headers.get("Content-Length") or 0)
        seen = Seen(request.command, request.path, {k.lower(): v for k, v in request.headers.items()},
                    request.rfile.read(length), time.monotonic())
        with self.lock:
            self.seen.append(seen)
        return seen

    def _dispatch(self, request: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @staticmethod
    def reply(request: BaseHTTPRequestHandler, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(answer).encode()
        try:
            request.send_response(status)
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the sender gave up (timeout) or was killed


class ReceiverServer(_Server):
    """The example receiver behind a script of canned answers; it counts what it actually revoked."""

    def __init__(self, secret: str, script: list[Step] | None = None) -> None:
        super().__init__()
        self.revoked: list[dict[str, Any]] = []
        self.receiver = receiver_example.Receiver(secret, revoke_key=self._revoke)
        self.script: deque[Step] = deque(script or [])
        self.arrived = threading.Event()  # a held request has been handled and is waiting
        self.release = threading.Event()

    def _revoke(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.revoked.append(entry)
        return {"fingerprint": entry["fingerprint"], "status": "revoked"}

    def _dispatch(self, request: BaseHTTPRequestHandler) -> None:
        seen = self._record(request)
        with self.lock:
            step = self.script.popleft() if self.script else Step()
        if step.status is not None:
            self.reply(request, step.status, {"error": "scripted"}, step.headers)
            return
        time.sleep(step.sleep)
        status, answer = self.receiver.handle(seen.headers, seen.body)
        if step.hold:
            self.arrived.set()
            self.release.wait(60)
        self.reply(request, status, answer)

    @property
    def webhook_ids(self) -> list[str | None]:
        return [s.webhook_id for s in self.seen]


class ProviderServer(_Server):
    """A provider's key-check endpoint: answers by the key presented (bearer, basic, header or query)."""

    def __init__(self, answers: dict[str, tuple[int, dict[str, str]]], hold: float = 0.0) -> None:
        super().__init__()
        self.answers = answers
        self.hold = hold
        self.in_flight = 0
        self.max_in_flight = 0

    def key_of(self, seen: Seen) -> str:
        auth = seen.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:]
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return user or password
        if "x-api-key" in seen.headers:
            return seen.headers["x-api-key"]
        from urllib.parse import parse_qs, urlsplit

        return parse_qs(urlsplit(seen.path).query).get("key", [""])[0]

    def _dispatch(self, request: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            seen = self._record(request)
            time.sleep(self.hold)
            status, headers = self.answers.get(self.key_of(seen), (401, {}))
        finally:
            # Before the reply: once the client has it, it may send the next request at once,
            # and that one must not find this one still counted.
            with self.lock:
                self.in_flight -= 1
        self.reply(request, status, {"object": "balance"} if status == 200 else {"error": status}, headers)
