"""Source maps (version 3): scan every `sourcesContent` entry as the original file it was, and map
a bundle position back to its original file, line and column.

Format: https://tc39.es/ecma426/ (mappings are Base64 VLQ, fields relative to the previous
segment; the generated column resets on each line, the others carry over).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.chunk import Chunk
from scanner.report import ScanStats

BASE64_DIGITS = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
URL_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*://")


def decode_vlq(segment: str) -> list[int]:
    """The signed integers of one mapping segment (`AAgBC` -> [0, 0, 16, 1])."""
    values: list[int] = []
    value = shift = 0
    for char in segment:
        digit = BASE64_DIGITS[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    if shift:
        raise ValueError("truncated VLQ value")
    return values


@dataclass(frozen=True)
class OriginalPosition:
    source: str
    line: int  # 1-based, like findings
    column: int


@dataclass
class SourceMap:
    sources: list[str]  # resolved against the map's location
    contents: list[str | None]
    mappings: str = ""
    sections: list[tuple[int, int, SourceMap]] = field(default_factory=list)  # index maps

    def entries(self) -> Iterator[tuple[str, str]]:
        """(original name, content) of every source that carries its content."""
        for name, content in zip(self.sources, self.contents):
            if isinstance(content, str) and content:
                yield name, content
        for _, _, section in self.sections:
            yield from section.entries()

    def original(self, line: int, column: int) -> OriginalPosition | None:
        """Where generated 0-based (line, column) came from, or None where nothing maps it."""
        if self.sections:
            return self._original_in_sections(line, column)
        source = original_line = original_column = 0
        best: tuple[int, int, int] | None = None
        for generated_line, text in enumerate(self.mappings.split(";")):
            if generated_line > line:
                break
            generated_column = 0
            for segment in text.split(","):
                if not segment:
                    continue
                values = decode_vlq(segment)
                generated_column += values[0]
                if len(values) >= 4:
                    source += values[1]
                    original_line += values[2]
                    original_column += values[3]
                if generated_line == line:
                    if generated_column > column:
                        break
                    best = (source, original_line, original_column) if len(values) >= 4 else None
        if best is None or not 0 <= best[0] < len(self.sources):
            return None
        return OriginalPosition(self.sources[best[0]], best[1] + 1, best[2] + 1)

    def _original_in_sections(self, line: int, column: int) -> OriginalPosition | None:
        chosen = None
        for start_line, start_column, section in self.sections:
            if (start_line, start_column) <= (line, column):
                chosen = (start_line, start_column, section)
        if chosen is None:
            return None
        start_line, start_column, section = chosen
        return section.original(line - start_line, column - start_column if line == start_line else column)


def parse_sourcemap(text: str, *, map_path: str) -> SourceMap:
    """Parse a map; sources are named relative to the scan, as `map_path`'s neighbours. ValueError if not a map."""
    try:
        data = json.loads(text[text.find("{") :] if text.startswith(")]}") else text)  # XSSI prefix
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    return _parse(data, posixpath.dirname(map_path))


def _parse(data: Any, directory: str) -> SourceMap:
    if not isinstance(data, dict) or data.get("version") != 3:
        raise ValueError("not a version 3 source map")
    if isinstance(data.get("sections"), list):
        sections = []
        for section in data["sections"]:
            offset = section.get("offset", {}) if isinstance(section, dict) else {}
            if not isinstance(section, dict) or "map" not in section:
                raise ValueError("index map section without an embedded map")
            sections.append((int(offset.get("line", 0)), int(offset.get("column", 0)), _parse(section["map"], directory)))
        return SourceMap([], [], sections=sections)
    sources = data.get("sources")
    mappings = data.get("mappings", "")
    if not isinstance(sources, list) or not isinstance(mappings, str):
        raise ValueError("source map without 'sources' and 'mappings'")
    root = data.get("sourceRoot") or ""
    contents = data.get("sourcesContent") or []
    if not isinstance(contents, list):
        raise ValueError("'sourcesContent' is not a list")
    names = [source_name(str(s) if s is not None else "", root, directory) for s in sources]
    return SourceMap(names, [c if isinstance(c, str) else None for c in contents], mappings)


def source_name(source: str, root: str, directory: str) -> str:
    """`webpack:///./src/a.js`, `../src/a.js` beside `dist/app.js.map` -> `src/a.js`."""
    joined = posixpath.join(root, source) if root else source
    if URL_SCHEME.match(joined):
        joined = URL_SCHEME.sub("", joined).lstrip("/")
        return posixpath.normpath(joined) if joined else source
    if joined.startswith("/"):
        return posixpath.normpath(joined)
    return posixpath.normpath(posixpath.join(directory, joined))


def sourcemap_chunks(
    text: str, *, map_path: str, fs_path: str | None, stats: ScanStats, label: str | None = None
) -> Iterator[Chunk]:
    """A chunk per `sourcesContent` entry, named for the original file; a broken map is a plain file."""
    try:
        source_map = parse_sourcemap(text, map_path=map_path)
    except (ValueError, TypeError) as exc:
        stats.warnings.append(f"{label or map_path}: not a usable source map ({exc}); scanned as text")
        stats.bytes_scanned += len(text)
        yield Chunk(text=text, path=label or map_path, source="file", fs_path=fs_path)
        return
    for name, content in source_map.entries():
        stats.bytes_scanned += len(content)
        yield Chunk(text=content, path=name, source="sourcemap", fs_path=fs_path, extra={"sourcemap": label or map_path})
