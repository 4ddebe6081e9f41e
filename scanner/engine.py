"""Prefilter → rule regex → secret group → length/entropy/validator checks → overlap resolution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import regex

from scanner.entropy import shannon_entropy
from scanner.prefilter import HyperscanPrefilter, PythonPrefilter, make_prefilter
from scanner.rules import Rule
from scanner.validators import VALIDATORS


@dataclass(frozen=True)
class Candidate:
    rule: Rule
    secret: str
    start: int  # span of the secret group in the chunk text
    end: int
    match_start: int  # span of the whole pattern match
    match_end: int
    rejected: str | None = None  # why the rule's own checks turned it down


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

    @property
    def prefilter(self) -> PythonPrefilter | HyperscanPrefilter:
        if self._prefilter is None:
            self._prefilter = make_prefilter(self.keywords, native=self.native)
        return self._prefilter

    def candidate_rules(self, text: str) -> list[Rule]:
        positions = {p for kid in self.prefilter.hits(text) for p in self._rules_by_keyword[kid]}
        return [self.rules[p] for p in sorted(positions)]

    def find(self, text: str, path: str, *, keep_rejected: bool = False) -> list[Candidate]:
        """All accepted candidates in text (and rejected ones too when asked), overlaps resolved."""
        rules = [rule for rule in self.candidate_rules(text) if rule.applies_to(path)]
        if not rules:
            return []
        windows = KeywordWindows(text) if len(text) >= WINDOWED_MIN_CHARS else None
        found: list[Candidate] = []
        for rule in rules:
            for start, end in (windows.for_rule(rule) if windows else [(0, len(text))]):
                for match in rule.regex.finditer(text, start, end):
                    candidate = _candidate(rule, match, keep_rejected)
                    if candidate is not None:
                        found.append(candidate)
        return resolve_overlaps(found)


# Windowed confirmation: in a large chunk, a rule's regex runs only on the lines around its
# keywords (one line either side), not over the whole text. Generic assignment rules would
# otherwise scan every byte of every file that mentions "key" or "token" somewhere.
WINDOWED_MIN_CHARS = 16 * 1024  # below this one pass over the whole text is cheaper
WINDOW_REACH = 4096  # how far a window reaches along one very long (minified) line
WHOLE_TEXT_SHARE = 0.5  # windows covering more than this: scan the whole text instead


class KeywordWindows:
    """Merged (start, end) spans around keyword occurrences, computed once per keyword per chunk."""

    def __init__(self, text: str) -> None:
        self.text = text
        lowered = text.lower()
        # A few characters change length when lowered; offsets would drift, so fall back.
        self.lowered = lowered if len(lowered) == len(text) else None
        self._by_keyword: dict[str, list[tuple[int, int]]] = {}

    def for_rule(self, rule: Rule) -> list[tuple[int, int]]:
        whole = [(0, len(self.text))]
        if self.lowered is None or rule.spans_lines:
            return whole
        spans = merge(span for keyword in rule.keywords for span in self._keyword(keyword))
        if sum(end - start for start, end in spans) > WHOLE_TEXT_SHARE * len(self.text):
            return whole
        return spans

    def _keyword(self, keyword: str) -> list[tuple[int, int]]:
        if keyword not in self._by_keyword:
            assert self.lowered is not None
            text, lowered, spans = self.text, self.lowered, []
            position = lowered.find(keyword)
            while position >= 0:
                spans.append(line_window(text, position, position + len(keyword)))
                position = lowered.find(keyword, position + len(keyword))
            self._by_keyword[keyword] = merge(spans)
        return self._by_keyword[keyword]


def line_window(text: str, start: int, end: int) -> tuple[int, int]:
    """From the start of the line before `start` to the end of the line after `end`, within reach."""
    low, high = max(0, start - WINDOW_REACH), min(len(text), end + WINDOW_REACH)
    newline = text.rfind("\n", low, start)
    if newline >= 0:
        newline = text.rfind("\n", low, newline)
    window_start = newline + 1 if newline >= 0 else low
    newline = text.find("\n", end, high)
    if newline >= 0:
        newline = text.find("\n", newline + 1, high)
    return window_start, newline if newline >= 0 else high


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _candidate(rule: Rule, match: regex.Match[str], keep_rejected: bool) -> Candidate | None:
    start, end = match.span(1)
    if start < 0:
        return None  # the secret group sits in an alternative that did not take part
    secret = match.group(1)
    reason = rejection(rule, secret)
    if reason is not None and not keep_rejected:
        return None
    return Candidate(rule, secret, start, end, *match.span(), rejected=reason)


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
