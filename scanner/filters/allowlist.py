"""User-declared exceptions: inline comments, config allowlists and a rule's own stopwords."""

from __future__ import annotations

from scanner.config import Allowlist
from scanner.globs import matches_any
from scanner.rules import Rule

INLINE_MARKERS = ("keysweep:allow", "gitleaks:allow", "pragma: allowlist secret")


def has_inline_allow(lines: str) -> str | None:
    for marker in INLINE_MARKERS:
        if marker in lines:
            return f"inline '{marker}' comment"
    return None


def rule_allow_reason(rule: Rule, secret: str) -> str | None:
    lowered = secret.lower()
    for word in rule.allow.stopwords:
        if word in lowered:
            return f"rule stopword '{word}'"
    for pattern in rule.allow_regexes:
        if pattern.search(secret):
            return f"rule allow regex {pattern.pattern!r}"
    return None


def config_allow_reason(
    allowlists: tuple[Allowlist, ...], *, rule_id: str, rel_path: str, secret: str, match: str, line: str
) -> str | None:
    """An allowlist applies when every condition it sets holds (rule, path, and regex/stopword)."""
    targets = {"secret": secret, "match": match, "line": line}
    for allowlist in allowlists:
        if allowlist.rules and rule_id not in allowlist.rules:
            continue
        if allowlist.paths and not matches_any(rel_path, allowlist.paths):
            continue
        content_conditions = allowlist.regexes or allowlist.stopwords
        if content_conditions and not (
            any(p.search(targets[allowlist.regex_target]) for p in allowlist.compiled)
            or any(word in secret.lower() for word in allowlist.stopwords)
        ):
            continue
        if not (allowlist.paths or content_conditions):
            continue  # an allowlist naming only rules would silence them; that is rules.disable's job
        return f"config allowlist{': ' + allowlist.description if allowlist.description else ''}"
    return None
