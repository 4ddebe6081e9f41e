"""Verification statuses and how an HTTP answer maps to one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LIVE = "live"  # 2xx: the key works
INVALID = "invalid"  # 401: wrong, revoked or expired
NO_PERMISSION = "valid-no-permission"  # 403: the key authenticates but may not call this endpoint
RATE_LIMITED = "rate-limited"  # 429 after backing off: try again later
UNKNOWN = "unknown"  # anything else, or no answer
VALID = frozenset({LIVE, NO_PERMISSION})  # the key is real: what --only-verified keeps


@dataclass(frozen=True)
class Verification:
    status: str
    http_status: int | None = None
    detail: str = ""  # never contains the key

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"status": self.status, "http_status": self.http_status}
        if self.detail:
            record["detail"] = self.detail
        return record


def status_for(http_status: int) -> str:
    if 200 <= http_status < 300:
        return LIVE
    return {401: INVALID, 403: NO_PERMISSION, 429: RATE_LIMITED}.get(http_status, UNKNOWN)


def verification_of(extra: dict[str, Any]) -> str | None:
    """The status recorded on a finding (Finding.extra or a JSON record), if it was checked."""
    record = extra.get("verification")
    return record.get("status") if isinstance(record, dict) else None
