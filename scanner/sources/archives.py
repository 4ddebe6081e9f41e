"""Archives (.zip, .jar, .war, .whl, .tar and compressed tarballs) opened and scanned member by
member, named `archive.zip!inner/path` (nested: `outer.zip!lib/inner.jar!config.properties`).

Each member goes back through the dispatcher (handed in as `read_member`, not imported), so it is
read as its name says: a log, a bundle, a nested archive, a compressed file, plain text.

Zip-bomb safe: sizes in headers are not trusted (every member is read with a cap), and depth, member
count and every byte decompressed (members skipped in a compressed tar too: the stream has to be
inflated to get past them) are charged to one budget per top-level archive; what goes past a bound is
skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, BinaryIO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.report import ScanStats
from scanner.sources.blob import COMPRESSED_SUFFIXES, Blob, Budget, ExpansionLimit, decompressor, expansion_limit

MAX_DEPTH = 3  # archives inside archives inside archives, no deeper
MAX_MEMBERS = 10_000  # per archive
TOTAL_BYTES_PER_MEMBER_LIMIT = 32  # an archive expands to at most this many times scan.max_file_size
TAR_COMPRESSED = {".tgz": ".gz", ".tbz2": ".bz2", ".txz": ".xz"}

ReadBlob = Callable[[Blob], Iterator[Chunk]]


class Refused(Exception):
    """The archive went past a bound; the message says which."""


def archive_chunks(blob: Blob, *, config: Config, stats: ScanStats, read_member: ReadBlob) -> Iterator[Chunk]:
    if blob.depth >= MAX_DEPTH:
        stats.skipped["archive too deep"] += 1
        stats.warnings.append(f"{blob.display}: skipped, archives nested deeper than {MAX_DEPTH}")
        return
    if blob.budget is None:
        blob = dataclasses.replace(blob, budget=Budget(config.max_file_size * TOTAL_BYTES_PER_MEMBER_LIMIT))
    try:
        if _is_zip(blob):
            yield from _zip_members(blob, config=config, stats=stats, read_member=read_member)
        else:
            yield from _tar_members(blob, config=config, stats=stats, read_member=read_member)
    except (Refused, ExpansionLimit) as exc:
        stats.skipped["archive bound"] += 1
        stats.warnings.append(f"{blob.display}: refused: {exc}")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, NotImplementedError) as exc:
        stats.skipped["unreadable archive"] += 1
        stats.warnings.append(f"{blob.display}: cannot read archive: {type(exc).__name__}: {exc}")


def _is_zip(blob: Blob) -> bool:
    with blob.opener() as handle:
        return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08") or (
            blob.suffix in (".zip", ".jar", ".war", ".whl") and _seekable_zip(handle))


def _seekable_zip(handle: BinaryIO) -> bool:
    """A zip whose first bytes are not a local header (a self-extracting stub, a prepended script)."""
    try:
        return handle.seekable() and zipfile.is_zipfile(handle)
    except (OSError, ValueError):
        return False


def _zip_members(blob: Blob, *, config: Config, stats: ScanStats, read_member: ReadBlob) -> Iterator[Chunk]:
    with blob.opener() as raw:
        handle: IO[bytes] = raw if raw.seekable() else io.BytesIO(raw.read(config.max_file_size + 1))
        with zipfile.ZipFile(handle) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            _check_count(len(infos))
            for info in infos:
                name = f"{blob.display}!{info.filename}"
                if info.flag_bits & 0x1:
                    stats.skipped["encrypted"] += 1
                    stats.warnings.append(f"{name}: skipped, encrypted")
                    continue
                if not _fits(name, info.file_size, config, stats):
                    continue
                try:
                    with archive.open(info) as member:
                        data = _read_capped(member, name, config, stats, blob.budget)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
                    stats.skipped["unreadable"] += 1  # a header that lies fails its CRC
                    stats.warnings.append(f"{name}: cannot read: {type(exc).__name__}: {exc}")
                    continue
                if data is not None:
                    yield from read_member(blob.member(name, data))


def _tar_stream(blob: Blob, config: Config) -> tuple[Callable[[], BinaryIO], bool]:
    """The tar's bytes, decompressed through a bounded stream that charges the budget when it is
    compressed; and whether it does (an uncompressed tar's members are charged as they are read)."""
    outer = TAR_COMPRESSED.get(blob.suffix) or (blob.suffix if blob.suffix in COMPRESSED_SUFFIXES else None)
    if outer is None:
        return blob.opener, False
    compressed = dataclasses.replace(blob, display=blob.display + ("" if outer == blob.suffix else outer))
    return decompressor(compressed, limit=expansion_limit(blob, config.max_file_size)), True


def _tar_members(blob: Blob, *, config: Config, stats: ScanStats, read_member: ReadBlob) -> Iterator[Chunk]:
    assert blob.budget is not None
    opener, charged = _tar_stream(blob, config)
    with opener() as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        count = 0
        for info in archive:  # headers are read as the stream goes: a bound stops it before a bomb expands
            if not info.isfile():
                continue
            count += 1
            _check_count(count)
            name = f"{blob.display}!{info.name}"
            if info.size > blob.budget.remaining:
                raise Refused(f"{info.name} would expand past the {blob.budget.remaining}-byte budget left (tar bomb?)")
            if not _fits(name, info.size, config, stats):
                continue  # its bytes are still inflated to get past it: charged by the stream
            member = archive.extractfile(info)
            if member is None:
                continue
            data = _read_capped(member, name, config, stats, None if charged else blob.budget)
            if data is not None:
                yield from read_member(blob.member(name, data))


def _check_count(count: int) -> None:
    if count > MAX_MEMBERS:
        raise Refused(f"more than {MAX_MEMBERS} members")


def _fits(name: str, size: int, config: Config, stats: ScanStats) -> bool:
    if size > config.max_file_size:
        stats.skipped["too large"] += 1
        stats.warnings.append(f"{name}: skipped, {size} bytes is over the {config.max_file_size}-byte limit (scan.max_file_size)")
        return False
    return True


def _read_capped(member: IO[bytes], name: str, config: Config, stats: ScanStats, budget: Budget | None) -> bytes | None:
    """The member's bytes, never more than the limits allow whatever its header claimed."""
    cap = config.max_file_size if budget is None else min(config.max_file_size, budget.remaining)
    data = member.read(cap + 1)
    if len(data) > cap:
        if cap < config.max_file_size:
            raise Refused(f"expands past {config.max_file_size * TOTAL_BYTES_PER_MEMBER_LIMIT} bytes in total (zip bomb?)")
        stats.skipped["too large"] += 1
        stats.warnings.append(f"{name}: skipped, expands past the {cap}-byte limit (scan.max_file_size; zip bomb?)")
        return None
    if budget is not None:
        budget.remaining -= len(data)
    return data
