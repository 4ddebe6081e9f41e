"""Candidate places (Hyperscan forms; keyword hits as fallback) → rule regex around them → secret
group → length/entropy/validator checks → overlap resolution."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING


from scanner.candidates import (
    COMPILE_AFTER_CHARS,
    CandidateFinder,
    NotCached,
    RuleSubset,
    TooManyCandidates,
    as_form_bytes,
    make_candidate_finder,
)
from scanner.entropy import shannon_entropy
from scanner.prefilter import HyperscanPrefilter, PythonPrefilter, make_prefilter
from scanner.rules import Rule
from scanner.validators import VALIDATORS
from scanner.windows import CandidateWindows, KeywordWindows, regex_timeout

if TYPE_CHECKING:  # the regex module is loaded by the first rule compiled, not by importing the engine
    import regex


@dataclass(frozen=True)
class Candidate:
    rule: Rule
    secret: str
    start: int  # span of the secret group in the chunk text
    end: int
    match_start: int  # span of the whole pattern match
    match_end: int
    rejected: str | None = None  # why the rule's own checks turned it down


@dataclass
class EngineCounters:
    """How chunks were searched: around candidate places (Hyperscan forms) or keyword hits."""

    candidate_chunks: int = 0
    keyword_chunks: int = 0
    timeouts: int = 0  # rule passes that ran out of time (scanner/windows.py regex_timeout)


OnTimeout = Callable[[Rule], None]


def whole_text_matches(rule: Rule, text: str) -> Iterator[tuple[regex.Match[str], int]]:
    return ((m, 0) for m in rule.regex.finditer(text, timeout=regex_timeout(len(text))))


class Engine:
    def __init__(self, rules: list[Rule], *, native: bool = True) -> None:
        self.rules = rules
        self.native = native
        self.keywords = sorted({k for rule in rules for k in rule.keywords})
        index = {k: i for i, k in enumerate(self.keywords)}
        self._rules_by_keyword: list[list[int]] = [[] for _ in self.keywords]
        for position, rule in enumerate(rules):
            for keyword in rule.keywords:
                self._rules_by_keyword[index[keyword]].append(position)
        self._prefilter: PythonPrefilter | HyperscanPrefilter | None = None
        self._candidates: CandidateFinder | RuleSubset | None = None
        self._candidates_ready = False
        self._deferred = False  # not cached and the cache is read-only: compile only for a big scan
        self._scanned_chars = 0
        self.counters = EngineCounters()
        self._index = {id(rule): position for position, rule in enumerate(rules)}

    @property
    def compiled(self) -> bool:
        """Whether the candidate database is in use (loaded or compiled) by now."""
        return self._candidates is not None

    @property
    def prefilter(self) -> PythonPrefilter | HyperscanPrefilter:
        if self._prefilter is None:
            self._prefilter = make_prefilter(self.keywords, native=self.native)
        return self._prefilter

    @property
    def candidates(self) -> CandidateFinder | RuleSubset | None:
        """The candidate finder, compiled now if it is not cached."""
        if not self._candidates_ready:
            self._candidates = make_candidate_finder(self.rules, native=self.native)
            self._candidates_ready = True
        return self._candidates

    def _finder_for(self, text: str) -> CandidateFinder | RuleSubset | None:
        """The candidate finder, once it is cached or worth compiling for this scan."""
        if not self._candidates_ready:
            self._scanned_chars += len(text)
            if self._deferred and self._scanned_chars < COMPILE_AFTER_CHARS:
                return None
            try:
                self._candidates = make_candidate_finder(self.rules, native=self.native, scan_chars=self._scanned_chars)
                self._candidates_ready = True
            except NotCached:
                self._deferred = True  # keyword windows until the scan has read enough to repay a compile
                return None
        return self._candidates

    def __getstate__(self) -> dict[str, object]:
        """For spawned workers: native databases are not pickled; each worker loads them from the
        on-disk cache that `prepare` filled (or builds them itself)."""
        state = dict(self.__dict__)
        state.update(_prefilter=None, _candidates=None, _candidates_ready=False)
        del state["_index"]  # keyed by object identity: rebuilt for the unpickled rules
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._index = {id(rule): position for position, rule in enumerate(self.rules)}

    def prepare(self) -> None:
        """Build (or load) the native databases once, before worker processes fork."""
        if self.candidates is None or len(self.candidates.covered) < len(self.rules):
            self.prefilter

    def rules_for(self, keyword_ids: Iterable[int]) -> list[int]:
        return sorted({p for kid in keyword_ids for p in self._rules_by_keyword[kid]})

    def find(self, text: str, path: str, *, keep_rejected: bool = False, on_timeout: OnTimeout | None = None
             ) -> list[Candidate]:
        """All accepted candidates in text (and rejected ones too when asked), overlaps resolved;
        `on_timeout(rule)` hears of a rule whose regex ran out of time on this text."""
        found: list[Candidate] = []
        ends = self.candidate_ends(text)
        if ends is None:
            self.counters.keyword_chunks += 1
            self._find_by_keywords(text, path, found, keep_rejected, on_timeout)
        else:
            self.counters.candidate_chunks += 1
            self._find_at_candidates(text, path, ends, found, keep_rejected, on_timeout)
            covered = self._candidates.covered if self._candidates else frozenset()
            if len(covered) < len(self.rules):
                self._find_by_keywords(text, path, found, keep_rejected, on_timeout, skip=covered)
        return resolve_overlaps(found)

    def candidate_ends(self, text: str) -> dict[int, list[int]] | None:
        """Each covered rule's possible match places, or None where keyword windows must do:
        without Hyperscan, or in a chunk dense with candidate shapes."""
        finder = self._finder_for(text)
        if finder is None:
            return None
        try:
            return finder.ends(as_form_bytes(text), limit=CANDIDATE_LIMIT + len(text) // 64)
        except TooManyCandidates:
            return None

    def _find_at_candidates(
        self, text: str, path: str, ends: dict[int, list[int]], found: list[Candidate], keep_rejected: bool,
        on_timeout: OnTimeout | None,
    ) -> None:
        rules = [self.rules[i] for i in sorted(ends) if self.rules[i].applies_to(path)]
        reach = self._candidates.reach if self._candidates else None
        windows = CandidateWindows(text, ends, self.rules, reach, self._index) if len(text) >= WINDOWED_MIN_CHARS else None
        for rule in rules:
            matches = windows.matches(rule) if windows else whole_text_matches(rule, text)
            self._confirm(rule, matches, found, keep_rejected, on_timeout)

    def _find_by_keywords(
        self, text: str, path: str, found: list[Candidate], keep_rejected: bool, on_timeout: OnTimeout | None,
        skip: frozenset[int] = frozenset(),
    ) -> None:
        windows = None
        if len(text) >= WINDOWED_MIN_CHARS:
            positions = self.prefilter.positions(text)
            present: set[int] = set(positions)
            # Offsets from the native prefilter count UTF-8 bytes: characters only in ASCII text.
            known = {self.keywords[k]: ends for k, ends in positions.items()} if text.isascii() else None
            windows = KeywordWindows(text, known)
        else:
            present = self.prefilter.hits(text)
        for position in self.rules_for(present):
            rule = self.rules[position]
            if position in skip or not rule.applies_to(path):
                continue
            matches = windows.matches(rule) if windows else whole_text_matches(rule, text)
            self._confirm(rule, matches, found, keep_rejected, on_timeout)

    def _confirm(
        self, rule: Rule, matches: Iterable[tuple[regex.Match[str], int]], found: list[Candidate], keep_rejected: bool,
        on_timeout: OnTimeout | None,
    ) -> None:
        try:
            for match, shift in matches:
                candidate = _candidate(rule, match, keep_rejected, shift)
                if candidate is not None:
                    found.append(candidate)
        except TimeoutError:  # what was found before the timeout is kept; the scan goes on
            self.counters.timeouts += 1
            if on_timeout is not None:
                on_timeout(rule)


# In a chunk this large a rule runs only in windows around its places (windows.py): generic rules
# would otherwise scan in full every file that mentions "key" or "token" somewhere.
WINDOWED_MIN_CHARS = 4096  # below this one pass over the whole text is cheaper (measured: 38 -> 63 MB/s from 16 KB)
CANDIDATE_LIMIT = 4096  # more candidate ends than this (plus one per 64 characters): keyword windows instead


def _candidate(rule: Rule, match: regex.Match[str], keep_rejected: bool, shift: int = 0) -> Candidate | None:
    start, end = match.span(1)
    if start < 0:
        return None  # the secret group sits in an alternative that did not take part
    secret = match.group(1)
    reason = rejection(rule, secret)
    if reason is not None and not keep_rejected:
        return None
    return Candidate(
        rule, secret, start + shift, end + shift, match.start() + shift, match.end() + shift, rejected=reason
    )


def rejection(rule: Rule, secret: str) -> str | None:
    if len(secret) < rule.min_length:
        return f"shorter than {rule.min_length} characters"
    if rule.entropy is not None:
        bits = shannon_entropy(secret)
        if bits < rule.entropy:
            return f"entropy {bits:.2f} below the rule's floor of {rule.entropy}"
    if rule.validator and not VALIDATORS[rule.validator](secret):
        return f"fails the {rule.validator} check"
    return None


def resolve_overlaps(candidates: list[Candidate]) -> list[Candidate]:
    """Where rules claim overlapping secrets, keep one: specific rules beat generic ones.

    `API_KEY = "sk_live_…"` matches both the generic assignment rule and Stripe's; the user
    wants one finding, named for the provider. Ties go to the longer secret, then to the match
    carrying more context, then rule order.
    """
    accepted = [c for c in candidates if c.rejected is None]
    rejected = [c for c in candidates if c.rejected is not None]
    order = {id(c.rule): i for i, c in enumerate(accepted)}
    ranked = sorted(
        accepted,
        key=lambda c: (c.rule.generic, -(c.end - c.start), -(c.match_end - c.match_start), order[id(c.rule)], c.start),
    )
    kept: list[Candidate] = []
    for candidate in ranked:
        if not any(candidate.start < k.end and k.start < candidate.end for k in kept):
            kept.append(candidate)
    kept.sort(key=lambda c: (c.start, c.rule.id))
    return kept + rejected
