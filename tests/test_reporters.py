"""Reporters are pure functions from a Report to text: golden files, redaction, SARIF schema."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import jsonschema
import pytest

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.pipeline import Scanner
from scanner.report import Report, ScanStats, sort_findings
from scanner.reporters import REPORTERS, render
from scanner.rules import load_rules

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
TOKEN_A = "kst_Qm4t7Zp2Lx9Vc3Bn8Rk5Wy1E"
TOKEN_B = "kst_Hv6Jt3Ns8Pw2Dz5Kq9Mb4Xc7R"
SOURCE = f'''import client
client.connect(token="{TOKEN_A}", backup="{TOKEN_B}")
# nothing here
other = "{TOKEN_A}"  # keysweep:allow
'''


def demo_report() -> Report:
    rules = load_rules([DATA / "rules" / "demo.toml"], builtin=False)
    scanner = Scanner(engine=Engine(rules, native=False), config=Config(), keep_suppressed=True)
    findings = sort_findings(scanner.scan(Chunk(text=SOURCE, path="src/app dir/client.py", fs_path=None)))
    stats = ScanStats(files_scanned=1, bytes_scanned=len(SOURCE))
    stats.skipped["binary"] = 2
    return Report(
        findings=[f for f in findings if f.suppressed is None],
        suppressed=[f for f in findings if f.suppressed is not None],
        stats=stats,
        rules=tuple(rules),
        duration_s=0.0,
    )


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_output_matches_golden_file(fmt: str) -> None:
    text = render(demo_report(), fmt, redact=True)
    golden = GOLDEN / f"report.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_redacted_output_never_contains_a_secret(fmt: str) -> None:
    text = render(demo_report(), fmt, redact=True)
    assert TOKEN_A not in text and TOKEN_B not in text
    assert "kst_Qm…" in text


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_no_redact_shows_the_secret(fmt: str) -> None:
    text = render(demo_report(), fmt, redact=False)
    assert TOKEN_A in text and TOKEN_B in text


def test_json_contract_fields() -> None:
    document = json.loads(render(demo_report(), "json", redact=True))
    assert set(document) >= {"version", "findings", "stats"}
    first = document["findings"][0]
    for key in ("rule_id", "description", "severity", "confidence", "secret", "fingerprint", "path", "line",
                "column", "source", "commit"):
        assert key in first
    assert first["fingerprint"].startswith("demo.token:") and len(first["fingerprint"].split(":")[1]) == 64
    assert (first["line"], first["column"], first["source"], first["commit"]) == (2, 23, "file", None)
    # The other secret on the same line is masked in the snippet too.
    assert first["snippet"] == 'client.connect(token="kst_Qm…", backup="kst_Hv…")'
    assert document["suppressed"][0]["suppressed"] == "inline 'keysweep:allow' comment"


def test_jsonl_is_one_finding_per_line() -> None:
    lines = render(demo_report(), "jsonl", redact=True).splitlines()
    assert [json.loads(line)["column"] for line in lines] == [23, 62, 10]


def test_csv_has_a_header_and_one_row_per_finding() -> None:
    rows = list(csv.DictReader(io.StringIO(render(demo_report(), "csv", redact=True))))
    assert [(r["path"], r["line"], r["secret"]) for r in rows][:2] == [
        ("src/app dir/client.py", "2", "kst_Qm…"), ("src/app dir/client.py", "2", "kst_Hv…")]


def test_sarif_is_valid_against_the_official_schema() -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    document = json.loads(render(demo_report(), "sarif", redact=True))
    jsonschema.Draft4Validator(schema).validate(document)
    result = document["runs"][0]["results"][0]
    assert result["partialFingerprints"]["keysweep/v1"].startswith("demo.token:")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app%20dir/client.py"
    assert document["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "https://example.test/docs/tokens"


def test_text_colour_only_when_asked() -> None:
    assert "\033[" not in render(demo_report(), "text", redact=True, color=False)
    assert "\033[" in render(demo_report(), "text", redact=True, color=True)


def test_text_names_who_introduced_a_history_finding() -> None:
    report = demo_report()
    extra = {"author": "Ada", "email": "ada@example.test", "date": "2026-01-02T03:04:05+00:00",
             "message": "add client", "in_head": False, "age_days": 325, "overdue": True,
             "locations": [{"commit": "a" * 40, "path": "x", "line": 1}, {"commit": "b" * 40, "path": "y", "line": 2}]}
    history = Report(findings=[report.findings[0].replace(source="git", commit="c" * 40, extra=extra)],
                     suppressed=[], stats=report.stats, rules=report.rules)
    text = render(history, "text", redact=True)
    assert ("  introduced by Ada <ada@example.test> on 2026-01-02: add client; no longer in HEAD (still in history);"
            " 325 days old, overdue for rotation; 2 locations") in text
    assert "@ cccccccccccc" in text


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_a_commit_message_quoting_the_key_is_redacted(fmt: str) -> None:
    report = demo_report()
    finding = report.findings[0]
    extra = {"author": "Ada", "email": "a@example.test", "date": "2026-01-02T00:00:00+00:00",
             "message": f"add client with {finding.secret}", "in_head": True}
    history = Report(findings=[finding.replace(source="git", commit="c" * 40, extra=extra)],
                     suppressed=[], stats=report.stats, rules=report.rules)
    assert finding.secret not in render(history, fmt, redact=True)
    assert finding.secret in render(history, "json", redact=False)
