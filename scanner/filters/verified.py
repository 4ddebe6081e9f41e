"""`--only-verified`: keep only keys their provider confirmed (a filter that runs after --verify)."""

from __future__ import annotations

from scanner.filters.stage import Filter
from scanner.finding import Finding
from scanner.verify.status import VALID, verification_of


def is_unverified(finding: Finding) -> str | None:
    status = verification_of(finding.extra)
    if status in VALID:
        return None
    return f"not verified live (--only-verified; verification: {status or 'not checkable'})"


ONLY_VERIFIED = Filter("only verified", is_unverified)
