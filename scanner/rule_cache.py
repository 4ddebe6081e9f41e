"""Parsed, validated rules of a set of rule files, kept in one cache file per set.

Parsing and validating 600+ rules from 370 TOML files costs ~0.2 s, most of what a pre-commit hook
may spend. One marshal file per set of rule files reads back in a few milliseconds. It is keyed by
every file's path, size and modification time, by this module's and rules.py's own files (the
record layout) and by the Python version; a stale, broken or foreign file is simply rebuilt.
marshal holds plain data here (tuples, strings, numbers): nothing in it is ever run.

`lean` sets leave out examples, which only the linter and the candidate compiler need, and carry
what the scanner derives from them (whether matches span lines, a digest of the examples).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner.cache import cache_dir, mark_used, prune_cache, write_cache

RuleFile = tuple[Path, str]  # path, family
KEEP_SETS = 8


def set_key(files: list[RuleFile], *, lean: bool) -> str | None:
    """The cache key of a set of rule files (None when one cannot be stat'ed: no caching)."""
    digest = hashlib.sha256(f"{sys.version_info[:2]}|{'lean' if lean else 'full'}".encode())
    try:
        for code in (Path(__file__), Path(__file__).with_name("rules.py")):
            info = code.stat()
            digest.update(f"{code}|{info.st_size}|{info.st_mtime_ns}\n".encode())
        for path, family in files:
            info = path.stat()
            digest.update(f"{path}|{family}|{info.st_size}|{info.st_mtime_ns}\n".encode())
    except OSError:
        return None
    return digest.hexdigest()[:24]


def load_set(key: str, decode: Callable[[Any], Any]) -> list[Any] | None:
    path = cache_dir() / f"rules-{key}.marshal"
    try:
        records = marshal.loads(path.read_bytes())
        rules = [decode(record) for record in records]
    except Exception:  # missing, truncated, from another layout: rebuilt by the caller
        return None
    mark_used(path)
    return rules


def save_set(key: str, records: list[Any]) -> None:
    try:
        data = marshal.dumps(records)
    except ValueError:
        return  # a value marshal cannot hold: the next run parses again
    write_cache(cache_dir() / f"rules-{key}.marshal", data)
    prune_cache("rules-", suffix=".marshal", keep=KEEP_SETS)


def listing(root: Path) -> list[Path]:
    """Every .toml file below root (or root itself), sorted: os.scandir, cheaper than Path.rglob."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.name.endswith(".toml"):
                found.append(Path(entry.path))
    return sorted(found)
