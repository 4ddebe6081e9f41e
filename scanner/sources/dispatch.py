"""The one door every input goes through: a name and some bytes in, chunks out.

A file on disk, standard input, an archive member, a git blob and a fleet repository's blob are all
a `Blob`. `blob_chunks` picks the reader by name (one suffix lookup) and, for names that may hide
one, by content: logs, bundles, source maps, HAR captures, compressed files and archives go to their
own modules (imported when first needed); everything else is one plain chunk. Every chunk is followed
by chunks of the base64 payloads it holds (Kubernetes Secrets, Basic auth, data URLs). A source never
makes this choice itself, so a reader added here reaches history, archives and fleets too.

One bad input never costs the scan: whatever reading it raises becomes a warning naming it, and
whatever was read before the error is still scanned.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Callable, Iterator
from typing import TextIO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.report import ScanStats
from scanner.sources.blob import (
    BINARY_SUFFIXES,
    Blob,
    Skip,
    corrupt_input_errors,
    decode,
    decompressor,
    expansion_limit,
    open_text,
    read_bounded,
)

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
SNIFF_SUFFIXES = (".txt", ".json", ".out", ".dump")  # names that may hide a log, HAR capture or source map
MAX_ERROR_CHARS = 160  # an exception's message in a warning: enough to act on, never a whole input line

ReadBlob = Callable[[Blob], Iterator[Chunk]]


def blob_chunks(blob: Blob, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """Every chunk of one input, read as its name and content call for."""
    try:
        yield from _read(blob, config=config, stats=stats)
    except Skip as skip:
        stats.skipped[skip.reason] += 1
        if skip.warning:
            stats.warnings.append(skip.warning)
    except OSError as exc:
        if exc.errno is None:  # a corrupt compressed stream (BadGzipFile …), not the filesystem
            stats.skipped["unreadable"] += 1
            stats.warnings.append(f"{blob.display}: stopped reading: {describe_error(exc)}")
        else:
            stats.skipped["unreadable"] += 1
            stats.warnings.append(f"{blob.display}: cannot read: {exc.strerror}")
    except Exception as exc:  # noqa: BLE001 - a corrupt input (a zip header claiming version 21.1 …) is a warning
        stats.skipped["unreadable" if isinstance(exc, corrupt_input_errors()) else "reader error"] += 1
        stats.warnings.append(f"{blob.display}: stopped reading: {describe_error(exc)}")


def describe_error(exc: BaseException) -> str:
    """An exception as one short, printable line (it may quote the input it choked on)."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _read(blob: Blob, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    from scanner.sources.decoders import with_decoded

    kind = kind_of(blob, config)
    if kind == "binary":
        raise Skip("binary")
    if kind == "keytab":
        yield from _keytab_chunks(blob, config=config, stats=stats)
        return
    if kind == "archive":  # members go back through the door, each decoded as it is read
        from scanner.sources.archives import archive_chunks

        yield from archive_chunks(blob, config=config, stats=stats, read_member=member_reader(config, stats))
    elif kind == "compressed":
        yield from _compressed_chunks(blob, config=config, stats=stats)
    else:
        yield from with_decoded(_chunks(blob, kind, config=config, stats=stats))


def member_reader(config: Config, stats: ScanStats) -> ReadBlob:
    """How an archive reads its members: through this same door (handed over, not imported)."""
    return functools.partial(blob_chunks, config=config, stats=stats)


def kind_of(blob: Blob, config: Config) -> str | None:
    """The reader a blob needs by its name (`--as` decides for top-level inputs); None: plain text."""
    if config.force_kind and blob.depth == 0:
        return config.force_kind
    if blob.suffix in BINARY_SUFFIXES:
        return "binary"
    if blob.suffix == ".keytab" or blob.display.endswith("/krb5.keytab") or blob.display == "krb5.keytab":
        return "keytab"
    return kind_by_name(blob.display, relative=lambda: relative_path(blob, config))


def relative_path(blob: Blob, config: Config) -> str:
    """The blob's path as config globs see it: from the scan root for files, from the archive or
    repository root for members and git blobs."""
    if blob.depth == 0 and blob.fs_path:
        return config.relative(blob.fs_path)
    return blob.display.rsplit("!", 1)[-1]


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


