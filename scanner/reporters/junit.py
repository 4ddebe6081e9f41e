"""JUnit XML: one failing test case per finding, so Jenkins, GitLab and most CI systems list leaks
next to test failures. Suppressed candidates (--show-suppressed) are skipped test cases.

The structure is the de-facto one those tools read (Jenkins' JUnit plugin, GitLab's unit test
reports): <testsuites> holding one <testsuite> with tests/failures/errors/skipped counts, each
<testcase> with name, classname, file and line, a <failure message type> holding the details.
A clean scan is one passing test case: some CI systems treat a report with no test case as broken.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import cache
from typing import Any

from scanner.output import public_dict
from scanner.report import Report

# Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF):
# scanned content may hold them, and one would make the whole report unreadable.
NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@cache
def not_xml() -> re.Pattern[str]:
    return re.compile(NOT_XML)  # compiled on first use: pre-commit imports every reporter


def xml_text(value: Any) -> str:
    return not_xml().sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                       str(value))


def render(report: Report, *, redact: bool, color: bool = False, finished_at: datetime | None = None,
           target: str | None = None) -> str:
    import xml.etree.ElementTree as ET

    secrets = report.all_secrets
    findings = [public_dict(f, redact_secrets=redact, all_secrets=secrets) for f in report.findings]
    suppressed = [public_dict(f, redact_secrets=redact, all_secrets=secrets) for f in report.suppressed]
    cases = max(1, len(findings) + len(suppressed))
    counts = {"tests": str(cases), "failures": str(len(findings)), "errors": "0", "skipped": str(len(suppressed)),
              "time": f"{report.duration_s:.3f}"}
    suites = ET.Element("testsuites", {"name": "keysweep", **{k: v for k, v in counts.items() if k != "skipped"}})
    suite_attributes = {"name": "keysweep" + (f" {xml_text(target)}" if target else ""), **counts}
    if finished_at is not None:
        suite_attributes["timestamp"] = finished_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(suites, "testsuite", suite_attributes)
    for row in findings:
        case = testcase(suite, row)
        failure = ET.SubElement(case, "failure", {
            "message": xml_text(f"{row['description']} ({row['rule_id']}): {row['secret']} at {row['path']}:{row['line']}"),
            "type": xml_text(row["rule_id"]),
        })
        failure.text = xml_text(details(row))
    for row in suppressed:
        case = testcase(suite, row)
        ET.SubElement(case, "skipped", {"message": xml_text(f"suppressed: {row['suppressed']}")})
    if not findings and not suppressed:
        ET.SubElement(suite, "testcase", {"name": "no leaked keys", "classname": "keysweep", "time": "0"})
    ET.indent(suites, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def testcase(suite: Any, row: dict[str, Any]) -> Any:
    import xml.etree.ElementTree as ET

    return ET.SubElement(suite, "testcase", {
        "name": xml_text(f"{row['path']}:{row['line']} {row['rule_id']}"),
        "classname": xml_text(f"keysweep.{row['provider']}"),
        "file": xml_text(row["path"]),
        "line": str(row["line"]),
        "time": "0",
    })


def details(row: dict[str, Any]) -> str:
    lines = [
        f"rule: {row['rule_id']} ({row['rule_name']}), severity {row['severity']}, confidence {row['confidence']}",
        f"where: {row['path']}:{row['line']}:{row['column']}" + (f" in commit {row['commit']}" if row.get("commit") else ""),
        f"secret: {row['secret']}",
        f"snippet: {row['snippet'][:300]}",
        f"fingerprint: {row['fingerprint']}",
    ]
    if row.get("repository"):  # keysweep fleet
        lines.insert(1, f"repository: {row['repository']}")
    if row.get("author"):
        lines.append(f"introduced by {row['author']} on {str(row.get('date', ''))[:10]}"
                     + (f": {row['message']}" if row.get("message") else ""))
    if "in_head" in row:
        lines.append("still in HEAD" if row["in_head"] else "only in history (deleted from HEAD)")
    if row.get("overdue"):
        lines.append(f"overdue for rotation: first committed {row.get('age_days')} days ago")
    for location in (row.get("locations") or [])[1:]:
        lines.append(f"also added: {location.get('path')}:{location.get('line')} in {location.get('commit')}")
    if isinstance(row.get("verification"), dict):
        lines.append(f"verified: {row['verification'].get('status')}")
    lines.append(f"accept in .keysweepignore: {row['fingerprint']}")
    return "\n".join(lines)
