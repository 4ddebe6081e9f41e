"""Accepted findings: a baseline file and `.keysweepignore`, applied the same way to every scan.

Both key a finding by content: rule id, sha256 of the secret, and path. Line numbers and commit
shas stay out, so moved code and squash-merges don't churn a baseline, and a *different* secret
at the same place never matches. Neither file ever holds a secret in clear.

Paths in a baseline or an ignore file are relative to the directory that file lives in; a
history finding is accepted only when every location it was added at is.

    # .keysweepignore: one fingerprint per line (as printed in reports), optional `:path`, `#` comments
    stripe.secret-key:5e0c…9a1f                 # rotated 2024-05, dead key in old fixtures
    stripe.secret-key:77d2…0b3c:docs/setup.md   # only at this path
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import re

from scanner.errors import ConfigError, UsageError
from scanner.finding import Finding
from scanner.filters.stage import Filter

BASELINE_FORMAT = 1
IGNORE_FILE = ".keysweepignore"
IGNORE_LINE = re.compile(r"(?P<rule>[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+):(?P<sha>[0-9a-f]{64})(?::(?P<path>.+))?")
COMMENT = re.compile(r"(?:^|\s)#")  # a comment starts a line or follows whitespace (a path may hold '#')
SHA256 = re.compile(r"[0-9a-f]{64}")
Key = tuple[str, str, str]  # (rule id, sha256 of the secret, path relative to the accepting file)


@dataclass(frozen=True)
class Ignore:
    line: int
    rule_id: str
    secret_sha256: str
    path: str | None  # None: at any path


@dataclass(frozen=True)
class Accepted:
    """A loaded baseline and ignore file; `base` directories anchor their relative paths."""

    baseline: frozenset[Key] = frozenset()
    baseline_source: str = ""
    baseline_base: str = ""
    ignores: tuple[Ignore, ...] = ()
    ignore_source: str = ""
    ignore_base: str = ""


def finding_paths(finding: Finding) -> list[str]:
    """Every path a finding stands for: a history finding's locations, else its own path."""
    locations = finding.extra.get("locations")
    if isinstance(locations, list) and locations:
        return sorted({str(loc["path"]) for loc in locations})
    return [finding.path]


def relative_to(path: str, *, root: Path | None, base: str) -> str:
    """A finding path (relative to root, the scan's directory or the repository) made relative to base."""
    if root is None or path == "-":
        return path  # standard input, or a bare repository with no working tree to anchor it
    absolute = os.path.normpath(os.path.join(root, path))
    return Path(os.path.relpath(absolute, base)).as_posix()


def keys(finding: Finding, *, root: Path | None, base: str) -> list[Key]:
    return [(finding.rule_id, finding.digest, relative_to(p, root=root, base=base)) for p in finding_paths(finding)]


# --- baseline files ---------------------------------------------------------------------------


def render_baseline(findings: Iterable[Finding], *, root: Path | None, output: Path | None) -> str:
    """The baseline document for these findings (deterministic: sorted, no timestamps)."""
    base = _base_dir(output)
    entries = sorted({key for f in findings for key in keys(f, root=root, base=base)})
    document: dict[str, Any] = {
        "keysweep_baseline": BASELINE_FORMAT,
        "note": "Accepted findings: rule id, sha256 of the secret, path relative to this file. No secrets.",
        "findings": [{"rule_id": r, "secret_sha256": s, "path": p} for r, s, p in entries],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _base_dir(path: Path | None) -> str:
    if path is None or str(path) == "-":
        return os.getcwd()
    return os.path.dirname(os.path.abspath(path))


def load_baseline(path: Path) -> frozenset[Key]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: baseline file not found (create one with `keysweep baseline create -o {path}`)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a keysweep baseline: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("keysweep_baseline") != BASELINE_FORMAT:
        raise ConfigError(f"{path}: not a keysweep baseline (expected \"keysweep_baseline\": {BASELINE_FORMAT})")
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: \"findings\" must be a list")
    found: set[Key] = set()
    for n, entry in enumerate(entries, 1):
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("rule_id", "secret_sha256", "path"))
                and SHA256.fullmatch(entry["secret_sha256"])):
            raise ConfigError(f"{path}: finding #{n} needs string rule_id, path and a 64-hex secret_sha256")
        found.add((entry["rule_id"], entry["secret_sha256"], entry["path"]))
    return frozenset(found)


# --- ignore files ---------------------------------------------------------------------------


def load_ignores(path: Path) -> tuple[Ignore, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ignore file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: ignore file is not UTF-8 text") from None
    ignores = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = COMMENT.split(raw, 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = IGNORE_LINE.fullmatch(line)
        if not match:
            raise ConfigError(f"{path}:{n}: expected a fingerprint 'rule.id:<sha256>' with optional ':path', got {line!r}")
        ignores.append(Ignore(n, match["rule"], match["sha"], match["path"]))
    return tuple(ignores)


def load_accepted(*, baseline: Path | None, ignore_file: Path | None, root: Path | None) -> Accepted | None:
    """The baseline given, and the ignore file given or `.keysweepignore` in root; None when neither exists."""
    if ignore_file is None and root is not None and (root / IGNORE_FILE).is_file():
        ignore_file = root / IGNORE_FILE
    if baseline is None and ignore_file is None:
        return None
    return Accepted(
        baseline=load_baseline(baseline) if baseline else frozenset(),
        baseline_source=str(baseline or ""),
        baseline_base=_base_dir(baseline) if baseline else "",
        ignores=load_ignores(ignore_file) if ignore_file else (),
        ignore_source=_display(ignore_file) if ignore_file else "",
        ignore_base=_base_dir(ignore_file) if ignore_file else "",
    )


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the current directory when it is below it."""
    relative = os.path.relpath(os.path.abspath(path))
    return str(path) if relative.startswith("..") else relative


# --- applying them ----------------------------------------------------------------------------


class AcceptedFilters:
    """The baseline and the ignore file as filters 6 and 7 of the stage, remembering which ignore
    lines matched something (for --report-unused-ignores)."""

    def __init__(self, accepted: Accepted, *, root: Path | None) -> None:
        self.accepted = accepted
        self.root = root
        self.used: set[int] = set()

    @property
    def filters(self) -> tuple[Filter, ...]:
        return (Filter("baseline", self.in_baseline), Filter("ignore file", self.ignored))

    def in_baseline(self, finding: Finding) -> str | None:
        accepted = self.accepted
        if accepted.baseline and all(key in accepted.baseline
                                     for key in keys(finding, root=self.root, base=accepted.baseline_base)):
            return f"in baseline {accepted.baseline_source}"
        return None

    def ignored(self, finding: Finding) -> str | None:
        """Ignored when every path the finding stands for is covered by an ignore line."""
        accepted = self.accepted
        matching = [i for i in accepted.ignores
                    if i.rule_id == finding.rule_id and i.secret_sha256 == finding.digest]
        if not matching:
            return None
        hits: list[Ignore] = []
        for path in finding_paths(finding):
            here = relative_to(path, root=self.root, base=accepted.ignore_base)
            covering = [i for i in matching if i.path is None or i.path == here]
            if not covering:
                return None
            hits.extend(covering)
        self.used.update(i.line for i in hits)
        return f"ignored by {accepted.ignore_source}:{hits[0].line}"

    def note_suppressed(self, findings: list[Finding]) -> None:
        """An ignore line for a finding another filter already dropped still counts as used."""
        for finding in findings:
            self.ignored(finding)

    def unused(self) -> list[Ignore]:
        return [i for i in self.accepted.ignores if i.line not in self.used]
