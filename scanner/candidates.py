"""Where each rule could match: one Hyperscan pass over every rule's loosened form (hsform.py).

The keyword prefilter says a rule *might* apply because "key" occurs somewhere in a file; this
says where a `name = "value"` shape the rule accepts actually ends. The engine then confirms
with the rule's own regex on the lines around those ends only. The compiled database is cached
on disk keyed by the rules' patterns and examples, so start-up neither re-derives the forms nor
recompiles.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Container
from pathlib import Path
from typing import Any

from scanner import hsform
from scanner.cache import cache_dir, cache_writable, mark_used, prune_cache, write_cache
from scanner.hsform import Unsupported, hyperscan_form, match_reach
from scanner.rules import Rule, with_examples


OTHER_BYTE = hsform.OTHER.encode("ascii")


def as_form_bytes(text: str) -> bytes:
    """The text as the forms read it: one byte per character, OTHER for each non-ASCII one.

    The ASCII encoder's "replace" handler writes one "?" per character it cannot encode, in C; the
    text is split at its own "?"s first so only the written ones become OTHER. (An encode error
    handler was a Python call per run of non-ASCII characters, 2.4 million of them in a translated
    documentation's history; a regex substitution, 4x slower than this on translated text.)"""
    if text.isascii():
        return text.encode("ascii")
    return b"?".join(piece.encode("ascii", "replace").replace(b"?", OTHER_BYTE) for piece in text.split("?"))


# The compiled database, the rules it covers, and how far each one's matches reach from a place.
Compiled = tuple[Any, frozenset[int], dict[int, tuple[int, int]]]


SAME_PLACE = 64  # ends this close to the rule's previous end count once toward the density limit


class TooManyCandidates(Exception):
    """The chunk is dense with candidate shapes: windows would not save anything."""


class NotCached(Exception):
    """No compiled database on disk, and the caller would rather not compile one now."""


class CandidateFinder:
    def __init__(self, rules: list[Rule], *, compile_missing: bool = True) -> None:
        import hyperscan

        self._hs = hyperscan
        # Keyed by the patterns and the examples that check their forms, by how forms are made
        # (hsform's own source) and by the Hyperscan build.
        key = hashlib.sha256("\0".join(r.pattern + "\1" + r.examples_digest for r in rules).encode())
        key.update(Path(hsform.__file__).read_bytes() + getattr(hyperscan, "__version__", "").encode())
        digest = key.hexdigest()[:24]
        loaded = self._load(digest)
        if loaded is None and not compile_missing:
            raise NotCached
        self.db, self.covered, self.reach = loaded or self._compile(rules, digest)
        self.scratch = hyperscan.Scratch(self.db) if self.db is not None else None

    def ends(self, data: bytes, limit: int, only: Container[int] | None = None) -> dict[int, list[int]]:
        """Rule index -> end offsets of its possible matches, in order; covered rules only (and of
        those, `only` these)."""
        if self.db is None:
            return {}
        return self._scan(self.db, self.scratch, data, limit, only)

    def _scan(self, db: Any, scratch: Any, data: bytes, limit: int, only: Container[int] | None = None
              ) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        count = 0

        def on_match(rule: int, start: int, end: int, flags: int, context: object) -> bool:
            nonlocal count
            if only is not None and rule not in only:
                return False
            ends = found.get(rule)
            if ends is None:
                found[rule] = [end]
                count += 1
            else:
                # A form with a flexible middle ends at every offset along one long run: those
                # ends are one place for the density limit (all are kept: each may start a match).
                if end - ends[-1] > SAME_PLACE:
                    count += 1
                ends.append(end)
            return count > limit  # True stops the scan

        try:
            db.scan(data, match_event_handler=on_match, scratch=scratch)
        except self._hs.ScanTerminated as stopped:
            raise TooManyCandidates from stopped
        return found

    def _load(self, digest: str) -> Compiled | None:
        hs = self._hs
        try:
            covered = json.loads((cache_dir() / f"candidates-{digest}.json").read_text())
            database = cache_dir() / f"candidates-{digest}.hsdb"
            data = database.read_bytes()
            mark_used(database)
            reach = {int(index): (before, after) for index, (before, after) in covered.items() if before is not None}
            return hs.loadb(data, hs.HS_MODE_BLOCK), frozenset(map(int, covered)), reach
        except Exception:  # missing, malformed, or from another hyperscan build: recompile
            return None

    def _compile(self, rules: list[Rule], digest: str) -> Compiled:
        rules = with_examples(rules)  # lean rules leave them out; every form is checked against them
        forms = {}
        for index, rule in enumerate(rules):
            try:
                forms[index] = hyperscan_form(rule.pattern).encode("ascii")
            except (Unsupported, UnicodeEncodeError):
                continue  # the rule keeps keyword windows
        try:
            db = self._database(forms)
        except self._hs.error:  # one form too large or refused: find it, leave it to keyword windows
            forms = {index: form for index, form in forms.items() if self._compiles(index, form)}
            db = self._database(forms)
        missed = self._missing_examples(db, rules, frozenset(forms))
        if missed:  # a form that misses its rule's own examples is wrong: that rule keeps keywords
            forms = {index: form for index, form in forms.items() if index not in missed}
            db = self._database(forms)
        reach = {index: found for index in forms if (found := match_reach(rules[index].pattern)) is not None}
        if db is not None:
            write_cache(cache_dir() / f"candidates-{digest}.hsdb", self._hs.dumpb(db))
            listing = {index: reach.get(index, (None, None)) for index in sorted(forms)}
            write_cache(cache_dir() / f"candidates-{digest}.json", json.dumps(listing).encode())
            prune_cache("candidates-")
        return db, frozenset(forms), reach

    def _missing_examples(self, db: Any, rules: list[Rule], covered: frozenset[int]) -> set[int]:
        """Rules whose examples hold a match with no place of the rule's form inside it."""
        if db is None:
            return set()
        scratch = self._hs.Scratch(db)
        missed = set()
        for index in covered:
            rule = rules[index]
            for example in rule.examples:
                places = self._scan(db, scratch, as_form_bytes(example.text), 1 << 30).get(index, [])
                if any(not any(m.start() <= p <= m.end() for p in places) for m in rule.regex.finditer(example.text)):
                    missed.add(index)
        return missed

    def _database(self, forms: dict[int, bytes]) -> Any:
        hs = self._hs
        if not forms:
            return None
        # Multi-line and dot-all: looser than any scoped m/s flag in a rule. Forms that can
        # match empty are refused (they would report every offset): those rules keep keywords.
        flags = hs.HS_FLAG_MULTILINE | hs.HS_FLAG_DOTALL
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=list(forms.values()), ids=list(forms), elements=len(forms), flags=[flags] * len(forms))
        return db

    def _compiles(self, index: int, form: bytes) -> bool:
        try:
            self._database({index: form})
            return True
        except self._hs.error:
            return False


