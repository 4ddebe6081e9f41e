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
from scanner.lines import line_starts
from scanner.finding import Finding
from scanner.report import ScanStats
from scanner.sources.stream import OVERLAP_CHARS, WINDOW_CHARS, Window, end_position, in_overlap, shift_first_line, windows

# A JSON string escape, or a percent-encoded byte; each decodes to one character.
ESCAPE = re.compile(r'\\(?:u(?P<unicode>[0-9a-fA-F]{4})|(?P<simple>["\\/bfnrt]))|%(?P<percent>[0-9a-fA-F]{2})')
UNICODE_ESCAPE = re.compile(r"\\u(?P<unicode>[0-9a-fA-F]{4})(?P<simple>)(?P<percent>)")
PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
PERCENT_CHARS = {  # %xx (any case) of printable ASCII -> the character: one dict lookup per escape
    f"%{high}{low}": chr(value)
    for value in range(0x20, 0x7F)
    for high in {f"{value:02x}"[0], f"{value:02X}"[0]}
    for low in {f"{value:02x}"[1], f"{value:02X}"[1]}
}
SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": " ", "r": " ", "t": " "}
SIMPLE_PAIRS = [("\\" + raw, char) for raw, char in SIMPLE_ESCAPES.items() if raw != "\\"]
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
        kinds.append(PERCENT if match.group("percent") else JSON_ESCAPE)
        last = end
    if not marks:
        return Unescaped(text)
    parts.append(text[last:])
    return Unescaped("".join(parts), marks, removed, kinds)


def decode_escapes(text: str) -> str:
    """`unescape(text).text`, fast: with no doubled backslash, escapes cannot overlap, so plain
    `str.replace` decodes the common ones, and a regex pass is left for `\\uXXXX` and `%XX`."""
    backslash, percent = "\\" in text, "%" in text
    if not backslash and not percent:
        return text
    if "\\\\" in text or ("\\u" in text and percent):
        return ESCAPE.sub(_replacement, text)  # where the order of decoding matters: the exact pass
    if backslash:
        for raw, char in SIMPLE_PAIRS:
            if raw in text:
                text = text.replace(raw, char)
        if "\\u" in text:
            text = UNICODE_ESCAPE.sub(_replacement, text)
    if percent:
        text = PERCENT_ESCAPE.sub(_percent, text)
    return text


def _percent(match: re.Match[str]) -> str:
    escape = match.group(0)
    return PERCENT_CHARS.get(escape, escape)


def _replacement(match: re.Match[str]) -> str:
    decoded = _decode(match)
    return match.group(0) if decoded is None else decoded


def _decode(match: re.Match[str]) -> str | None:
    unicode, simple, percent = match.group("unicode", "simple", "percent")
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
        boundary = end_position(decode_escapes(window.text[: window.overlap]))
        yield Chunk(
            text=decode_escapes(window.text), path=path, source=source, line_offset=window.line_offset,
            fs_path=fs_path, extra=dict(extra or {}), relocate=LogLocator(window, boundary, timestamps=source == "log"),
        )


class LogLocator:
    """Drops a window's overlap findings, maps columns to the raw line, adds the line's timestamp.

    Escapes never span lines and decode to one character each, so the decoded window has the raw
    window's lines; a finding's line is unescaped again, alone, to map its columns back.
    """

    def __init__(self, window: Window, boundary: tuple[int, int], *, timestamps: bool) -> None:
        self.window = window
        self.boundary = boundary
        self.timestamps = timestamps
        self._line_starts: list[int] | None = None

    def __call__(self, finding: Finding) -> Finding | None:
        window = self.window
        if in_overlap(finding, window.line_offset, self.boundary):
            return None
        extra = dict(finding.extra)
        first = self.raw_line(finding.line - window.line_offset)
        start = unescape(first)
        end = start if finding.end_line == finding.line else unescape(self.raw_line(finding.end_line - window.line_offset))
        if start.marks or end.marks:
            finding = finding.replace(column=start.raw_offset(finding.column - 1) + 1,
                                      end_column=end.raw_offset(finding.end_column - 1) + 1)
            kinds = sorted(set(start.kinds) | set(end.kinds))
            extra["decoded"] = ", ".join(kinds)
        finding = shift_first_line(finding, window.line_offset, window.column_offset)
        if self.timestamps:
            head = window.line_head if finding.line == window.line_offset + 1 and window.line_head else first
            stamp = parse_timestamp(head)
            if stamp:
                extra["timestamp"] = stamp
        return finding.replace(extra=extra)

    def raw_line(self, line: int) -> str:
        """The window's 1-based line as read, without its newline."""
        text = self.window.text
        if self._line_starts is None:
            self._line_starts = line_starts(text)
        begin = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(text)
        return text[begin:end]


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
