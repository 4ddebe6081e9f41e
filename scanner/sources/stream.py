"""Bounded-memory windows over a text stream, for logs and bundles of any size.

A window is whole lines where it can be: it ends at the last newline read. A line longer than the
window size (a minified bundle, a giant JSON log line) is cut after a separator character, which no
key contains, so a cut never splits a token or an escape sequence. Each window repeats the tail of
the one before (`overlap` characters) so a match straddling the cut is still seen whole; a finding
that ends inside that repeated tail was reported by the previous window and is dropped
(`Window.relocate`). Line numbers carry over through `line_offset`; a window that starts in the
middle of a line shifts the columns of its first line by `column_offset`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from scanner.chunk import Chunk
from scanner.finding import Finding
from scanner.report import ScanStats

WINDOW_CHARS = 1 << 20  # characters of new text per window
OVERLAP_CHARS = 8192  # longer than any key a rule matches (a PEM RSA-4096 key is ~3.3 KB)
SEPARATORS = " \t,;\"'(){}[]<>|&"  # cut and overlap boundaries: never inside a key or an escape
READ_PIECE = 1 << 16
HEAD_CHARS = 256  # how much of a line's start to keep for windows that begin mid-line


@dataclass(frozen=True)
class Window:
    text: str  # overlap + new text
    line_offset: int  # newlines in the stream before text[0]
    column_offset: int  # characters of text[0]'s line that precede it (0 at a line start)
    overlap: int  # leading characters of text that the previous window already scanned
    line_head: str  # the start of text[0]'s line when the window begins mid-line, else ""


def windows(stream: TextIO, *, size: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS) -> Iterator[Window]:
    """Read stream in windows of about `size` new characters, each repeating up to `overlap` before it."""
    overlap = min(overlap, max(size // 2, 1))
    carry = ""  # read but not yet windowed: the partial last line
    tail = ""  # the end of the previous window, repeated at the start of the next
    lines = 0  # newlines before the new text of the next window
    column = 0  # characters of the current line before the new text of the next window
    head = ""
    while True:
        data, error = _read(stream, size)
        final = not data or error is not None
        buffer = carry + data
        if not buffer:
            if error is not None:
                raise error
            return
        cut = len(buffer) if final else _cut(buffer, size)
        if cut == 0:  # no newline yet and under the size: read more of the line
            carry = buffer
            continue
        new, carry = buffer[:cut], buffer[cut:]
        text = tail + new
        tail_lines = tail.count("\n")
        yield Window(
            text=text,
            line_offset=lines - tail_lines,
            column_offset=0 if tail_lines else column - len(tail),
            overlap=len(tail),
            line_head=head if (column - len(tail)) > 0 and not tail_lines else "",
        )
        newlines = new.count("\n")
        lines += newlines
        if newlines:
            last = new.rfind("\n") + 1
            column = len(new) - last
            head = new[last : last + HEAD_CHARS]
        else:
            column += len(new)
            if len(head) < HEAD_CHARS:
                head = (head + new)[:HEAD_CHARS]
        tail = _tail(text, overlap)
        if final:
            if error is not None:
                raise error  # a truncated or corrupt stream: what was read has been scanned
            return


def _read(stream: TextIO, size: int) -> tuple[str, Exception | None]:
    """Up to size characters, in pieces, so a stream that fails midway still gives what it had."""
    pieces: list[str] = []
    wanted = size
    while wanted > 0:
        try:
            piece = stream.read(min(wanted, READ_PIECE))
        except Exception as exc:  # the caller decides which errors mean corrupt input
            return "".join(pieces), exc
        if not piece:
            break
        pieces.append(piece)
        wanted -= len(piece)
    return "".join(pieces), None


def _cut(buffer: str, size: int) -> int:
    """Where the new text of a window ends: after the last newline, else after a late separator."""
    newline = buffer.rfind("\n") + 1
    if newline:
        return newline
    if len(buffer) < size:
        return 0
    separator = max(buffer.rfind(c) for c in SEPARATORS)  # the last one is usually near the end
    return separator + 1 if separator > 0 else len(buffer)


def _tail(text: str, overlap: int) -> str:
    """The end of a window to repeat: whole lines if any fit, else from just after a separator."""
    region = text[-overlap:] if len(text) > overlap else text
    newline = region.find("\n")
    if newline >= 0:
        return region[newline + 1 :]
    found = [i for c in SEPARATORS if (i := region.find(c)) >= 0]
    return region[min(found) + 1 :] if found else ""


def end_position(text: str) -> tuple[int, int]:
    """The 1-based (line, column) just past text, as the pipeline counts positions."""
    return text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1


def in_overlap(finding: Finding, line_offset: int, boundary: tuple[int, int]) -> bool:
    """Did the finding end inside the repeated overlap (so the previous window reported it)?"""
    return (finding.end_line - line_offset, finding.end_column) <= boundary


def shift_first_line(finding: Finding, line_offset: int, column_offset: int) -> Finding:
    """Columns on a window's first line count from the window start; make them count from the line's."""
    if not column_offset:
        return finding
    first = line_offset + 1
    return finding.replace(
        column=finding.column + (column_offset if finding.line == first else 0),
        end_column=finding.end_column + (column_offset if finding.end_line == first else 0),
    )


class WindowLocator:
    """Drops findings in a window's overlap and counts first-line columns from the line's start."""

    def __init__(self, window: Window, boundary: tuple[int, int]) -> None:
        self.window = window
        self.boundary = boundary

    def __call__(self, finding: Finding) -> Finding | None:
        if in_overlap(finding, self.window.line_offset, self.boundary):
            return None
        return shift_first_line(finding, self.window.line_offset, self.window.column_offset)


def window_chunks(
    stream: TextIO, *, path: str, source: str, fs_path: str | None, stats: ScanStats,
    size: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS,
) -> Iterator[tuple[Window, Chunk]]:
    """Each window with a chunk of its text as-is (no unescaping), located in the stream."""
    for window in windows(stream, size=size, overlap=overlap):
        stats.bytes_scanned += len(window.text) - window.overlap
        locator = WindowLocator(window, end_position(window.text[: window.overlap]))
        yield window, Chunk(
            text=window.text, path=path, source=source, line_offset=window.line_offset, fs_path=fs_path,
            relocate=locator,
        )
