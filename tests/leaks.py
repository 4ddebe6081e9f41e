"""Helpers for the logs/bundles/HAR/archive tests: synthetic keys, a scanner on stable rules, and
the expected location of a secret in raw text."""

from __future__ import annotations

import random
import string
from pathlib import Path

from scanner.config import Config
from scanner.engine import Engine
from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.report import Report
from scanner.rules import load_rules
from scanner.scan import scan_paths

ROOT = Path(__file__).resolve().parent.parent
BASE62 = string.ascii_letters + string.digits

# Rules only these tests use: they match only once a log's escapes are decoded, so they prove the decoding.
TEST_RULES = '''
[[rules]]
id = "testlog.bearer-header"
name = "Bearer token in a JSON Authorization header"
description = "Matches only the unescaped JSON form."
pattern = \'\'\'"Authorization":\\s*"Bearer (tok_[A-Za-z0-9]{32})"\'\'\'
keywords = ["authorization"]
severity = "high"
confidence = "high"

[[rules]]
id = "testlog.auth-header"
name = "Bearer token in an Authorization header line"
description = "Needs a word boundary before the header name, which the literal CRLF escapes of a dump hide until decoded."
pattern = \'\'\'\\bAuthorization: Bearer (tok_[A-Za-z0-9]{32})\\b\'\'\'
keywords = ["authorization"]
severity = "high"
confidence = "high"

[[rules]]
id = "testlog.query-key"
name = "api_key query parameter"
description = "Matches only after & and = are decoded."
pattern = \'\'\'[?&]api_key=(qk_[A-Za-z0-9]{32})\'\'\'
keywords = ["api_key="]
severity = "high"
confidence = "high"

[[rules]]
id = "testlog.block-key"
name = "A key block spread over lines"
description = "Multi-line: proves matches straddling a window cut are found once."
pattern = \'\'\'-----BEGIN TEST KEY-----\\n((?:[A-Za-z0-9]{16}\\n){2,8})-----END TEST KEY-----\'\'\'
keywords = ["-----begin test key-----"]
severity = "high"
confidence = "high"
'''


def body(rng: random.Random, length: int = 32) -> str:
    return "".join(rng.choice(BASE62) for _ in range(length))


def live_key(rng: random.Random) -> str:
    """A random string in the shape of rules/payments/stripe.toml's stripe.secret-key (never a real key)."""
    return "sk_live_" + body(rng, 32)


def stripe_scanner(tmp_path: Path | None = None, *, with_test_rules: bool = False, config: Config | None = None) -> Scanner:
    """A scanner on rules/payments/stripe.toml (and the test rules above), independent of other rule files."""
    files = [ROOT / "rules" / "payments" / "stripe.toml"]
    if with_test_rules:
        assert tmp_path is not None
        extra = tmp_path / "test-rules.toml"
        extra.write_text(TEST_RULES)
        files.append(extra)
    return Scanner(engine=Engine(load_rules(files, builtin=False), native=False), config=config or Config(root=tmp_path or Path.cwd()))


def scan(paths: list[Path | str], scanner: Scanner) -> Report:
    return scan_paths([str(p) for p in paths], scanner=scanner, jobs=1)


def where(text: str, needle: str, occurrence: int = 0) -> tuple[int, int, int, int]:
    """1-based (line, column, end line, end column) of needle in raw text, as a finding reports it."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    end = offset + len(needle)
    line = text.count("\n", 0, offset) + 1
    end_line = text.count("\n", 0, end) + 1
    return line, offset - text.rfind("\n", 0, offset), end_line, end - text.rfind("\n", 0, end)


def location(finding: Finding) -> tuple[int, int, int, int]:
    return finding.line, finding.column, finding.end_line, finding.end_column


def by_secret(findings: list[Finding]) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for finding in findings:
        assert finding.secret not in found, f"reported twice: {finding.path}:{finding.line}"
        found[finding.secret] = finding
    return found
