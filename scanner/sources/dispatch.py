"""Which reader an input needs: decided by its name (one suffix lookup), or forced with `--as`.

Ordinary source files never come here: `files.file_chunks` reads them as before and only looks
at their text for a few cheap markers (a log's first lines, base64 payloads). Logs, bundles,
source maps, HAR captures, compressed files and archives are read by their own modules, imported
when first needed.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.report import ScanStats

FORCIBLE = ("log", "bundle", "sourcemap", "har")  # what `scan --as` accepts
SUFFIX_KINDS = {
    ".log": "log", ".jsonl": "log", ".ndjson": "log",
    ".har": "har", ".map": "sourcemap",
    ".zip": "archive", ".jar": "archive", ".war": "archive", ".whl": "archive",
    ".tar": "archive", ".tgz": "archive", ".tbz2": "archive", ".txz": "archive",
    ".gz": "compressed", ".bz2": "compressed", ".xz": "compressed", ".zst": "compressed",
    ".js": "script", ".mjs": "script", ".cjs": "script", ".html": "page", ".htm": "page", ".json": "data",
}
LOG_NAMES = {"access_log", "error_log", "syslog", "messages", "auth.log", "kern.log", "daemon.log"}
BUILD_DIRS = {"dist", "build", ".next", "public"}  # built client assets: scanned as bundles
BUNDLE_NAMES = (".min.js", ".bundle.js", ".chunk.js", ".min.mjs")
SNIFF_CHARS = 4096


@dataclass(frozen=True)
class Blob:
    """Something to read: a file on disk, standard input, or an archive member."""

    display: str  # as reported: `logs/app.log`, `-`, `site.zip!dist/app.js`
    fs_path: str | None  # on disk (an archive member carries its archive's), for config path globs
    opener: Callable[[], BinaryIO]
    depth: int = 0  # archive nesting
    rereadable: bool = True  # opener gives a fresh stream each call (not so for standard input)


def kind_by_name(path: str, *, relative: Callable[[], str] | None = None) -> str | None:
    """The reader a name calls for, or None for an ordinary file.

    `script` is a .js file outside a build directory: a bundle only if its text looks minified.
    `relative()` (the path from the scan root, asked only for client-side suffixes) decides whether a
    file sits in a build directory, so `/home/me/build/project/src/app.js` is not taken for one.
    """
    name = path[path.rfind("/") + 1 :]
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    kind = SUFFIX_KINDS.get(suffix)
    if kind is None:
        if suffix[1:].isdigit():  # rotated: app.log.1, syslog.2
            return "log" if kind_by_name(name[:dot]) == "log" else None
        return "log" if name in LOG_NAMES else None
    if kind == "compressed":
        return "archive" if ".tar." in name.lower() else kind
    if kind in ("script", "page", "data"):
        if in_build_dir(relative() if relative is not None else path):
            return "bundle"
        if kind == "script":
            return "bundle" if name.lower().endswith(BUNDLE_NAMES) else "script"
        return None
    return kind


def in_build_dir(path: str) -> bool:
    return any(part in BUILD_DIRS for part in path.split("/")[:-1])


def special_chunks(blob: Blob, kind: str, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """Chunks of a blob read as `kind`, each followed by chunks of the base64 payloads it holds."""
    from scanner.sources.decoders import with_decoded

    try:
        if kind == "archive":  # members are decoded as they are read
            from scanner.sources.archives import archive_chunks

            yield from archive_chunks(blob, config=config, stats=stats)
        else:
            yield from with_decoded(_chunks(blob, kind, config=config, stats=stats))
    except Exception as exc:
        if not isinstance(exc, corrupt_input_errors()):
            raise
        stats.warnings.append(f"{blob.display}: stopped reading: {exc}")  # what was read is still reported


def corrupt_input_errors() -> tuple[type[BaseException], ...]:
    """What a truncated or corrupt compressed stream raises (imported only once something failed)."""
    import lzma

    errors: list[type[BaseException]] = [OSError, EOFError, zlib.error, lzma.LZMAError]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)


def _chunks(blob: Blob, kind: str, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    if kind == "compressed":
        yield from _compressed_chunks(blob, config=config, stats=stats)
    elif kind in ("log", "bundle"):
        with blob.opener() as binary:
            text = open_text(binary, blob.display, stats)
            if text is not None:
                stats.files_scanned += 1
                yield from _stream_chunks(blob, kind, text, stats=stats)
    else:  # script, sourcemap, har: parsed whole, so bounded by scan.max_file_size
        data = read_bounded(blob, config.max_file_size, stats)
        if data is not None:
            stats.files_scanned += 1
            yield from whole_text_chunks(blob, kind, decode_text(data), stats=stats)


def _stream_chunks(blob: Blob, kind: str, text: TextIO, *, stats: ScanStats) -> Iterator[Chunk]:
    if kind == "log":
        from scanner.sources.logs import log_chunks

        yield from log_chunks(text, path=blob.display, fs_path=blob.fs_path, stats=stats)
    else:
        from scanner.sources.bundles import bundle_chunks

        yield from bundle_chunks(text, blob=blob, stats=stats)


def whole_text_chunks(blob: Blob, kind: str | None, text: str, *, stats: ScanStats) -> Iterator[Chunk]:
    """Chunks of text already read whole, as `kind` (None: sniff the content, else a plain file)."""
    if kind == "script":
        from scanner.sources.bundles import looks_minified

        kind = "bundle" if looks_minified(text) else None
    if kind is None:
        kind = kind_by_content(text)
    if kind == "sourcemap":
        from scanner.sources.sourcemaps import sourcemap_chunks

        yield from sourcemap_chunks(text, map_path=blob.display, fs_path=blob.fs_path, stats=stats)
    elif kind == "har":
        from scanner.sources.har import har_chunks

        yield from har_chunks(text, path=blob.display, fs_path=blob.fs_path, stats=stats)
    elif kind in ("log", "bundle"):
        yield from _stream_chunks(blob, kind, io.StringIO(text, newline="\n"), stats=stats)
    else:
        stats.bytes_scanned += len(text)
        yield Chunk(text=text, path=blob.display, source="file", fs_path=blob.fs_path)


def kind_by_content(text: str) -> str | None:
    """Logs, HAR captures and source maps under ordinary names, told by their first characters."""
    head = text[:SNIFF_CHARS]
    stripped = head.lstrip()
    if stripped.startswith("{"):
        if '"mappings"' in head and '"version"' in head and ('"sources"' in head or '"sections"' in head):
            return "sourcemap"
        if '"log"' in head and '"entries"' in text[:65536] and '"creator"' in text[:65536]:
            return "har"
    from scanner.sources.logs import looks_like_log

    return "log" if looks_like_log(head) else None


def _compressed_chunks(blob: Blob, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """A compressed single file (rotated logs, mostly): read as what its inner name says, else as a log."""
    suffix = blob.display[blob.display.rfind(".") :].lower()
    opener = decompressor(suffix, blob, stats)
    if opener is None:
        return
    inner = Blob(blob.display, blob.fs_path, opener, blob.depth, blob.rereadable)  # named as it is on disk
    kind = kind_by_name(blob.display[: -len(suffix)])
    yield from _chunks(inner, kind if kind in ("sourcemap", "har", "script", "bundle") else "log", config=config, stats=stats)


def decompressor(suffix: str, blob: Blob, stats: ScanStats) -> Callable[[], BinaryIO] | None:
    """How to open the blob decompressed (stdlib gzip/bz2/xz; zstandard for .zst), or None if we cannot."""
    import bz2
    import gzip
    import lzma

    if suffix == ".gz":
        return lambda: gzip.GzipFile(fileobj=blob.opener(), mode="rb")  # type: ignore[return-value]
    if suffix == ".bz2":
        return lambda: bz2.BZ2File(blob.opener(), mode="rb")  # type: ignore[return-value]
    if suffix == ".xz":
        return lambda: lzma.LZMAFile(blob.opener(), mode="rb")  # type: ignore[return-value]
    try:
        import zstandard
    except ImportError:
        stats.skipped["compressed (zstd unavailable)"] += 1
        stats.warnings.append(f"{blob.display}: skipped, reading .zst needs the zstandard package")
        return None
    return lambda: zstandard.ZstdDecompressor().stream_reader(blob.opener(), read_across_frames=True, closefd=True)


def read_bounded(blob: Blob, limit: int, stats: ScanStats) -> bytes | None:
    """The blob's bytes, or None (counted and warned) past `limit` or when binary."""
    from scanner.sources.files import SNIFF_BYTES, is_binary

    with blob.opener() as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        stats.skipped["too large"] += 1
        stats.warnings.append(
            f"{blob.display}: skipped, over the {limit}-byte limit (scan.max_file_size)"
        )
        return None
    if is_binary(data[:SNIFF_BYTES]):
        stats.skipped["binary"] += 1
        return None
    return data


def decode_text(data: bytes) -> str:
    from scanner.sources.files import decode

    return decode(data)


def open_text(binary: BinaryIO, display: str, stats: ScanStats) -> TextIO | None:
    """A streaming text view of binary (UTF-8, or UTF-16 by its BOM), or None when it is binary."""
    from scanner.sources.files import SNIFF_BYTES, is_binary

    head = binary.read1(SNIFF_BYTES) if hasattr(binary, "read1") else binary.read(SNIFF_BYTES)
    if is_binary(head):
        stats.skipped["binary"] += 1
        return None
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    raw = io.BufferedReader(Prefixed(head, binary), buffer_size=1 << 20)
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="\n")


class Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read for sniffing, put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.head:
            count = min(len(buffer), len(self.head))
            buffer[:count] = self.head[:count]
            self.head = self.head[count:]
            return count
        wanted = min(len(buffer), 1 << 16)  # small reads: a stream failing midway loses little
        data = self.rest.read1(wanted) if hasattr(self.rest, "read1") else self.rest.read(wanted)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.rest.close()
        super().close()
