"""Path globs as users write them in configs: `**` spans directories, a bare name matches anywhere."""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=1024)
def glob_regex(glob: str) -> Any:
    import regex  # loaded on first use: most runs configure no glob

    anchored = "/" in glob.rstrip("/")
    glob = glob.strip("/") if anchored else glob.rstrip("/")
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(regex.escape(glob[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    # A pattern naming a directory also covers everything below it.
    return regex.compile(f"{prefix}{''.join(out)}(?:/.*)?")


def without_dot_slash(path: str) -> str:
    """`./src/a.py` and `src/a.py` name the same file: the shorter is shown and matched."""
    while path.startswith("./"):
        path = path[2:]
    return path


def matches_any(path: str, globs: tuple[str, ...] | list[str]) -> bool:
    path = without_dot_slash(path.replace("\\", "/"))
    return any(glob_regex(g).fullmatch(path) for g in globs)
