"""Chunk → engine candidates → located findings → the filter stage. Every source funnels through here."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Candidate, Engine
from scanner.filters import stage
from scanner.finding import Finding, FindingContext

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

    def scan(self, chunk: Chunk) -> list[Finding]:
        candidates = self.engine.find(chunk.text, chunk.path, keep_rejected=self.keep_suppressed)
        if not candidates:
            return []
        rel_path = self.config.relative(chunk.fs_path) if chunk.fs_path else chunk.path
        findings = []
        for candidate, position in zip(candidates, positions(chunk.text, candidates)):
            finding = self._finding(chunk, candidate, position, rel_path)
            if chunk.relocate is not None:  # locators only locate (or drop a duplicate seen twice)
                relocated = chunk.relocate(finding)
                if relocated is None:
                    continue
                finding = relocated
            finding = stage.apply(finding, self.filters)
            if finding.suppressed is None or self.keep_suppressed:
                findings.append(finding.replace(context=None))
        return findings

    def _finding(self, chunk: Chunk, c: Candidate, position: tuple[int, int, int, int], rel_path: str) -> Finding:
        text = chunk.text
        line, column, end_line, end_column = position
        # The match's line(s), within reach: an allow comment belongs near what it allows, and a
        # minified bundle's one line is megabytes long.
        low, high = max(0, c.match_start - LINE_REACH), min(len(text), c.match_end + LINE_REACH)
        line_start = text.rfind("\n", low, c.match_start) + 1 or low
        line_end = text.find("\n", c.match_end, high)
        lines = text[line_start : high if line_end < 0 else line_end]
        context = FindingContext(c.rule, rel_path, text[c.match_start : c.match_end], lines)
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
            context_before=context_before(text, c.start),
            context_after=context_after(text, c.end),
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


def context_before(text: str, start: int) -> str:
    """The secret's line before it, cut to a window so a minified line is never shown whole."""
    line_start = max(text.rfind("\n", 0, start) + 1, start - SNIPPET_CONTEXT)
    return text[line_start:start].lstrip()


def context_after(text: str, end: int) -> str:
    line_end = text.find("\n", end)
    return text[end : min(len(text) if line_end < 0 else line_end, end + SNIPPET_CONTEXT)].rstrip()