def _chunks(blob: Blob, kind: str | None, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    if kind in ("log", "bundle") or (kind is None and not blob.rereadable):
        with blob.opener() as binary:
            stream = open_text(binary)
            stats.files_scanned += 1
            yield from _stream_chunks(blob, kind, stream, stats=stats)
        return
    data = read_bounded(blob, config.max_file_size)
    stats.files_scanned += 1
    text = decode(data)
    if kind is None and not _may_hide_a_format(blob):
        stats.bytes_scanned += len(data)
        yield Chunk(text=text, path=blob.display, source=blob.source, fs_path=blob.fs_path)
        return
    yield from whole_text_chunks(blob, kind, text, stats=stats)


def _may_hide_a_format(blob: Blob) -> bool:
    """Logs, HAR captures and source maps under ordinary names: .txt, .json, … or no extension."""
    name = blob.display[blob.display.rfind("/") + 1 :]
    return name.endswith(SNIFF_SUFFIXES) or "." not in name


def _stream_chunks(blob: Blob, kind: str | None, text: TextIO, *, stats: ScanStats) -> Iterator[Chunk]:
    """Logs and bundles in bounded windows; plain text that cannot be read twice (stdin) too, as a
    log when its first lines look like one."""
    if kind is None:
        from scanner.sources.logs import looks_like_log

        head = text.read(SNIFF_CHARS)
        kind = "log" if looks_like_log(head) else None
        text = _Rewound(head, text)  # type: ignore[assignment]  # a TextIO in all that is used of it
    if kind == "log":
        from scanner.sources.logs import log_chunks

        yield from log_chunks(text, path=blob.display, fs_path=blob.fs_path, stats=stats)
    elif kind == "bundle":
        from scanner.sources.bundles import bundle_chunks

        yield from bundle_chunks(text, blob=blob, stats=stats)
    else:
        from scanner.sources.stream import window_chunks

        yield from (chunk for _, chunk in window_chunks(text, path=blob.display, source=blob.source,
                                                          fs_path=blob.fs_path, stats=stats))


class _Rewound(io.TextIOBase):
    """A text stream whose first characters were read for sniffing, put back in front."""

    def __init__(self, head: str, rest: TextIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            data, self.head = self.head + self.rest.read(), ""
            return data
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
            return data
        return self.rest.read(size)


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
        yield Chunk(text=text, path=blob.display, source=blob.source, fs_path=blob.fs_path)


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


def _keytab_chunks(blob: Blob, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """A Kerberos keytab, binary, as one text line per key (sources/keytab.py)."""
    from scanner.sources.keytab import NotAKeytab, keytab_lines

    with blob.opener() as handle:
        data = handle.read(config.max_file_size + 1)
    if len(data) > config.max_file_size:
        raise Skip("too large", f"{blob.display}: skipped, over the {config.max_file_size}-byte limit (scan.max_file_size)")
    try:
        text = "\n".join(keytab_lines(data))
    except NotAKeytab:
        raise Skip("binary") from None
    stats.files_scanned += 1
    stats.bytes_scanned += len(data)
    yield Chunk(text=text, path=blob.display, source=blob.source, fs_path=blob.fs_path,
                extra={"decoded": "kerberos keytab"})


def _compressed_chunks(blob: Blob, *, config: Config, stats: ScanStats) -> Iterator[Chunk]:
    """A compressed single file (rotated logs, mostly): read as what its inner name says, else as a
    log, never expanding past `expansion_limit`."""
    from scanner.sources.decoders import with_decoded

    opener = decompressor(blob, limit=expansion_limit(blob, config.max_file_size))
    inner_name = blob.display[: -len(blob.suffix)]
    inner = dataclasses.replace(blob, opener=opener, size=None)
    kind = kind_by_name(inner_name)
    if kind == "archive" or kind == "compressed":
        raise Skip("nested compression", f"{blob.display}: skipped, compressed twice")
    yield from with_decoded(_chunks(inner, kind if kind in ("sourcemap", "har", "script", "bundle") else "log",
                                    config=config, stats=stats))
