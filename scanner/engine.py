"""Prefilter → rule regex → secret group → length/entropy/validator checks → overlap resolution."""

from __future__ import annotations

from dataclasses import dataclass

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
        found: list[Candidate] = []
        for rule in self.candidate_rules(text):
            if not rule.applies_to(path):
                continue
            for match in rule.regex.finditer(text):
                start, end = match.span(1)
                if start < 0:
                    continue  # the secret group sits in an alternative that did not take part
                candidate = Candidate(rule, match.group(1), start, end, *match.span())
                reason = rejection(rule, candidate.secret)
                if reason is None:
                    found.append(candidate)
                elif keep_rejected:
                    found.append(Candidate(rule, candidate.secret, start, end, *match.span(), rejected=reason))
        return resolve_overlaps(found)


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
    wants one finding, named for the provider. Ties go to the longer secret, then rule order.
    """
    accepted = [c for c in candidates if c.rejected is None]
    rejected = [c for c in candidates if c.rejected is not None]
    order = {id(c.rule): i for i, c in enumerate(accepted)}
    ranked = sorted(accepted, key=lambda c: (c.rule.generic, -(c.end - c.start), order[id(c.rule)], c.start))
    kept: list[Candidate] = []
    for candidate in ranked:
        if not any(candidate.start < k.end and k.start < candidate.end for k in kept):
            kept.append(candidate)
    kept.sort(key=lambda c: (c.start, c.rule.id))
    return kept + rejected
