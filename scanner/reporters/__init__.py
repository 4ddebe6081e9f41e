"""Reporters: pure functions from a Report to text. The registry is written out, not discovered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from scanner.report import Report
from scanner.reporters import csv, gitlab, html, json, junit, sarif, text

Renderer = Callable[..., str]

REPORTERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
    "jsonl": json.render_lines,
    "sarif": sarif.render,
    "csv": csv.render,
    "html": html.render,
    "junit": junit.render,
    "gitlab": gitlab.render,
}
# Formats that say when the scan ran and what it covered; the caller passes both (a reporter
# does not read the clock), so the others stay pure functions of the findings.
DATED = frozenset({"html", "junit", "gitlab"})


def render(report: Report, fmt: str, *, redact: bool, color: bool = False, finished_at: datetime | None = None,
           target: str | None = None) -> str:
    if fmt in DATED:
        return REPORTERS[fmt](report, redact=redact, color=color, finished_at=finished_at, target=target)
    return REPORTERS[fmt](report, redact=redact, color=color)
