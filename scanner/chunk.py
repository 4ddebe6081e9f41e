"""The record every source hands to the engine: text plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chunk:
    text: str
    path: str
    source: str = "file"  # file, stdin, git, log, bundle, sourcemap, har
    line_offset: int = 0  # lines that precede this chunk in its file (for streamed input)
    commit: str | None = None
    fs_path: str | None = None  # where it lives on disk, for config path globs; None for stdin/git
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific context, copied to findings
