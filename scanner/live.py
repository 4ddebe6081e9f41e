"""What a scanning command was asked to do beyond reporting: verify keys, revoke them.

Free of click (the pre-commit hook's fast path builds one too); `prepare` checks everything
before the scan starts and hands `emit` what runs around the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.config import Config
    from scanner.revoke.hook import PostScan
    from scanner.rules import Rule


@dataclass(frozen=True)
class LiveOptions:
    """What a scanning command was asked to do beyond reporting."""

    revoke: bool = False
    dry_run: bool = False
    force: bool = False
    state_dir: Path | None = None
    verify: bool = False
    only_verified: bool = False
    verify_hosts: tuple[str, ...] = ()
    allow_private: bool = False

    def prepare(self, config: Config, rules: list[Rule]) -> PostScan | None:
        """Check config, secrets and overrides before scanning; None when nothing was asked."""
        if not (self.revoke or self.dry_run or self.force or self.verify or self.only_verified
                or self.verify_hosts or self.allow_private):
            return None
        from scanner.revoke.hook import prepare

        return prepare(config=config, rules=rules, revoke=self.revoke, dry_run=self.dry_run, force=self.force,
                       state_dir=self.state_dir, verify=self.verify, only_verified=self.only_verified,
                       verify_hosts=self.verify_hosts, allow_private=self.allow_private)
