"""The fleet's memory between runs: per repository the ref tips already scanned and every place each
key was added, in one SQLite file under the state dir.

The file holds keys in clear (reports show them with --no-redact, and --revoke sends them), so the
directory must be private (scanner/statedir.py, as for the revoke outbox: created 0700, refused when
another user owns it or others may write to it) and the database is opened without following a
symbolic link and kept 0600. What a run found is stored with a digest of the rules and
config it was found with: a different rule set starts that repository over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.errors import ConfigError
from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.sources.git_blobs import SecretKey
from scanner.sources.git_history import Location
from scanner.sources.gitrepo import Commit
from scanner.statedir import ensure_private_dir, open_private_file

DB_NAME = "fleet.sqlite3"
FORMAT = 1
COMMIT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256 object ids, nothing else
STORED_ORDER_BASE = 1 << 32  # stored commits sort before this run's at an equal date (see `load`)
SCHEMA = """
CREATE TABLE IF NOT EXISTS repositories (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    setup      TEXT NOT NULL,
    tips       TEXT NOT NULL,
    head       TEXT,
    keys       TEXT NOT NULL,
    scanned_at REAL NOT NULL
);
"""


def is_commit_id(text: object) -> bool:
    return isinstance(text, str) and COMMIT_ID.fullmatch(text) is not None


@dataclass
class StoredKey:
    """One key of a repository: where it was added and whether it was in HEAD when last looked at."""

    locations: list[Location]
    in_head: bool


@dataclass
class RepoState:
    tips: tuple[str, ...]  # every ref's commit when it was scanned (validated ids only)
    head: str | None  # the default branch's commit then (in_head is rechecked when it moves)
    keys: dict[SecretKey, StoredKey]

    @property
    def commits(self) -> set[str]:
        return {loc.commit.sha for stored in self.keys.values() for loc in stored.locations}


def setup_digest(scanner: Scanner) -> str:
    """What the stored results depend on besides the history: keysweep, the rules and the config."""
    rules = [[r.id, r.pattern, list(r.keywords), r.entropy, r.validator, r.path, r.generic, r.min_length,
              repr(r.allow), r.exposure, r.multiline, r.severity, r.confidence] for r in scanner.engine.rules]
    config = scanner.config
    document = [__version__, rules, json.dumps(config.raw, sort_keys=True, default=str), config.max_file_size,
                scanner.keep_suppressed]
    return hashlib.sha256(json.dumps(document, default=str).encode()).hexdigest()


class FleetState:
    """Open with `FleetState.open(state_dir)`; one row per repository, written as each one finishes."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> FleetState:
        path = ensure_private_dir(state_dir) / DB_NAME
        open_private_file(path)  # 0600, and a symbolic link planted at its name is refused, not written through
        try:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"{path}: cannot open the fleet state: {exc}") from None
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FleetState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, key: str, *, setup: str) -> RepoState | None:
        """What was stored for this repository with the same rules and config; None otherwise."""
        row = self._db.execute("SELECT setup, tips, head, keys FROM repositories WHERE key = ?", (key,)).fetchone()
        if row is None or row[0] != setup:
            return None
        try:
            tips = json.loads(row[1])
            keys = json.loads(row[3])
            head = row[2] if is_commit_id(row[2]) else None
            if not isinstance(tips, list) or not all(is_commit_id(t) for t in tips) or not isinstance(keys, list):
                return None  # not what we wrote: start this repository over
            loaded = {(entry["rule_id"], entry["secret"]): StoredKey(
                [load_location(loc, order_base=STORED_ORDER_BASE) for loc in entry["locations"]], bool(entry["in_head"]))
                for entry in keys}
        except (ValueError, KeyError, TypeError):
            return None
        return RepoState(tuple(tips), head, loaded)

    def save(self, key: str, *, name: str, setup: str, state: RepoState) -> None:
        keys = [{"rule_id": k[0], "secret": k[1], "in_head": stored.in_head,
                 "locations": [dump_location(loc, order) for loc, order in ranked(stored.locations, state)]}
                for k, stored in sorted(state.keys.items())]
        self._db.execute(
            "INSERT OR REPLACE INTO repositories (key, name, setup, tips, head, keys, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, name, setup, json.dumps(sorted(state.tips)), state.head, json.dumps(keys, ensure_ascii=False),
             time.time()))

    def names(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, name FROM repositories"))


def ranked(locations: list[Location], state: RepoState) -> list[tuple[Location, int]]:
    """Each location with its commit's rank among all the repository's stored commits, oldest highest:
    orders from different runs are not comparable, ranks are."""
    commits = {loc.commit.sha: loc.commit for s in state.keys.values() for loc in s.locations}
    by_age = sorted(commits.values(), key=lambda c: (c.timestamp, -c.order))
    rank = {c.sha: len(by_age) - i for i, c in enumerate(by_age)}
    return [(loc, rank[loc.commit.sha]) for loc in locations]


def dump_location(location: Location, order: int) -> dict[str, Any]:
    commit = dataclasses.asdict(location.commit)
    commit["order"] = order
    finding = {f.name: getattr(location.finding, f.name) for f in dataclasses.fields(Finding) if f.name != "context"}
    return {"commit": commit, "file": location.file, "finding": finding}


def load_location(data: dict[str, Any], *, order_base: int) -> Location:
    commit_data = dict(data["commit"])
    if not is_commit_id(commit_data.get("sha")):
        raise ValueError("stored commit id")
    commit_data["parents"] = tuple(commit_data["parents"])
    commit_data["order"] = int(commit_data["order"]) + order_base
    finding_data: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value  # JSON arrays back to tuples
                    for name, value in data["finding"].items()}
    return Location(Commit(**commit_data), str(data["file"]), Finding(**finding_data))
