"""Reporters: pure functions from a Report to text. The registry is written out, not discovered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath

from scanner.errors import UsageError
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

# `-o FILE` without --format: the format its name says. Longest suffix first; case does not matter.
# A name without any extension (a device such as /dev/null, `-`) gets --format's default, text.
EXTENSIONS: dict[str, str] = {
    ".gitlab.json": "gitlab",  # also GitLab's usual artifact name, below
    ".sarif.json": "sarif",
    ".sarif": "sarif",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xml": "junit",
    ".txt": "text",
}
GITLAB_ARTIFACT = "gl-secret-detection-report.json"


def render(report: Report, fmt: str, *, redact: bool, color: bool = False, finished_at: datetime | None = None,
           target: str | None = None) -> str:
    if fmt in DATED:
        return REPORTERS[fmt](report, redact=redact, color=color, finished_at=finished_at, target=target)
    return REPORTERS[fmt](report, redact=redact, color=color)


def format_for_path(path: PurePath | str) -> str | None:
    """The format a report file's name asks for; None for a name with no extension.

    Raises UsageError for an extension that names no format we write."""
    name = PurePath(path).name.lower()
    if name == GITLAB_ARTIFACT:
        return "gitlab"
    for suffix, fmt in EXTENSIONS.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return fmt
    suffix = PurePath(name).suffix
    if not suffix:
        return None
    known = ", ".join(sorted(EXTENSIONS))
    raise UsageError(f"{path}: cannot tell the report format from '{suffix}'; name the file with one of {known} "
                     f"(or {GITLAB_ARTIFACT}), or choose one with --format")
