"""Working trees and single files: walk, skip what cannot or need not be read, decode the rest.

Everything under the given paths is scanned except `.git` and configured excludes, including
untracked and git-ignored files: an audit must see a stray `.env.local`.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.errors import UsageError
from scanner.globs import matches_any, without_dot_slash
from scanner.report import ScanStats
from scanner.sources.dispatch import Blob, kind_by_content, kind_by_name, special_chunks, whole_text_chunks

if TYPE_CHECKING:
    from typing import BinaryIO

SNIFF_BYTES = 8192
SNIFF_SUFFIXES = (".txt", ".json", ".out", ".dump")  # names that may hide a log, HAR capture or source map
PAYLOAD_MARKERS = ("asic ", "ASIC ", "base64,", "Secret")  # Basic auth, data URLs, Kubernetes Secrets
SKIP_DIRS = {".git", ".hg", ".svn"}
# Formats that are binary by construction: skipped by name, without opening them.
BINARY_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".psd", ".mp3", ".mp4", ".mov",
    ".avi", ".mkv", ".wav", ".flac", ".ogg", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".pdf", ".so",
    ".dylib", ".dll", ".exe", ".o", ".a", ".class", ".pyc", ".pyo", ".wasm", ".sqlite", ".db", ".bin",
}


@dataclass(frozen=True)
class FileEntry:
    fs_path: str  # as opened
    display: str  # as reported


def walk(roots: list[str], *, config: Config, stats: ScanStats) -> Iterator[FileEntry]:
    """Every file to scan under roots, in a stable order; skips are counted in stats."""
    skip_globs = config.exclude + tuple(g for a in config.allowlists if a.is_path_only for g in a.paths)
    for root in roots:
        try:
            mode = os.stat(root).st_mode
        except FileNotFoundError:
            raise UsageError(f"{root}: no such file or directory") from None
        except OSError as exc:
            stats.skipped["unreadable"] += 1
            stats.warnings.append(f"{root}: cannot read: {exc.strerror}")
            continue
        if not stat.S_ISDIR(mode):
            yield FileEntry(root, without_dot_slash(root))
            continue
        for directory, dirnames, filenames in os.walk(root, onerror=lambda e: _walk_error(e, stats)):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not _excluded(os.path.join(directory, d), config, skip_globs, stats)
            )
            for name in sorted(filenames):
                path = os.path.join(directory, name)
                if os.path.islink(path):
                    stats.skipped["symlink"] += 1
                elif not _excluded(path, config, skip_globs, stats):
                    yield FileEntry(path, without_dot_slash(path))


def _excluded(path: str, config: Config, globs: tuple[str, ...], stats: ScanStats) -> bool:
    if globs and matches_any(config.relative(path), globs):
        stats.skipped["excluded"] += 1
        return True
    return False


def _walk_error(error: OSError, stats: ScanStats) -> None:
    stats.skipped["unreadable"] += 1
    stats.warnings.append(f"{error.filename}: cannot read directory: {error.strerror}")


def read_text(entry: FileEntry, *, config: Config, stats: ScanStats) -> str | None:
    """The file's text, or None with the reason counted (binary, too large, unreadable)."""
    path = entry.fs_path
    if os.path.splitext(path)[1].lower() in BINARY_SUFFIXES:
        stats.skipped["binary"] += 1
        return None
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                stats.skipped["not a regular file"] += 1
                return None
            if info.st_size > config.max_file_size:
                stats.skipped["too large"] += 1
                stats.warnings.append(
                    f"{entry.display}: skipped, {info.st_size} bytes is over the {config.max_file_size}-byte limit"
                    " (scan.max_file_size)"
                )
                return None
            head = handle.read(SNIFF_BYTES)
            if is_binary(head):
                stats.skipped["binary"] += 1
                return None
            data = head + handle.read(config.max_file_size)
    except OSError as exc:
        stats.skipped["unreadable"] += 1
        stats.warnings.append(f"{entry.display}: cannot read: {exc.strerror}")
        return None
    stats.files_scanned += 1
    stats.bytes_scanned += len(data)
    return decode(data)


def is_binary(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\0" in head


def decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def file_chunks(entry: FileEntry, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """An ordinary file is one chunk (plus any base64 payloads it holds); logs, bundles, source maps,
    HAR captures and archives, told by name or forced with `--as`, go to their own readers."""
    kind = config.force_kind or kind_by_name(entry.display, relative=lambda: config.relative(entry.fs_path))
    if kind is not None:
        yield from special_chunks(file_blob(entry), kind, config=config, stats=stats)
        return
    text = read_text(entry, config=config, stats=stats)
    if text is None:
        return
    if entry.display.endswith(SNIFF_SUFFIXES) or "." not in entry.display[entry.display.rfind("/") + 1 :]:
        sniffed = kind_by_content(text)
        if sniffed is not None:  # a log, HAR capture or source map under an ordinary name
            from scanner.sources.decoders import with_decoded

            stats.bytes_scanned -= len(text)  # its reader counts what it scans
            yield from with_decoded(whole_text_chunks(file_blob(entry), sniffed, text, stats=stats))
            return
    chunk = Chunk(text=text, path=entry.display, source="file", fs_path=entry.fs_path)
    yield chunk
    from scanner.sources.decoders import decoded_chunks, has_payloads

    if has_payloads(text):
        yield from decoded_chunks(chunk)


def file_blob(entry: FileEntry) -> Blob:
    return Blob(entry.display, entry.fs_path, lambda: open(entry.fs_path, "rb"))


def stdin_chunks(data: bytes | BinaryIO, *, stats: ScanStats, config: Config | None = None) -> Iterator[Chunk]:
    """Standard input, streamed: a log when its first lines look like one (or `--as` says what it is)."""
    from scanner.sources.decoders import with_decoded
    from scanner.sources.dispatch import Prefixed, open_text
    from scanner.sources.logs import log_chunks, looks_like_log
    from scanner.sources.stream import window_chunks

    stream: BinaryIO = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    config = config or Config()
    if config.force_kind:
        yield from special_chunks(Blob("-", None, lambda: stream, rereadable=False), config.force_kind,
                                  config=config, stats=stats)
        return
    head = stream.read(SNIFF_BYTES)
    if is_binary(head):
        stats.skipped["binary"] += 1
        return
    kind = "log" if looks_like_log(decode(head)) else None
    text = open_text(io.BufferedReader(Prefixed(head, stream)), "-", stats)
    if text is None:
        return
    stats.files_scanned += 1
    if kind == "log":
        chunks = log_chunks(text, path="-", fs_path=None, stats=stats)
    else:
        chunks = (chunk for _, chunk in window_chunks(text, path="-", source="stdin", fs_path=None, stats=stats))
    yield from with_decoded(chunks)
