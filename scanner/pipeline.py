"""Chunk → engine candidates → located findings → the filter stage. Every source funnels through here."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Candidate, Engine
from scanner.filters import stage
from scanner.finding import Finding, FindingContext
from scanner.report import ScanStats
from scanner.rules import Rule

LINE_REACH = 1024  # how much of a long line the allow filters look at, either side of a match
SNIPPET_CONTEXT = 60  # characters either side of the secret; a minified line is never shown whole


@dataclass(frozen=True)
class Scanner:
    """What every source needs to turn text into findings."""

    engine: Engine
    config: Config
    keep_suppressed: bool = False
    notices: tuple[str, ...] = ()  # what the config or rules asked for and was ignored, for stderr

    @functools.cached_property
    def filters(self) -> tuple[stage.Filter, ...]:
        return stage.scan_filters(self.config)

    def __getstate__(self) -> dict[str, object]:
        """For spawned workers: the filters are rebuilt there (they close over the config)."""
        return {k: v for k, v in self.__dict__.items() if k != "filters"}

    def scan(self, chunk: Chunk, stats: ScanStats | None = None) -> list[Finding]:
        """The chunk's findings (suppressed ones too with keep_suppressed); a rule that runs out of
        time on it is a warning in `stats`, and the rest of the chunk is still scanned."""

        def timed_out(rule: Rule) -> None:
            if stats is not None:
                stats.skipped["regex timeout"] += 1
                stats.warnings.append(f"{chunk.path}: rule '{rule.id}' ran out of time on this input and was "
                                      "stopped there; the other rules scanned it in full")

        # Rejected candidates come back too: a snippet must mask every secret-shaped span near it,
        # whatever later happens to that span's own finding.
        candidates = self.engine.find(chunk.text, chunk.path, keep_rejected=True, on_timeout=timed_out)
        if not candidates:
            return []
        rel_path = self.config.relative(chunk.fs_path) if chunk.fs_path else chunk.path
        spans = SecretSpans(candidates)
        findings = []
        for candidate, position in zip(candidates, positions(chunk.text, candidates)):
            if candidate.rejected is not None and not self.keep_suppressed:
                continue
            finding = self._finding(chunk, candidate, position, rel_path, spans)
            if chunk.relocate is not None:  # locators only locate (or drop a duplicate seen twice)
                relocated = chunk.relocate(finding)
                if relocated is None:
                    continue
                finding = relocated
            finding = stage.apply(finding, self.filters)
            if finding.suppressed is None or self.keep_suppressed:
                findings.append(finding.replace(context=None))
        return findings

    def _finding(self, chunk: Chunk, c: Candidate, position: tuple[int, int, int, int], rel_path: str,
                 spans: SecretSpans) -> Finding:
        text = chunk.text
        line, column, end_line, end_column = position
        # The match's line(s), within reach: an allow comment belongs near what it allows, and a
        # minified bundle's one line is megabytes long.
        low, high = max(0, c.match_start - LINE_REACH), min(len(text), c.match_end + LINE_REACH)
        line_start = text.rfind("\n", low, c.match_start) + 1 or low
        line_end = text.find("\n", c.match_end, high)
        lines = text[line_start : high if line_end < 0 else line_end]
        context = FindingContext(c.rule, rel_path, text[c.match_start : c.match_end], lines)
        before, after = snippet_window(text, c.start, c.end, spans)
        return Finding(
            rule_id=c.rule.id,
            rule_name=c.rule.name,
            description=c.rule.description,
            severity=c.rule.severity,
            confidence=c.rule.confidence,
            provider=c.rule.provider,
            secret=c.secret,
            path=chunk.path,
            line=line + chunk.line_offset,
            column=column,
            end_line=end_line + chunk.line_offset,
            end_column=end_column,
            source=chunk.source,
            commit=chunk.commit,
            context_before=text[before : c.start].lstrip(),
            context_after=text[c.end : after].rstrip(),
            nearby_secrets=spans.secrets_within(before, after, c),
            tags=c.rule.tags,
            suppressed=c.rejected,  # filter 1: the rule's own checks
            extra=dict(chunk.extra),
            context=context,
        )


def positions(text: str, candidates: Iterable[Candidate]) -> list[tuple[int, int, int, int]]:
    """1-based (line, column, end line, end column) of each secret, counting newlines incrementally."""
    cache: dict[int, tuple[int, int]] = {}
    offsets = sorted({o for c in candidates for o in (c.start, c.end)})
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        cache[offset] = (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)
    return [(*cache[c.start], *cache[c.end]) for c in candidates]


class SecretSpans:
    """Where the chunk's candidate secrets are (every one, whatever filters do with it), for snippets."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.spans = sorted({(c.start, c.end, c.secret) for c in candidates})
        self.starts = [start for start, _, _ in self.spans]

    def around(self, low: int, high: int) -> list[tuple[int, int, str]]:
        """Spans that reach into [low, high) (a secret is at most a few KB long)."""
        first = bisect.bisect_left(self.starts, low - MAX_SECRET_REACH)
        last = bisect.bisect_left(self.starts, high)
        return [span for span in self.spans[first:last] if span[1] > low]

    def secrets_within(self, low: int, high: int, own: Candidate) -> tuple[str, ...]:
        return tuple(sorted({secret for start, end, secret in self.around(low, high)
                             if (start, end) != (own.start, own.end) and secret != own.secret}))


MAX_SECRET_REACH = 32_768  # longer than any secret a rule captures (a PEM key block is ~3 KB)


def snippet_window(text: str, start: int, end: int, spans: SecretSpans) -> tuple[int, int]:
    """Where the snippet around text[start:end] begins and ends: the secret's line, cut to a window
    (a minified line is never shown whole), and never cut inside another secret (its tail or head
    would be shown in clear): the window stops short of it instead."""
    low = max(0, start - SNIPPET_CONTEXT)
    newline = text.rfind("\n", low, start)
    low = newline + 1 if newline >= 0 else low
    high = min(len(text), end + SNIPPET_CONTEXT)
    newline = text.find("\n", end, high)
    high = newline if newline >= 0 else high
    for other_start, other_end, _ in spans.around(low, high):
        if other_start < low < other_end:
            low = min(other_end, start)
        if other_start < high < other_end:
            high = max(other_start, end)
    return low, high
