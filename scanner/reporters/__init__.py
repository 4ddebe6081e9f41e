"""Reporters: pure functions from a Report to text. The registry is written out, not discovered."""

from __future__ import annotations

from collections.abc import Callable

from scanner.report import Report
from scanner.reporters import csv, json, sarif, text

Renderer = Callable[..., str]

REPORTERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
    "jsonl": json.render_lines,
    "sarif": sarif.render,
    "csv": csv.render,
}


def render(report: Report, fmt: str, *, redact: bool, color: bool = False) -> str:
    return REPORTERS[fmt](report, redact=redact, color=color)
