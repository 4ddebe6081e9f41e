"""A finding: which rule matched which secret where. Identity leaves line numbers out."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scanner.fingerprints import secret_digest

if TYPE_CHECKING:
    from scanner.rules import Rule


@dataclass(frozen=True)
class FindingContext:
    """What scan-time filters look at besides the finding: never reported, dropped after the stage."""

    rule: Rule
    rel_path: str  # as config globs see it
    match: str  # the whole pattern match
    lines: str  # the match's line(s), within reach: where an allow comment would be


@dataclass(frozen=True)
class Finding:
    rule_id: str
    rule_name: str
    description: str
    severity: str
    confidence: str
    provider: str
    secret: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    source: str = "file"
    commit: str | None = None
    context_before: str = ""  # the secret's line around it; see `snippet`
    context_after: str = ""
    tags: tuple[str, ...] = ()
    suppressed: str | None = None  # why a filter dropped it, for --show-suppressed
    extra: dict[str, Any] = field(default_factory=dict)
    context: FindingContext | None = field(default=None, compare=False, repr=False)
    nearby_secrets: tuple[str, ...] = field(default=(), compare=False, repr=False)  # masked in snippets

    @property
    def secret_sha256(self) -> str:
        """Plain SHA-256: the revoke webhook contract (receivers match it against keys they issued)."""
        return hashlib.sha256(self.secret.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def digest(self) -> str:
        """The secret's name in reports, baselines and ignore files (keyed when a key is set: fingerprints.py)."""
        return secret_digest(self.secret)

    @property
    def fingerprint(self) -> str:
        """Stable across line moves and commits: the rule and the secret's digest."""
        return f"{self.rule_id}:{self.digest}"

    @property
    def snippet(self) -> str:
        return f"{self.context_before}{self.secret}{self.context_after}"

    def replace(self, **changes: Any) -> Finding:
        return dataclasses.replace(self, **changes)
