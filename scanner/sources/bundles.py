"""Client-side bundles: minified JavaScript (one line of many MB), built `dist/`, `build/`, `.next/`,
`public/` directories.

A bundle is read in windows (scanner/sources/stream.py), so a 10 MB single line costs time linear
in its size and findings carry the real line and column with a bounded snippet. A finding is mapped
to its original file and line through the bundle's source map when there is one (the
`sourceMappingURL` comment, inline or a file, else `<bundle>.map` beside it), and an inline map's
`sourcesContent` is scanned as the original files. Anything in client code is served to every
visitor: the locator records that (`exposure`, and the framework variable that inlined the key:
`NEXT_PUBLIC_`, `VITE_`, `REACT_APP_`, `NUXT_PUBLIC_`, `__NEXT_DATA__`, `window.__ENV__`); the filter
stage (scanner/filters/exposure.py) drops publishable keys and makes secret-class keys critical.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import urllib.parse
from collections.abc import Iterator
from typing import TextIO

from scanner.chunk import Chunk
from scanner.finding import Finding
from scanner.report import ScanStats
from scanner.sources.blob import Blob, Skip, open_regular_file
from scanner.sources.sourcemaps import OriginalPosition, SourceMap, parse_sourcemap, sourcemap_chunks
from scanner.sources.stream import OVERLAP_CHARS, WINDOW_CHARS, Window, WindowLocator, window_chunks

MINIFIED_LINE = 1000  # a hand-written source line is rarely this long; a minified one always is
MAP_COMMENT = re.compile(rb"[#@] ?sourceMappingURL=([^\s'\"*]+)")
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=]*")
TAIL_BYTES = 1 << 16
MAX_MAP_BYTES = 64 << 20
ENV_NAME = re.compile(r"\b((?:NEXT_PUBLIC|VITE|REACT_APP|NUXT_PUBLIC|NUXT_ENV|GATSBY|EXPO_PUBLIC)_[A-Z0-9_]+)")
ENV_OBJECT = re.compile(r"__NEXT_DATA__|window\.__ENV__|window\._env_|__NUXT__|import\.meta\.env")
ENV_NAME_REACH, ENV_OBJECT_REACH = 160, 4096  # how far before the key an inlining marker counts
SERVER_ONLY = re.compile(r"(?:^|[/!])\.next/server/.*\.[mc]?js$")  # Next.js server code; its pre-rendered HTML is served
EXPOSED = "in client-side code: exposed to every visitor of the site; rotate it and keep it server-side"


def looks_minified(text: str) -> bool:
    head = text[:65536]
    return len(head) > MINIFIED_LINE and max(map(len, head.split("\n"))) > MINIFIED_LINE


def is_client_path(display: str) -> bool:
    return SERVER_ONLY.search(display) is None


def bundle_chunks(
    stream: TextIO, *, blob: Blob, stats: ScanStats, size: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS
) -> Iterator[Chunk]:
    maps = MapResolver(blob)
    client = is_client_path(blob.display)
    for window, chunk in window_chunks(stream, path=blob.display, source="bundle", fs_path=blob.fs_path,
                                       stats=stats, size=size, overlap=overlap):
        assert isinstance(chunk.relocate, WindowLocator)
        yield dataclasses.replace(chunk, relocate=BundleLocator(chunk.relocate, window, maps, client=client))
    inline = maps.inline_text()
    if inline is not None:
        yield from sourcemap_chunks(inline, map_path=blob.display, fs_path=blob.fs_path, stats=stats,
                                    label=f"{blob.display} (inline source map)")


class BundleLocator:
    """Window location, then the original position from the source map, then whether it is client code."""

    def __init__(self, base: WindowLocator, window: Window, maps: MapResolver, *, client: bool) -> None:
        self.base = base
        self.window = window
        self.maps = maps
        self.client = client
        self._line_starts: list[int] | None = None

    def __call__(self, finding: Finding) -> Finding | None:
        offset = self._offset(finding.line - self.window.line_offset, finding.column)
        located = self.base(finding)
        if located is None:
            return None
        extra = dict(located.extra)
        original = self.maps.original(located.line - 1, located.column - 1)
        if original is not None:
            extra.update(original_path=original.source, original_line=original.line,
                         original_column=original.column, sourcemap=self.maps.name)
        if not self.client:
            return located.replace(extra=extra)
        inlined = inlined_by(self.window.text, offset)
        extra["exposure"] = f"{EXPOSED} (inlined from {inlined})" if inlined else EXPOSED
        if inlined:
            extra["inlined_env"] = inlined
        return located.replace(extra=extra)

    def _offset(self, line: int, column: int) -> int:
        if self._line_starts is None:
            text, starts = self.window.text, [0]
            position = text.find("\n")
            while position >= 0:
                starts.append(position + 1)
                position = text.find("\n", position + 1)
            self._line_starts = starts
        return self._line_starts[line - 1] + column - 1


def inlined_by(text: str, offset: int) -> str | None:
    """The framework variable or runtime-config object that put the key into client code, if visible."""
    names = list(ENV_NAME.finditer(text, max(0, offset - ENV_NAME_REACH), offset))
    if names:
        return names[-1].group(1)
    objects = list(ENV_OBJECT.finditer(text, max(0, offset - ENV_OBJECT_REACH), offset))
    return objects[-1].group(0) if objects else None


class MapResolver:
    """A bundle's source map, found and parsed on first use (only bundles with findings pay)."""

    def __init__(self, blob: Blob) -> None:
        self.blob = blob
        self.name: str | None = None
        self._map: SourceMap | None = None
        self._comment: bytes | None = None
        self._looked = self._loaded = False

    def comment_url(self) -> bytes | None:
        if not self._looked:
            self._looked = True
            self._comment = _last_map_comment(self.blob)
        return self._comment

    def inline_text(self) -> str | None:
        url = self.comment_url()
        if url is None or not url.startswith(b"data:"):
            return None
        return _data_url_text(url)

    def original(self, line: int, column: int) -> OriginalPosition | None:
        if not self._loaded:
            self._loaded = True
            self._map = self._load()
        if self._map is None:
            return None
        try:
            return self._map.original(line, column)
        except (KeyError, ValueError, IndexError):
            return None  # a corrupt mappings string: report the bundle position alone

    def _load(self) -> SourceMap | None:
        url = self.comment_url()
        text, name = None, None
        if url is not None and url.startswith(b"data:"):
            text, name = self.inline_text(), f"{self.blob.display} (inline source map)"
        elif self.blob.fs_path and "!" not in self.blob.display:
            relative = urllib.parse.unquote(url.decode("utf-8", "replace").split("?")[0].split("#")[0]) if url else None
            if relative and "://" not in relative:
                path = os.path.join(os.path.dirname(self.blob.fs_path), relative)
                name = os.path.join(os.path.dirname(self.blob.display), relative)
            else:
                path, name = self.blob.fs_path + ".map", self.blob.display + ".map"
            text = _read_small(path) if within(path, self.blob.root or os.path.dirname(self.blob.fs_path)) else None
        if text is None or name is None:
            return None
        try:
            source_map = parse_sourcemap(text, map_path=os.path.normpath(name))
        except (ValueError, TypeError):
            return None
        self.name = os.path.normpath(name) if "(inline" not in name else name
        return source_map


