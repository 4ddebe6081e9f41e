"""Where in a chunk each rule runs: windows around the places it could match.

In a large chunk a rule's regex runs only on the lines around its places (one line either side;
a wider reach for multi-line rules) instead of over every byte. The places are the ends of its
Hyperscan form's matches (candidates.py) where those are available, else its keyword hits.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING


from scanner.prefilter import keyword_hits
from scanner.rules import Rule

if TYPE_CHECKING:
    import regex

# How far a window reaches along one very long (minified) line: names sit just before their
# values, and values are at most ~1 KB (multi-line rules reach MULTILINE_REACH instead).
REACH_BEFORE = 512
REACH_AFTER = 1536
WHOLE_TEXT_SHARE = 0.9  # windows covering more than this: scan the whole text instead (same cost per byte)
WINDOW_GAP = 256  # windows closer than this are searched as one
MULTILINE_REACH = 20_000  # multi-line rules: the longest match a rule allows (a 16 KB key block) and more
JOINER = "\n"
MARGIN = 256  # past a rule's longest match: context for its look-arounds


# Every rule regex runs under a timeout (the regex module's, over the whole pass): a crafted input
# must not stall a scan. Linear patterns search a few MB/s at worst, so the budget grows with the text.
REGEX_TIMEOUT_BASE_S = 2.0
REGEX_TIMEOUT_PER_MB_S = 1.0


def regex_timeout(chars: int) -> float:
    return REGEX_TIMEOUT_BASE_S + REGEX_TIMEOUT_PER_MB_S * chars / 1_000_000


class Windows:
    """Per chunk: each rule's windows, and its matches in them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._cached: dict[object, list[tuple[int, int]] | None] = {}

    def matches(self, rule: Rule) -> Iterator[tuple[regex.Match[str], int]]:
        """The rule's matches in its windows, each with the shift that maps it onto the chunk."""
        text = self.text
        spans = self.rule_spans(rule)
        if spans is None:
            return ((m, 0) for m in rule.regex.finditer(text, timeout=regex_timeout(len(text))))
        if rule.spans_lines or "(?<=" in rule.pattern:
            # A look-behind may reach before its window (constructor arguments over several lines):
            # search the chunk itself between the window's bounds, so it sees what it would see.
            return ((m, 0) for a, b in spans for m in rule.regex.finditer(text, a, b, timeout=regex_timeout(b - a)))
        return FocusedText(text, spans).matches(rule)

    def rule_spans(self, rule: Rule) -> list[tuple[int, int]] | None:
        """None when the windows would cover most of the chunk anyway."""
        wide = rule.spans_lines
        if wide and len(self.text) <= 2 * MULTILINE_REACH:
            return None  # one wide window would hold it all
        cache_key = self.cache_key(rule)
        if cache_key not in self._cached:
            spans = self.wide_spans(rule) if wide else self.line_spans(rule)
            covered = spans is None or sum(b - a for a, b in spans) > WHOLE_TEXT_SHARE * len(self.text)
            self._cached[cache_key] = None if covered else spans
        return self._cached[cache_key]

    def wide_spans(self, rule: Rule) -> list[tuple[int, int]] | None:
        """For rules whose matches span lines (key blocks, key id and secret pairs): a fixed
        reach either side of each place that holds the longest match they allow."""
        size = len(self.text)
        return merge((max(0, p - MULTILINE_REACH), min(size, p + MULTILINE_REACH)) for p in self.places(rule))

    def cache_key(self, rule: Rule) -> object:
        raise NotImplementedError

    def line_spans(self, rule: Rule) -> list[tuple[int, int]] | None:
        raise NotImplementedError

    def places(self, rule: Rule) -> Iterable[int]:
        raise NotImplementedError


class CandidateWindows(Windows):
    """Windows around the places each rule could match (its Hyperscan form's match ends)."""

    def __init__(
        self, text: str, ends: dict[int, list[int]], rules: list[Rule], reach: dict[int, tuple[int, int]] | None = None,
        index: dict[int, int] | None = None,
    ) -> None:
        """`ends` and `reach` are keyed by the rule's position in `rules`; `reach`: how far its matches
        reach before and after a place (else the defaults); `index`: id(rule) -> position, made once
        per engine (made per chunk, it cost ~1 s of a history scan)."""
        super().__init__(text)
        self._ends = ends
        self._reach = reach or {}
        self._index = index if index is not None else {id(rule): i for i, rule in enumerate(rules)}

    def cache_key(self, rule: Rule) -> object:
        return id(rule)

    def places(self, rule: Rule) -> Iterable[int]:
        return self._ends.get(self._index[id(rule)], ())

    def line_spans(self, rule: Rule) -> list[tuple[int, int]] | None:
        # A place lies inside its match (the form's tail may be cut short): along a long line the
        # window reaches back as far as the rule's longest match (at most as far as a keyword
        # window reaches either side) and forward as far as the match may go on past the place.
        # Close windows become one (fewer regex calls, a few more bytes).
        before, after = REACH_BEFORE + REACH_AFTER, REACH_AFTER
        reach = self._reach.get(self._index[id(rule)])
        if reach is not None:
            longest_before, longest_after = reach
            before, after = min(before, longest_before + MARGIN), min(after, longest_after + MARGIN)
        ends = (end - 1 for end in self.places(rule))
        return merge(hit_windows(self.text, ends, 1, before=before, after=after), WINDOW_GAP)

    def matches(self, rule: Rule) -> Iterator[tuple[regex.Match[str], int]]:
        """Only matches holding a place: every match in the chunk does, while one that a window's
        cut edge made up (a run begun before the window) need not."""
        places = sorted(self.places(rule))
        for match, shift in super().matches(rule):
            first = bisect.bisect_left(places, match.start() + shift)
            if first < len(places) and places[first] <= match.end() + shift:
                yield match, shift


