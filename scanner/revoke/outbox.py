"""The durable outbox: every revoke request is committed to SQLite before it is sent.

A row is one request (one webhook-id, the exact body bytes, the webhook's URL and the name of
its secret's variable). It moves pending → delivered | failed | gone and never back, except when
the user asks `revoke retry --include-failed`. A second table remembers which keys each request
covers (their sha256, never the key), so a key already delivered is not queued again.

A sender claims rows (owner host:pid and a lease) so two runs do not send the same row at the
same moment; a claim whose process is gone, or whose lease ran out, is free again: a killed run
loses nothing. The file is private (0600 in a 0700 directory): with `include_secret` it holds keys.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.revoke.config import Webhook
from scanner.revoke.payload import Event
from scanner.statedir import ensure_private_dir, open_private_file

DB_NAME = "revoke-outbox.sqlite3"
STATES = ("pending", "delivered", "failed", "gone")
LEASE_S = 600.0  # renewed before every attempt; only matters if a sender hangs without dying
SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    webhook_id    TEXT PRIMARY KEY,
    webhook       TEXT NOT NULL,
    url           TEXT NOT NULL,
    secret_env    TEXT NOT NULL,
    timeout       REAL NOT NULL,
    body          BLOB NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'gone')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    http_status   INTEGER,
    last_error    TEXT,
    response      TEXT,
    claimed_by    TEXT,
    claimed_until REAL
);
CREATE TABLE IF NOT EXISTS request_keys (
    webhook_id    TEXT NOT NULL REFERENCES requests (webhook_id),
    webhook       TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    label         TEXT NOT NULL,
    PRIMARY KEY (webhook_id, secret_sha256)
);
CREATE INDEX IF NOT EXISTS request_keys_by_key ON request_keys (webhook, secret_sha256);
"""


