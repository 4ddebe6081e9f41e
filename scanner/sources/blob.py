"""Inputs as "a name and some bytes", and the byte-level helpers every reader shares: opening a file
safely, sniffing binary content, decoding text, decompressing with a bound.

A leaf module: it imports nothing of keysweep's, so every source and reader can use it without
import cycles. Problems are raised as `Skip` (the input is left out, with a reason for the stats
and an optional warning); callers count them.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import stat
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

SNIFF_BYTES = 8192
# Formats that are binary by construction: skipped by name, without opening them.
BINARY_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".psd", ".mp3", ".mp4", ".mov",
    ".avi", ".mkv", ".wav", ".flac", ".ogg", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".pdf", ".so",
    ".dylib", ".dll", ".exe", ".o", ".a", ".class", ".pyc", ".pyo", ".wasm", ".sqlite", ".db", ".bin",
}
# A compressed stream may expand to this many times its own size (and at least to the size limit):
# real logs compress 5-20x; a decompression bomb (~1000x) stops here with a warning.
MAX_EXPANSION_RATIO = 100


class Skip(Exception):
    """An input left out: `reason` is counted in the stats, `warning` (if any) is shown."""

    def __init__(self, reason: str, warning: str | None = None) -> None:
        super().__init__(warning or reason)
        self.reason = reason
        self.warning = warning


@dataclass
class Budget:
    """Bytes an archive (and everything nested in it) may still expand to."""

    remaining: int


@dataclass(frozen=True)
class Blob:
    """Something to read: a file on disk, standard input, an archive member, a git blob."""

    display: str  # as reported: `logs/app.log`, `-`, `site.zip!dist/app.js`, a path in a commit
    fs_path: str | None  # on disk (an archive member carries its archive's), for config path globs
    opener: Callable[[], BinaryIO]
    depth: int = 0  # archive nesting
    rereadable: bool = True  # opener gives a fresh stream each call (not so for standard input)
    source: str = "file"  # what a plain chunk of it is called: file, stdin, git
    size: int | None = None  # when known before reading (a file's stat, a git blob's header)
    budget: Budget | None = field(default=None, compare=False)  # set inside archives
    root: str | None = None  # the scanned tree it came from: what it may refer to (a source map) lies inside

    @property
    def suffix(self) -> str:
        name = self.display[self.display.rfind("/") + 1 :]
        dot = name.rfind(".")
        return name[dot:].lower() if dot > 0 else ""

    def member(self, display: str, data: bytes) -> Blob:
        """An input nested in this one (an archive member, a decompressed stream), read from memory."""
        return Blob(display, self.fs_path, lambda: io.BytesIO(data), self.depth + 1, source=self.source,
                    size=len(data), budget=self.budget)


def open_regular_file(path: str) -> BinaryIO:
    """Open a file for reading only if it is a regular file, without following a final symlink and
    without blocking: a FIFO or a device in a scanned tree would otherwise hang the scan on open."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Skip("symlink") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Skip("not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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


def read_bounded(blob: Blob, limit: int) -> bytes:
    """The blob's bytes; Skip past `limit` (checked on its size first, when that is known) or when binary."""
    with blob.opener() as handle:
        size = blob.size if blob.size is not None else _stat_size(handle)
        if size is not None and size > limit:
            raise Skip("too large", f"{blob.display}: skipped, {size} bytes is over the {limit}-byte limit "
                                    "(scan.max_file_size)")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Skip("too large", f"{blob.display}: skipped, over the {limit}-byte limit (scan.max_file_size)")
    if is_binary(data[:SNIFF_BYTES]):
        raise Skip("binary")
    return data


def _stat_size(handle: BinaryIO) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation, AttributeError):
        return None  # a stream, not a file


def open_text(binary: BinaryIO) -> TextIO:
    """A streaming text view of binary (UTF-8, or UTF-16 by its BOM); Skip when it is binary."""
    head = binary.read1(SNIFF_BYTES) if hasattr(binary, "read1") else binary.read(SNIFF_BYTES)
    if is_binary(head):
        raise Skip("binary")
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


class ExpansionLimit(Exception):
    """A decompressed stream went past its bound (a decompression bomb, or a budget spent)."""


class Bounded(io.RawIOBase):
    """A decompressed stream that raises ExpansionLimit once more than `limit` bytes came out of it,
    and charges what it reads to an archive's budget when it has one."""

    def __init__(self, inner: BinaryIO, limit: int, budget: Budget | None = None) -> None:
        self.inner = inner
        self.limit = limit
        self.budget = budget
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), 1 << 16)
        data = self.inner.read1(wanted) if hasattr(self.inner, "read1") else self.inner.read(wanted)
        self.count += len(data)
        if self.budget is not None:
            self.budget.remaining -= len(data)
            if self.budget.remaining < 0:
                raise ExpansionLimit("expands past the archive's budget (decompression bomb?)")
        if self.count > self.limit:
            raise ExpansionLimit(f"expands past {self.limit} bytes (over {MAX_EXPANSION_RATIO}x its compressed size: "
                                 "decompression bomb?)")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")


def decompressor(blob: Blob, *, limit: int) -> Callable[[], BinaryIO]:
    """How to open the blob decompressed (stdlib gzip/bz2/xz; zstandard for .zst), never yielding more
    than `limit` bytes; Skip when the format needs a package that is missing."""
    import bz2
    import gzip
    import lzma

    suffix = blob.suffix
    if suffix == ".gz":
        raw: Callable[[], BinaryIO] = lambda: gzip.GzipFile(fileobj=blob.opener(), mode="rb")  # type: ignore[assignment,return-value]  # noqa: E731
    elif suffix == ".bz2":
        raw = lambda: bz2.BZ2File(blob.opener(), mode="rb")  # type: ignore[assignment,return-value]  # noqa: E731
    elif suffix == ".xz":
        raw = lambda: lzma.LZMAFile(blob.opener(), mode="rb")  # type: ignore[assignment,return-value]  # noqa: E731
    else:
        try:
            import zstandard
        except ImportError:
            raise Skip("compressed (zstd unavailable)", f"{blob.display}: skipped, reading .zst needs the zstandard package") from None
        raw = lambda: zstandard.ZstdDecompressor().stream_reader(blob.opener(), read_across_frames=True, closefd=True)  # type: ignore[assignment]  # noqa: E731
    return lambda: io.BufferedReader(Bounded(raw(), limit, blob.budget), buffer_size=1 << 16)  # type: ignore[return-value]


def expansion_limit(blob: Blob, max_file_size: int) -> int:
    """How far a compressed blob may expand: a ratio of its size, and at least the file size limit."""
    size = blob.size if blob.size is not None else _size_on_disk(blob)
    return max(max_file_size, MAX_EXPANSION_RATIO * size) if size is not None else max_file_size * MAX_EXPANSION_RATIO


def _size_on_disk(blob: Blob) -> int | None:
    try:
        return os.stat(blob.fs_path).st_size if blob.fs_path and "!" not in blob.display else None
    except OSError:
        return None


def corrupt_input_errors() -> tuple[type[BaseException], ...]:
    """What a truncated or corrupt compressed stream raises."""
    import lzma

    errors: list[type[BaseException]] = [OSError, EOFError, zlib.error, lzma.LZMAError, ExpansionLimit]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)