class KeywordWindows(Windows):
    """Windows around each keyword's hits, found once and shared by the rules."""

    def __init__(self, text: str, known: dict[str, list[int]] | None = None) -> None:
        """`known`: each keyword's end offsets, when the prefilter found them already."""
        super().__init__(text)
        self.known = known
        self.lowered: str | None = None
        if known is None:
            lowered = text.lower()
            # A few characters change length when lowered; offsets would drift, so fall back.
            self.lowered = lowered if len(lowered) == len(text) else None
        self._by_keyword: dict[str, list[tuple[int, int]]] = {}

    def cache_key(self, rule: Rule) -> object:
        return rule.keywords  # rules often share keywords

    def places(self, rule: Rule) -> Iterable[int]:
        return (hit for keyword in rule.keywords for hit in self._hits(keyword))

    def line_spans(self, rule: Rule) -> list[tuple[int, int]] | None:
        if self.known is None and self.lowered is None:
            return None
        return merge((span for keyword in rule.keywords for span in self._keyword_spans(keyword)), WINDOW_GAP)

    def wide_spans(self, rule: Rule) -> list[tuple[int, int]] | None:
        if self.known is None and self.lowered is None:
            return None
        return super().wide_spans(rule)

    def _hits(self, keyword: str) -> Iterable[int]:
        if self.known is not None:
            return (end - len(keyword) for end in self.known.get(keyword, ()))
        assert self.lowered is not None
        return keyword_hits(self.lowered, keyword)

    def _keyword_spans(self, keyword: str) -> list[tuple[int, int]]:
        if keyword not in self._by_keyword:
            self._by_keyword[keyword] = merge(hit_windows(self.text, self._hits(keyword), len(keyword)))
        return self._by_keyword[keyword]


class FocusedText:
    """Windows of a chunk joined into one text (one regex pass), with a map back to the chunk.

    Windows begin and end at line breaks, and are joined by a line break, so anchors and
    look-behinds see what they would see in the chunk."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        self.text = JOINER.join(text[a:b] for a, b in spans)
        self.starts: list[int] = []  # where each span begins in self.text
        position = 0
        for a, b in spans:
            self.starts.append(position)
            position += b - a + len(JOINER)

    def matches(self, rule: Rule) -> Iterator[tuple[regex.Match[str], int]]:
        """Matches inside one window, each with the shift that maps it back onto the chunk."""
        for match in rule.regex.finditer(self.text, timeout=regex_timeout(len(self.text))):
            index = bisect.bisect_right(self.starts, match.start()) - 1
            a, b = self.spans[index]
            shift = a - self.starts[index]
            if match.end() + shift <= b:  # a match straddling two windows is not in the chunk
                yield match, shift


def hit_windows(
    text: str, hits: Iterable[int], length: int, *, before: int = REACH_BEFORE, after: int = REACH_AFTER
) -> Iterator[tuple[int, int]]:
    """Line windows around hits (in order); hits on lines a window already holds add nothing."""
    resume = -1
    for position in hits:
        if position < resume:
            continue
        start, end = line_window(text, position, position + length, before=before, after=after)
        yield start, end
        resume = text.rfind("\n", position, end) + 1 if end > position else position + 1


def line_window(
    text: str, start: int, end: int, *, before: int = REACH_BEFORE, after: int = REACH_AFTER
) -> tuple[int, int]:
    """From the start of the line before `start` to the end of the line after `end`, within reach."""
    low, high = max(0, start - before), min(len(text), end + after)
    newline = text.rfind("\n", low, start)
    if newline >= 0:
        newline = text.rfind("\n", low, newline)
    window_start = newline + 1 if newline >= 0 else low
    newline = text.find("\n", end, high)
    if newline >= 0:
        newline = text.find("\n", newline + 1, high)
    return window_start, newline if newline >= 0 else high


def merge(spans: Iterable[tuple[int, int]], gap: int = 0) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans; spans less than `gap` apart are joined too."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
