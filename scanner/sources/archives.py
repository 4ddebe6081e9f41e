"""Archives (.zip, .jar, .war, .whl, .tar and compressed tarballs) opened in memory and scanned
member by member, named `archive.zip!inner/path` (nested: `outer.zip!lib/inner.jar!config.properties`).

Zip-bomb safe: sizes in headers are not trusted (every member is read with a cap), and depth,
member count and total expanded bytes are bounded; what goes past a bound is skipped with a warning.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.report import ScanStats
from scanner.sources.dispatch import Blob, decompressor, kind_by_name, special_chunks, whole_text_chunks

MAX_DEPTH = 3  # archives inside archives inside archives, no deeper
MAX_MEMBERS = 10_000  # per archive
TOTAL_BYTES_PER_MEMBER_LIMIT = 32  # an archive expands to at most this many times scan.max_file_size


@dataclass
class Budget:
    """Expanded bytes left for one top-level archive and everything nested in it."""

    remaining: int


class Refused(Exception):
    """The archive went past a bound; the message says which."""


def archive_chunks(blob: Blob, *, config: Config, stats: ScanStats, budget: Budget | None = None) -> Iterator[Chunk]:
    if blob.depth >= MAX_DEPTH:
        stats.skipped["archive too deep"] += 1
        stats.warnings.append(f"{blob.display}: skipped, archives nested deeper than {MAX_DEPTH}")
        return
    budget = budget or Budget(config.max_file_size * TOTAL_BYTES_PER_MEMBER_LIMIT)
    try:
        with blob.opener() as handle:
            data = handle if handle.seekable() else io.BytesIO(handle.read(config.max_file_size + 1))
            yield from _members(blob, data, config=config, stats=stats, budget=budget)
    except Refused as exc:
        stats.skipped["archive bound"] += 1
        stats.warnings.append(f"{blob.display}: {exc}")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        stats.skipped["unreadable archive"] += 1
        stats.warnings.append(f"{blob.display}: cannot read archive: {exc}")


def _members(blob: Blob, handle: IO[bytes], *, config: Config, stats: ScanStats, budget: Budget) -> Iterator[Chunk]:
    if zipfile.is_zipfile(handle):
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            yield from _zip_members(blob, archive, config=config, stats=stats, budget=budget)
        return
    handle.seek(0)
    with tarfile.open(fileobj=handle, mode="r:*") as archive:
        yield from _tar_members(blob, archive, config=config, stats=stats, budget=budget)


def _zip_members(blob: Blob, archive: zipfile.ZipFile, *, config: Config, stats: ScanStats, budget: Budget) -> Iterator[Chunk]:
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
                data = _read_capped(member, name, config, stats, budget)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:  # a header that lies fails its CRC
            stats.skipped["unreadable"] += 1
            stats.warnings.append(f"{name}: cannot read: {exc}")
            continue
        if data is not None:
            yield from member_chunks(blob, info.filename, data, config=config, stats=stats, budget=budget)


def _tar_members(blob: Blob, archive: tarfile.TarFile, *, config: Config, stats: ScanStats, budget: Budget) -> Iterator[Chunk]:
    count = 0
    for info in archive:  # headers are read lazily: a bound stops the walk before a bomb expands
        if not info.isfile():
            continue
        count += 1
        _check_count(count)
        name = f"{blob.display}!{info.name}"
        if info.size > budget.remaining:
            raise Refused(f"refused: {info.name} would expand past the {budget.remaining}-byte budget left (tar bomb?)")
        if not _fits(name, info.size, config, stats):
            continue
        member = archive.extractfile(info)
        if member is None:
            continue
        data = _read_capped(member, name, config, stats, budget)
        if data is not None:
            yield from member_chunks(blob, info.name, data, config=config, stats=stats, budget=budget)


def member_chunks(
    blob: Blob, inner: str, data: bytes, *, config: Config, stats: ScanStats, budget: Budget, display: str | None = None
) -> Iterator[Chunk]:
    """A member read as its name says (a nested archive, a log, a bundle ...) or as a plain file."""
    member = Blob(display or f"{blob.display}!{inner}", blob.fs_path, lambda: io.BytesIO(data), blob.depth + 1)
    kind = kind_by_name(inner)
    if kind == "archive":
        yield from archive_chunks(member, config=config, stats=stats, budget=budget)
    elif kind == "compressed":  # expanded here, under the archive's caps, not streamed without bound
        suffix = inner[inner.rfind(".") :].lower()
        opener = decompressor(suffix, member, stats)
        if opener is not None:
            with opener() as stream:
                expanded = _read_capped(stream, member.display, config, stats, budget)
            if expanded is not None:
                yield from member_chunks(blob, inner[: -len(suffix)], expanded, config=config, stats=stats,
                                         budget=budget, display=member.display)
    elif kind is not None:
        yield from special_chunks(member, kind, config=config, stats=stats)
    else:
        from scanner.sources.decoders import with_decoded
        from scanner.sources.files import SNIFF_BYTES, decode, is_binary

        if is_binary(data[:SNIFF_BYTES]):
            stats.skipped["binary"] += 1
            return
        stats.files_scanned += 1
        yield from with_decoded(whole_text_chunks(member, None, decode(data), stats=stats))


def _check_count(count: int) -> None:
    if count > MAX_MEMBERS:
        raise Refused(f"refused: more than {MAX_MEMBERS} members")


def _fits(name: str, size: int, config: Config, stats: ScanStats) -> bool:
    if size > config.max_file_size:
        stats.skipped["too large"] += 1
        stats.warnings.append(f"{name}: skipped, {size} bytes is over the {config.max_file_size}-byte limit (scan.max_file_size)")
        return False
    return True


def _read_capped(member: IO[bytes], name: str, config: Config, stats: ScanStats, budget: Budget) -> bytes | None:
    """The member's bytes, never more than the limits allow whatever its header claimed."""
    cap = min(config.max_file_size, budget.remaining)
    data = member.read(cap + 1)
    if len(data) > cap:
        if cap < config.max_file_size:
            raise Refused(f"refused: expands past {config.max_file_size * TOTAL_BYTES_PER_MEMBER_LIMIT} bytes in total (zip bomb?)")
        stats.skipped["too large"] += 1
        stats.warnings.append(f"{name}: skipped, expands past the {cap}-byte limit (scan.max_file_size; zip bomb?)")
        return None
    budget.remaining -= len(data)
    return data
