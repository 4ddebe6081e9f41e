"""The record every source hands to the engine: text plus where it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.finding import Finding


@dataclass(frozen=True)
class Chunk:
    text: str
    path: str
    source: str = "file"  # file, stdin, git, log, bundle, sourcemap, har
    line_offset: int = 0  # lines that precede this chunk in its file (for streamed input)
    commit: str | None = None
    fs_path: str | None = None  # where it lives on disk, for config path globs; None for stdin/git
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific context, copied to findings
    # Maps a finding in `text` back to the input it came from (decoded or unescaped text, a window
    # cut from a long line, a bundle's source map); None drops it (a window's overlap, already
    # reported by the window before). Sources that scan text as-is leave it None.
    relocate: Callable[[Finding], Finding | None] | None = field(default=None, compare=False, repr=False)
