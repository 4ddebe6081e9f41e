"""`keysweep revoke status`: the outbox as text or JSON, keys redacted."""

from __future__ import annotations

import json
from typing import Any

from scanner.revoke.outbox import Row
from scanner.revoke.payload import iso_time, redacted_body
from scanner.revoke.transport import display_url


def record(row: Row) -> dict[str, Any]:
    receipt: Any = row.response
    if row.response:
        try:
            receipt = json.loads(row.response)
        except ValueError:
            pass
    return {
        "webhook_id": row.webhook_id,
        "webhook": display_url(row.webhook),
        "url": display_url(row.url),
        "state": row.state,
        "attempts": row.attempts,
        "created_at": iso_time(row.created_at),
        "updated_at": iso_time(row.updated_at),
        "http_status": row.http_status,
        "last_error": row.last_error,
        "response": receipt,
        "keys": list(row.keys),
        "body": redacted_body(row.body),
    }


def render_json(rows: list[Row]) -> str:
    return json.dumps([record(r) for r in rows], indent=2, ensure_ascii=False) + "\n"


def render_text(rows: list[Row]) -> str:
    if not rows:
        return "the revoke outbox is empty\n"
    lines = []
    for row in rows:
        detail = row.response if row.state == "delivered" else row.last_error
        summary = " ".join((detail or "").split())[:160]
        lines.append(f"{iso_time(row.created_at)}  {row.state:<9}  {row.webhook}  {row.webhook_id}  "
                     f"attempts={row.attempts}  keys: {', '.join(row.keys)}" + (f"\n    {summary}" if summary else ""))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    lines.append(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return "\n".join(lines) + "\n"
