"""Keys in client-side code: publishable keys are meant to be there; anything else is served to every
visitor, so a secret-class key there is critical. The bundle reader only says where a key is
(`extra["exposure"]`); these decide what that means."""

from __future__ import annotations

from scanner.finding import Finding

PUBLIC_TAGS = frozenset({"public", "publishable"})
NOT_SECRET_CLASS_TAGS = frozenset({"test"})


def in_client_code(finding: Finding) -> bool:
    return "exposure" in finding.extra


def is_public_key_in_client_code(finding: Finding) -> str | None:
    if in_client_code(finding) and PUBLIC_TAGS & set(finding.tags):
        return "publishable key in client code: meant to be public"
    return None


def is_secret_class(finding: Finding) -> bool:
    """Server-side credentials: not test-mode keys, not informational matches."""
    return finding.severity not in ("info", "low") and not NOT_SECRET_CLASS_TAGS & set(finding.tags)


def grade_exposure(finding: Finding) -> Finding:
    if in_client_code(finding) and is_secret_class(finding) and finding.severity != "critical":
        return finding.replace(severity="critical")
    return finding