def _last_map_comment(blob: Blob) -> bytes | None:
    """The URL of the `sourceMappingURL` comment on the bundle's last line, read from its end."""
    if not blob.rereadable:
        return None  # standard input has gone by
    try:
        with blob.opener() as handle:
            end = handle.seek(0, os.SEEK_END)
            size = TAIL_BYTES
            while True:
                handle.seek(max(0, end - size))
                tail = handle.read(size)
                found = None
                for found in MAP_COMMENT.finditer(tail):
                    pass
                if found is not None:
                    return found.group(1)
                if not BASE64_RUN.fullmatch(tail.rstrip()) or size >= end or size >= MAX_MAP_BYTES:
                    return None  # not inside an inline map's base64: the last line has no comment
                size *= 4
    except (OSError, ValueError):
        return None  # a stream that cannot seek back


def _data_url_text(url: bytes) -> str | None:
    header, _, payload = url.partition(b",")
    try:
        data = base64.b64decode(payload, validate=False) if b";base64" in header else urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
    return data.decode("utf-8", "replace")


def within(path: str, root: str) -> bool:
    """A map the bundle names must lie inside the scanned tree: `sourceMappingURL=../../etc/x` or a
    link pointing out of it would make keysweep read (or, for a FIFO, wait on) a file it was not asked to."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _read_small(path: str) -> str | None:
    try:
        with open_regular_file(path) as handle:
            data = handle.read(MAX_MAP_BYTES + 1)
    except (OSError, Skip):
        return None
    return data.decode("utf-8", "replace") if len(data) <= MAX_MAP_BYTES else None
