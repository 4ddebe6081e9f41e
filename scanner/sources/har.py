"""HAR captures (browser network exports): every request's URL, headers, query string, cookies and
post data, and every response's headers, cookies and text content.

Each value is scanned as its own chunk (`Name: value` for headers, so header rules match) after
JSON-unescaping and percent-decoding (scanner/sources/logs.py `unescape`); findings point at the
value's place in the HAR file and name the entry (method and URL, redacted) and the header.
Format: http://www.softwareishard.com/blog/har-12-spec/
"""

from __future__ import annotations

import bisect
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scanner.chunk import Chunk
from scanner.lines import line_starts
from scanner.finding import Finding
from scanner.output import redact
from scanner.report import ScanStats
from scanner.sources.logs import Unescaped, unescape

SHORT_VALUE = 8  # query values shorter than this (page=2, limit=50) are shown; no key is that short
KEY_LIKE_SEGMENT = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[\w.:-]{20,}$")  # a path segment that may be a token


@dataclass(frozen=True)
class Field:
    name: str  # request.header, request.query, request.cookie, request.postData, response.header, ...
    key: str | None  # the header, parameter or cookie name
    prefix: str  # put before the value so rules keyed on the name match (`Authorization: `)
    value: str


def har_chunks(text: str, *, path: str, fs_path: str | None, stats: ScanStats) -> Iterator[Chunk]:
    entries = _entries(text)
    if entries is None:
        stats.warnings.append(f"{path}: not a HAR capture (no log.entries); scanned as text")
        stats.bytes_scanned += len(text)
        yield Chunk(text=text, path=path, source="file", fs_path=fs_path)
        return
    stats.bytes_scanned += len(text)
    lines = LineIndex(text)
    cursor = 0
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        request = _dict(entry.get("request"))
        url = str(request.get("url", ""))
        found = _find(text, url, cursor)
        cursor = found[0] if found else cursor
        seen: set[tuple[str, str]] = set()  # a key in the URL and again in queryString is one finding
        extra = {"har_entry": f"{request.get('method', '?')} {redact_url(url)}"}
        if isinstance(entry.get("startedDateTime"), str):
            extra["timestamp"] = entry["startedDateTime"]
        for field in fields(entry):
            located = _find(text, field.value, cursor)
            raw_start, raw = located if located else (cursor, json.dumps(field.value)[1:-1])
            decoded = unescape(raw)
            field_extra = {**extra, "har_field": field.name}
            if field.key is not None:
                field_extra["header" if field.name.endswith("header") else "name"] = field.key
            yield Chunk(
                text=field.prefix + decoded.text, path=path, source="har", fs_path=fs_path, extra=field_extra,
                relocate=HarLocator(lines, len(field.prefix), decoded, raw_start, seen),
            )


def fields(entry: dict[str, Any]) -> Iterator[Field]:
    request, response = _dict(entry.get("request")), _dict(entry.get("response"))
    yield Field("request.url", None, "", str(request.get("url", "")))
    yield from _pairs(request.get("headers"), "request.header", ": ")
    yield from _pairs(request.get("queryString"), "request.query", "=")
    yield from _pairs(request.get("cookies"), "request.cookie", "=")
    post = _dict(request.get("postData"))
    if isinstance(post.get("text"), str) and post["text"]:
        yield Field("request.postData", None, "", post["text"])
    yield from _pairs(post.get("params"), "request.postData", "=")
    yield from _pairs(response.get("headers"), "response.header", ": ")
    yield from _pairs(response.get("cookies"), "response.cookie", "=")
    content = _dict(response.get("content"))
    if isinstance(content.get("text"), str) and content["text"] and content.get("encoding") != "base64":
        yield Field("response.content", None, "", content["text"])


def _pairs(items: Any, name: str, separator: str) -> Iterator[Field]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"]:
            key = str(item.get("name", ""))
            yield Field(name, key, f"{key}{separator}", item["value"])


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entries(text: str) -> list[Any] | None:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    entries = _dict(_dict(data).get("log")).get("entries")
    return entries if isinstance(entries, list) else None


def _find(text: str, value: str, start: int) -> tuple[int, str] | None:
    """Where value sits in the raw JSON (as it was escaped there), searching on from start."""
    if not value:
        return None
    for needle in dict.fromkeys((json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1])):
        for candidate in dict.fromkeys((needle, needle.replace("/", "\\/"))):
            position = text.find(f'"{candidate}"', start)
            if position >= 0:
                return position + 1, candidate
    return None


def redact_url(url: str) -> str:
    """The URL with credentials, query values and token-like path segments redacted."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc.rpartition("@")[2]
    if "@" in parts.netloc:
        netloc = f"…@{netloc}"
    # Segments are judged decoded: `sk%5Flive%5F…` is a key however it was escaped.
    segments = [redact(plain) if KEY_LIKE_SEGMENT.match(plain := urllib.parse.unquote(s)) else s
                for s in parts.path.split("/")]
    query = "&".join(
        f"{name}={redact(value) if len(value) >= SHORT_VALUE else value}"
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, "/".join(segments), "", "")) + (f"?{query}" if query else "")


class LineIndex:
    """Line and column of offsets in the HAR file, from its line starts (built once)."""

    def __init__(self, text: str) -> None:
        self.starts = line_starts(text)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


class HarLocator:
    """Maps a finding in `prefix + value` to the value's raw text in the file; one finding per secret per entry."""

    def __init__(self, lines: LineIndex, prefix: int, decoded: Unescaped, raw_start: int, seen: set[tuple[str, str]]) -> None:
        self.lines = lines
        self.prefix = prefix
        self.decoded = decoded
        self.raw_start = raw_start
        self.seen = seen

    def __call__(self, finding: Finding) -> Finding | None:
        key = (finding.rule_id, finding.secret)
        if key in self.seen:
            return None
        self.seen.add(key)
        start = self.raw_start + self.decoded.raw_offset(max(0, finding.column - 1 - self.prefix))
        end = self.raw_start + self.decoded.raw_offset(max(0, finding.end_column - 1 - self.prefix))
        line, column = self.lines.position(start)
        end_line, end_column = self.lines.position(end)
        return finding.replace(line=line, column=column, end_line=end_line, end_column=end_column)
