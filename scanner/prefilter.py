"""Keyword prefilter: one pass over a chunk finds which rules could match at all.

Hyperscan matches every rule keyword in one native pass; its compiled database is cached on
disk keyed by the keyword set, so start-up does not recompile it. Where the `hyperscan`
package is missing, a pure-Python scan of the lowered text does the same job more slowly.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator

from scanner.cache import cache_dir, mark_used, prune_cache, write_cache


class PythonPrefilter:
    """Lower the text once, then look for each keyword with str.__contains__."""

    def __init__(self, keywords: list[str]) -> None:
        self.keywords = keywords

    def hits(self, text: str) -> set[int]:
        lowered = text.lower()
        return {i for i, keyword in enumerate(self.keywords) if keyword in lowered}

    def positions(self, text: str) -> dict[int, list[int]]:
        """Every keyword's occurrences (end offsets), for windowing large chunks."""
        lowered = text.lower()
        found: dict[int, list[int]] = {}
        for i, keyword in enumerate(self.keywords):
            ends = [position + len(keyword) for position in keyword_hits(lowered, keyword)]
            if ends:
                found[i] = ends
        return found


class HyperscanPrefilter:
    def __init__(self, keywords: list[str]) -> None:
        import hyperscan

        self.keywords = keywords
        self._hs = hyperscan
        # Two databases over the same keywords: one reports only which keywords occur (small
        # chunks), the other every occurrence (large chunks, whose rules run in windows).
        self.db = self._load_or_compile(keywords, single=True)
        self.scratch = hyperscan.Scratch(self.db)
        self._every: tuple[object, object] | None = None

    def _load_or_compile(self, keywords: list[str], *, single: bool):  # type: ignore[no-untyped-def]
        hs = self._hs
        version = getattr(hs, "__version__", "") + ("single" if single else "every")
        digest = hashlib.sha256("\0".join(keywords).encode() + version.encode()).hexdigest()[:24]
        cached = cache_dir() / f"prefilter-{digest}.hsdb"
        try:
            db = hs.loadb(cached.read_bytes(), hs.HS_MODE_BLOCK)
            mark_used(cached)
            return db
        except Exception:  # missing or from another hyperscan build: recompile
            pass
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        flags = hs.HS_FLAG_CASELESS | (hs.HS_FLAG_SINGLEMATCH if single else 0)
        db.compile(
            expressions=[re.escape(k.encode("utf-8")) for k in keywords],
            ids=list(range(len(keywords))),
            elements=len(keywords),
            flags=[flags] * len(keywords),
        )
        write_cache(cached, hs.dumpb(db))
        prune_cache("prefilter-")
        return db

    def hits(self, text: str) -> set[int]:
        found: set[int] = set()

        def on_match(kid: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(kid)

        self.db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=self.scratch)
        return found

    def positions(self, text: str) -> dict[int, list[int]]:
        """Every keyword's occurrences (end offsets in the UTF-8 bytes: characters for ASCII text)."""
        if self._every is None:
            db = self._load_or_compile(self.keywords, single=False)
            self._every = (db, self._hs.Scratch(db))
        db, scratch = self._every
        found: dict[int, list[int]] = {}

        def on_match(kid: int, start: int, end: int, flags: int, context: object) -> None:
            found.setdefault(kid, []).append(end)

        db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=scratch)  # type: ignore[attr-defined]
        return found


def keyword_hits(lowered: str, keyword: str) -> Iterator[int]:
    """Where a keyword starts in lowered text, overlapping occurrences included."""
    position = lowered.find(keyword)
    while position >= 0:
        yield position
        position = lowered.find(keyword, position + 1)


def make_prefilter(keywords: Iterable[str], *, native: bool = True) -> PythonPrefilter | HyperscanPrefilter:
    keywords = list(keywords)
    if native and os.environ.get("KEYSWEEP_NO_HYPERSCAN") != "1":
        try:
            return HyperscanPrefilter(keywords)
        except ImportError:
            pass
    return PythonPrefilter(keywords)