@dataclass(frozen=True)
class Row:
    webhook_id: str
    webhook: str
    url: str
    secret_env: str
    timeout: float
    body: bytes
    state: str
    attempts: int
    created_at: float
    updated_at: float
    http_status: int | None
    last_error: str | None
    response: str | None
    keys: tuple[str, ...] = ()  # redacted labels


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """KEYSWEEP_STATE_DIR, else the platform's per-user state directory."""
    env = os.environ if environ is None else environ
    if env.get("KEYSWEEP_STATE_DIR"):
        return Path(env["KEYSWEEP_STATE_DIR"])
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "keysweep"
    if os.name == "nt":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "keysweep"
    return Path(env.get("XDG_STATE_HOME") or home / ".local" / "state") / "keysweep"


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(claimed_by: str) -> bool:
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's claim: trust its lease
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outbox:
    def __init__(self, state_dir: Path) -> None:
        self.path = ensure_private_dir(state_dir) / DB_NAME
        open_private_file(self.path)
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # committed means on disk before we send
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.path}: cannot open the revoke outbox: {exc} (set --state-dir or "
                              "KEYSWEEP_STATE_DIR to a writable directory)") from None

    @classmethod
    def existing(cls, state_dir: Path) -> Outbox | None:
        """The outbox if one was ever created (read-only uses such as --dry-run create nothing)."""
        return cls(state_dir) if (state_dir / DB_NAME).is_file() else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def covered(self, webhook: str, hashes: Iterable[str], *, states: tuple[str, ...] = ("pending", "delivered")) -> set[str]:
        """Which of these keys already have a request in one of `states` to this webhook."""
        wanted = list(set(hashes))
        in_states = ",".join(f"'{s}'" for s in states if s in STATES)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(sha for (sha,) in self._db.execute(
                f"SELECT k.secret_sha256 FROM request_keys k JOIN requests r USING (webhook_id) "
                f"WHERE k.webhook = ? AND r.state IN ({in_states}) AND k.secret_sha256 IN ({marks})",
                [webhook, *chunk]))
        return found

    def add(self, webhook: Webhook, event: Event) -> None:
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO requests (webhook_id, webhook, url, secret_env, timeout, body, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event.webhook_id, webhook.name, webhook.url, webhook.secret_env, webhook.timeout, event.body, now, now))
            db.executemany(
                "INSERT INTO request_keys (webhook_id, webhook, secret_sha256, fingerprint, label) VALUES (?, ?, ?, ?, ?)",
                [(event.webhook_id, webhook.name, k.secret_sha256, k.fingerprint, k.label) for k in event.keys])

    def claim(self, *, include_failed: bool = False, ids: Iterable[str] | None = None) -> list[Row]:
        """Take the rows to send now (oldest first); rows another live sender holds are left alone."""
        states = ("pending", "failed", "gone") if include_failed else ("pending",)
        me, now = owner(), time.time()
        with self._transaction() as db:
            rows = self._select(f"state IN ({','.join('?' * len(states))})", states)
            wanted = set(ids) if ids is not None else None
            mine = []
            for row, (claimed_by, until) in rows:
                if wanted is not None and row.webhook_id not in wanted:
                    continue
                if claimed_by and claimed_by != me and (until or 0) > now and owner_alive(claimed_by):
                    continue
                db.execute("UPDATE requests SET state = 'pending', claimed_by = ?, claimed_until = ? WHERE webhook_id = ?",
                           (me, now + LEASE_S, row.webhook_id))
                mine.append(row)
        return mine

    def attempt(self, webhook_id: str, *, lease: float) -> None:
        """Count an attempt and extend the claim before sending it."""
        now = time.time()
        self._db.execute("UPDATE requests SET attempts = attempts + 1, updated_at = ?, claimed_until = ? "
                         "WHERE webhook_id = ?", (now, now + lease, webhook_id))

    def extend(self, webhook_id: str, *, lease: float) -> None:
        self._db.execute("UPDATE requests SET claimed_until = ? WHERE webhook_id = ?", (time.time() + lease, webhook_id))

    def settle(self, webhook_id: str, state: str, *, http_status: int | None = None, error: str | None = None,
               response: str | None = None) -> None:
        """Record an outcome and release the claim; state 'pending' keeps the row for a later retry."""
        assert state in STATES
        self._db.execute(
            "UPDATE requests SET state = ?, http_status = COALESCE(?, http_status), last_error = ?, "
            "response = COALESCE(?, response), updated_at = ?, claimed_by = NULL, claimed_until = NULL "
            "WHERE webhook_id = ?", (state, http_status, error, response, time.time(), webhook_id))

    def rows(self, *, states: Iterable[str] = STATES) -> list[Row]:
        states = tuple(states)
        return [row for row, _ in self._select(f"state IN ({','.join('?' * len(states))})", states)]

    def _select(self, where: str, params: Iterable[object]) -> list[tuple[Row, tuple[str | None, float | None]]]:
        cursor = self._db.execute(
            "SELECT webhook_id, webhook, url, secret_env, timeout, body, state, attempts, created_at, updated_at, "
            f"http_status, last_error, response, claimed_by, claimed_until FROM requests WHERE {where} "
            "ORDER BY created_at, webhook_id", tuple(params))
        found = cursor.fetchall()
        labels: dict[str, list[str]] = {}
        for webhook_id, label in self._db.execute("SELECT webhook_id, label FROM request_keys ORDER BY label"):
            labels.setdefault(webhook_id, []).append(label)
        return [(_row(r, tuple(labels.get(r[0], ()))), (r[13], r[14])) for r in found]


def _row(r: tuple[Any, ...], keys: tuple[str, ...]) -> Row:
    return Row(webhook_id=r[0], webhook=r[1], url=r[2], secret_env=r[3], timeout=r[4], body=r[5], state=r[6],
               attempts=r[7], created_at=r[8], updated_at=r[9], http_status=r[10], last_error=r[11],
               response=r[12], keys=keys)
