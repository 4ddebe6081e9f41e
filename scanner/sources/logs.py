"""Logs: plain, JSON lines and access logs, rotated and compressed, streamed in bounded memory.

Before matching, each window is unescaped the way logs hide keys: JSON string escapes
(`\\"Authorization\\": \\"Bearer …\\"`, `\\u0026api_key=`) and URL percent-encoding (`api_key%3Dsk_…`)
are decoded, one character for each escape sequence, so a finding's line is the log's line and
its columns are mapped back to the raw text. Each finding carries the timestamp of its line when
one can be parsed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TextIO

from scanner.chunk import Chunk
from scanner.finding import Finding
from scanner.report import ScanStats
from scanner.sources.stream import OVERLAP_CHARS, WINDOW_CHARS, Window, end_position, in_overlap, shift_first_line, windows

# A JSON string escape, or a percent-encoded byte; each decodes to one character.
ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))|%([0-9a-fA-F]{2})')
SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": " ", "r": " ", "t": " "}
JSON_ESCAPE, PERCENT = "json-escape", "percent-encoding"

TIMESTAMP_SPAN = 256  # a line's timestamp is looked for in its first characters
ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2})?")
CLF = re.compile(r"\[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]")  # nginx/Apache common log format
EPOCH = re.compile(r'"(?:ts|time|timestamp|@timestamp)"\s*:\s*(\d{10}(?:\.\d+)?)\b')
SYSLOG = re.compile(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})\b")  # no year: kept as written


@dataclass(frozen=True)
class Unescaped:
    """Text with escapes decoded, and how to map its offsets back to the raw text."""

    text: str
    marks: list[int] = field(default_factory=list)  # decoded offsets just past each escape
    removed: list[int] = field(default_factory=list)  # raw characters dropped up to that escape
    kinds: list[str] = field(default_factory=list)

    def raw_offset(self, offset: int) -> int:
        index = bisect.bisect_right(self.marks, offset)
        return offset + (self.removed[index - 1] if index else 0)

    def kinds_between(self, start: int, end: int) -> list[str]:
        low, high = bisect.bisect_right(self.marks, start), bisect.bisect_right(self.marks, end)
        return sorted(set(self.kinds[low:high]))


def unescape(text: str) -> Unescaped:
    if "\\" not in text and "%" not in text:
        return Unescaped(text)
    parts: list[str] = []
    marks: list[int] = []
    removed: list[int] = []
    kinds: list[str] = []
    last = length = dropped = 0
    for match in ESCAPE.finditer(text):
        decoded = _decode(match)
        if decoded is None:
            continue
        start, end = match.span()
        parts.append(text[last:start])
        parts.append(decoded)
        length += start - last + 1
        dropped += end - start - 1
        marks.append(length)
        removed.append(dropped)
        kinds.append(PERCENT if match.group(3) else JSON_ESCAPE)
        last = end
    if not marks:
        return Unescaped(text)
    parts.append(text[last:])
    return Unescaped("".join(parts), marks, removed, kinds)


def _decode(match: re.Match[str]) -> str | None:
    unicode, simple, percent = match.groups()
    if percent:
        value = int(percent, 16)
        return chr(value) if 0x20 <= value < 0x7F else None  # keys are ASCII; leave UTF-8 bytes encoded
    if simple:
        return SIMPLE_ESCAPES[simple]
    code = int(unicode, 16)
    return " " if code < 0x20 or 0xD800 <= code < 0xE000 else chr(code)  # keep lines whole


def log_chunks(
    stream: TextIO, *, path: str, fs_path: str | None, stats: ScanStats, source: str = "log",
    size: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS, extra: dict[str, str] | None = None,
) -> Iterator[Chunk]:
    """Windows of the stream, unescaped, as chunks whose findings point into the raw log."""
    for window in windows(stream, size=size, overlap=overlap):
        stats.bytes_scanned += len(window.text) - window.overlap
        decoded = unescape(window.text)
        boundary = end_position(unescape(window.text[: window.overlap]).text)
        yield Chunk(
            text=decoded.text, path=path, source=source, line_offset=window.line_offset, fs_path=fs_path,
            extra=dict(extra or {}), relocate=LogLocator(window, decoded, boundary, timestamps=source == "log"),
        )


class LogLocator:
    """Drops a window's overlap findings, maps columns to the raw line, adds the line's timestamp."""

    def __init__(self, window: Window, decoded: Unescaped, boundary: tuple[int, int], *, timestamps: bool) -> None:
        self.window = window
        self.decoded = decoded
        self.boundary = boundary
        self.timestamps = timestamps
        self._line_starts: list[int] | None = None

    def __call__(self, finding: Finding) -> Finding | None:
        window = self.window
        if in_overlap(finding, window.line_offset, self.boundary):
            return None
        extra = dict(finding.extra)
        line_start = self.line_start(finding.line - window.line_offset)
        if self.decoded.marks:
            finding, kinds = self._raw_columns(finding)
            if kinds:
                extra["decoded"] = ", ".join(kinds)
        finding = shift_first_line(finding, window.line_offset, window.column_offset)
        if self.timestamps:
            line = self.decoded.text[line_start : line_start + TIMESTAMP_SPAN].partition("\n")[0]
            if finding.line == window.line_offset + 1 and window.line_head:
                line = window.line_head
            stamp = parse_timestamp(line)
            if stamp:
                extra["timestamp"] = stamp
        return finding.replace(extra=extra)

    def _raw_columns(self, finding: Finding) -> tuple[Finding, list[str]]:
        decoded, offset = self.decoded, self.window.line_offset
        start_line = self.line_start(finding.line - offset)
        end_line = self.line_start(finding.end_line - offset)
        start = start_line + finding.column - 1
        end = end_line + finding.end_column - 1
        column = decoded.raw_offset(start) - decoded.raw_offset(start_line) + 1
        end_column = decoded.raw_offset(end) - decoded.raw_offset(end_line) + 1
        line_end = decoded.text.find("\n", end)
        kinds = decoded.kinds_between(start_line, len(decoded.text) if line_end < 0 else line_end)
        return finding.replace(column=column, end_column=end_column), kinds

    def line_start(self, line: int) -> int:
        """Offset in the decoded window of its 1-based line."""
        if self._line_starts is None:
            text = self.decoded.text
            starts = [0]
            position = text.find("\n")
            while position >= 0:
                starts.append(position + 1)
                position = text.find("\n", position + 1)
            self._line_starts = starts
        return self._line_starts[line - 1]


def parse_timestamp(line: str) -> str | None:
    """The line's timestamp in ISO 8601 (syslog's year-less stamps as written), or None."""
    head = line[:TIMESTAMP_SPAN]
    match = ISO.search(head)
    if match:
        date, clock, fraction, zone = match.groups()
        text = f"{date}T{clock}" + (f".{fraction[:6].ljust(6, '0')}" if fraction else "")
        if zone:
            text += "+00:00" if zone == "Z" else (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}")
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            return None
    match = CLF.search(head)
    if match:
        try:
            return datetime.strptime(match.group(1), "%d/%b/%Y:%H:%M:%S %z").isoformat()
        except ValueError:
            return None
    match = EPOCH.search(head)
    if match:
        return datetime.fromtimestamp(float(match.group(1)), timezone.utc).isoformat()
    match = SYSLOG.match(head)
    return match.group(1) if match else None


# A log line starts with a timestamp, an access-log prefix or a level, or is a JSON object with log keys.
LOG_LINE = re.compile(
    r"""^(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}                   # ISO 8601: 2024-05-01T12:00
       |\S+\ \S+\ \S+\ \[\d{2}/[A-Z][a-z]{2}/\d{4}:                  # nginx/Apache: 1.2.3.4 - - [01/May/2024:
       |[A-Z][a-z]{2}\ [\ \d]\d\ \d{2}:\d{2}:\d{2}\                  # syslog: May  1 12:00:00
       |[IWEF]\d{4}\ \d{2}:\d{2}:\d{2}\.\d+                          # klog: I0501 12:00:00.123456
       |\[?(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\]?[\s:]  # level first
       |(?:time|ts|level)=                                           # logfmt
       |\{.{0,200}?"(?:level|msg|message|time|ts|timestamp|@timestamp|severity|log)"\s*:)  # JSON lines
    """,
    re.VERBOSE,
)


def looks_like_log(head: str) -> bool:
    """Most of the first few non-empty lines look like log lines."""
    lines = [line for line in head.splitlines()[:8] if line.strip()][:5]
    if len(head) >= 4096 and len(lines) > 1:
        lines = lines[:-1]  # the last may be cut short
    return bool(lines) and sum(1 for line in lines if LOG_LINE.match(line)) * 2 > len(lines)