class RuleSubset:
    """Candidate places for a rule list that is not the whole library: the built-in rules it holds
    from the library's database (compiled once, whichever rules a config disables or a ruleset
    leaves out), the rules of the user's own from a small database of their own."""

    def __init__(self, parts: list[tuple[CandidateFinder, dict[int, int]]]) -> None:
        self.parts = parts  # each finder, and its rule index -> the index in the engine's list
        self.covered = frozenset(to[i] for finder, to in parts for i in finder.covered if i in to)
        self.reach = {to[i]: reach for finder, to in parts for i, reach in finder.reach.items() if i in to}

    def ends(self, data: bytes, limit: int) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for finder, to in self.parts:
            for index, ends in finder.ends(data, limit, only=to).items():
                found[to[index]] = ends
        return found


def subset_finder(rules: list[Rule], library: list[Rule], *, compile_missing: bool) -> RuleSubset:
    """The finder for `rules` from the library's database and one for the rest (rules are the
    library's when their id, pattern and examples are)."""
    in_library = {rule.id: (index, rule) for index, rule in enumerate(library)}
    to_library: dict[int, int] = {}
    own: list[tuple[int, Rule]] = []
    for position, rule in enumerate(rules):
        found = in_library.get(rule.id)
        if found is not None and (found[1].pattern, found[1].examples_digest) == (rule.pattern, rule.examples_digest):
            to_library[found[0]] = position
        else:
            own.append((position, rule))
    parts = []
    if to_library:
        parts.append((CandidateFinder(library, compile_missing=compile_missing), to_library))
    if own:
        finder = CandidateFinder([rule for _, rule in own], compile_missing=compile_missing)
        parts.append((finder, {index: position for index, (position, _) in enumerate(own)}))
    return RuleSubset(parts)


@functools.lru_cache(maxsize=1)
def library_rules() -> list[Rule]:
    from scanner.rules import load_rules

    return load_rules(lean=True)


COMPILE_AFTER_CHARS = 16 << 20  # keyword windows cost ~0.01 s/MB more: ~0.2 s here, against ~0.7 s


def make_candidate_finder(rules: list[Rule], *, native: bool = True, scan_chars: int | None = None
                          ) -> CandidateFinder | RuleSubset | None:
    """None where Hyperscan is missing or turned off: the engine uses keyword windows alone.

    The rules' own database when it is cached; else the library's (every built-in rule) with one
    for any rules of the user's own, so disabling a rule or choosing a ruleset never recompiles
    the ~950 built-in forms (~3 s). With a writable cache a compile is paid once; without one (a
    read-only home) every run would pay it, so a scan compiles only once it has read
    `COMPILE_AFTER_CHARS` (`scan_chars`: how much so far; None: compile now). Until then: None."""
    if not native or os.environ.get("KEYSWEEP_NO_HYPERSCAN") == "1":
        return None
    compile_missing = scan_chars is None or scan_chars >= COMPILE_AFTER_CHARS or cache_writable()
    try:
        try:
            return CandidateFinder(rules, compile_missing=False)
        except NotCached:
            return subset_finder(rules, library_rules(), compile_missing=compile_missing)
    except ImportError:
        return None

