"""JUnit XML and GitLab secret-detection reports: valid against the structure CI servers read, one
entry per finding, redacted, and well-formed whatever the scanned content holds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from scanner.reporters import render
from scanner.report import Report
from test_report_html import NOW, history_report
from test_reporters import TOKEN_A, TOKEN_B, demo_report

DATA = Path(__file__).parent / "data"
JUNIT_XSD = xmlschema.XMLSchema(str(DATA / "junit.xsd"))
GITLAB_SCHEMA = json.loads((DATA / "gitlab-secret-detection-report.schema.json").read_text(encoding="utf-8"))


def junit(report: Report, **kwargs) -> ET.Element:
    text = render(report, "junit", redact=True, finished_at=NOW, **kwargs)
    JUNIT_XSD.validate(text)
    return ET.fromstring(text)


def gitlab(report: Report, *, redact: bool = True) -> dict:
    document = json.loads(render(report, "gitlab", redact=redact, finished_at=NOW))
    jsonschema.Draft7Validator(GITLAB_SCHEMA).validate(document)
    return document


# --- JUnit -------------------------------------------------------------------------------------


def test_junit_has_one_failing_test_case_per_finding_and_skips_the_suppressed() -> None:
    report = demo_report()
    root = junit(report, target="/srv/app")
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "2", "0", "1")
    assert (root.get("tests"), root.get("failures")) == ("3", "2")
    assert suite.get("timestamp") == "2026-03-01T12:00:00" and suite.get("name") == "keysweep /srv/app"
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("name"), c.get("file"), c.get("line"), c.get("classname")) for c in failures] == [
        ("src/app dir/client.py:2 demo.token", "src/app dir/client.py", "2", "keysweep.demo")] * 2
    failure = failures[0].find("failure")
    assert failure is not None and failure.get("type") == "demo.token"
    assert failure.get("message") == "A demo service token. (demo.token): kst_Qm… at src/app dir/client.py:2"
    assert f"accept in .keysweepignore: {report.findings[0].fingerprint}" in (failure.text or "")
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert [s.get("message") for s in skipped] == ["suppressed: inline 'keysweep:allow' comment"]


def test_junit_of_a_clean_scan_is_one_passing_test_case() -> None:
    report = demo_report()
    clean = Report(findings=[], suppressed=[], stats=report.stats, rules=report.rules)
    suite = junit(clean).find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "0"
    [case] = suite.findall("testcase")
    assert list(case) == []


def test_junit_carries_history_provenance() -> None:
    text = ET.tostring(junit(history_report()), encoding="unicode")
    assert "introduced by Ada on 2025-01-02: add billing" in text
    assert "overdue for rotation: first committed 423 days ago" in text
    assert "only in history (deleted from HEAD)" in text


def test_junit_stays_well_formed_with_control_characters_in_scanned_content() -> None:
    report = demo_report()
    odd = report.findings[0].replace(path="bad\x01name\x1b[31m.env", context_before="x\x00y ")
    text = render(Report(findings=[odd], suppressed=[], stats=report.stats, rules=report.rules), "junit", redact=True)
    JUNIT_XSD.validate(text)
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case is not None and case.get("file") == "bad\\x01name\\x1b[31m.env"


# --- GitLab ------------------------------------------------------------------------------------


def test_gitlab_report_matches_the_secret_detection_structure() -> None:
    report = demo_report()
    document = gitlab(report)
    assert document["version"] == "15.0.7"
    scan = document["scan"]
    assert (scan["type"], scan["status"], scan["analyzer"]["id"], scan["scanner"]["name"]) == (
        "secret_detection", "success", "keysweep", "keysweep")
    assert (scan["start_time"], scan["end_time"]) == ("2026-03-01T12:00:00", "2026-03-01T12:00:00")
    first = document["vulnerabilities"][0]
    assert first["severity"] == "High" and first["name"] == "Demo token"
    assert first["location"] == {"file": "src/app dir/client.py", "start_line": 2, "end_line": 2,
                                 "commit": {"sha": "0000000"}}
    assert first["identifiers"][0] == {"type": "keysweep_rule_id", "name": "keysweep rule demo.token",
                                       "value": "demo.token", "url": "https://example.test/docs/tokens"}
    assert first["identifiers"][1]["value"] == report.findings[0].fingerprint
    assert first["raw_source_code_extract"] == "kst_Qm…"
    # Model 15 dropped these from a vulnerability; the schema above refuses them too.
    assert not {"category", "cve", "message", "confidence", "scanner"} & set(first)


def test_gitlab_ids_are_unique_and_stable() -> None:
    first = [v["id"] for v in gitlab(demo_report())["vulnerabilities"]]
    again = [v["id"] for v in gitlab(demo_report())["vulnerabilities"]]
    assert first == again and len(set(first)) == len(first) == 2


def test_gitlab_history_finding_names_its_commit() -> None:
    report = history_report()
    document = gitlab(report)
    by_path = {v["location"]["file"]: v for v in document["vulnerabilities"]}
    removed = by_path["app/billing.py"]
    assert removed["location"]["commit"] == {"sha": "a" * 40, "author": "Ada <ada@example.test>",
                                             "date": "2025-01-02T10:00:00+00:00", "message": "add billing"}
    assert "Only in history" in removed["description"] and "overdue for rotation" in removed["description"]
    assert document["scan"]["start_time"] == "2026-03-01T11:59:58"  # end minus the scan's 2 s


@pytest.mark.parametrize("fmt", ["junit", "gitlab"])
def test_redacted_unless_asked(fmt: str) -> None:
    redacted = render(demo_report(), fmt, redact=True, finished_at=NOW)
    assert TOKEN_A not in redacted and TOKEN_B not in redacted
    assert TOKEN_A in render(demo_report(), fmt, redact=False, finished_at=NOW)


def test_without_a_clock_the_gitlab_times_are_the_epoch_not_now() -> None:
    """A reporter is a pure function: emit passes the time; a bare call gets a fixed one."""
    document = json.loads(render(demo_report(), "gitlab", redact=True))
    assert document["scan"]["end_time"] == "1970-01-01T00:00:00"
