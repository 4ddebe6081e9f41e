"""Several reports from one run: `-o` repeated, each file's format from its extension unless
--format names one, the terminal still told how the scan went. Real CLI, real files, real git."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from conftest import DATA, run_keysweep
from gitutil import GitRepo
from scanner.errors import UsageError
from scanner.reporters import format_for_path

LIVE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"  # the shape of a Stripe live key; not a real one
GONE = "sk_live_" + "Vb7Tq2Lm9Xc4Nz8Rw1Kp5Hd3"


@pytest.mark.parametrize(("name", "fmt"), [
    ("keysweep.sarif", "sarif"), ("results.sarif.json", "sarif"), ("report.json", "json"), ("R.JSON", "json"),
    ("findings.jsonl", "jsonl"), ("findings.ndjson", "jsonl"), ("findings.csv", "csv"), ("audit.html", "html"),
    ("audit.htm", "html"), ("junit.xml", "junit"), ("keysweep.gitlab.json", "gitlab"),
    ("gl-secret-detection-report.json", "gitlab"), ("out/summary.txt", "text"),
    ("/dev/null", None), ("report", None), ("-", None), (".keysweep-report", None),
])
def test_format_for_path(name: str, fmt: str | None) -> None:
    assert format_for_path(name) == fmt


@pytest.mark.parametrize("name", ["audit.pdf", "report.sarif.bak", "x.yaml"])
def test_unknown_extension_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError, match=r"cannot tell the report format from '\.[a-z]+'.*--format"):
        format_for_path(name)


def project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "pay.py").write_text(f'STRIPE_KEY = "{LIVE}"\n')
    return root


@pytest.mark.slow
def test_one_scan_writes_every_format_its_file_names_ask_for(tmp_path: Path) -> None:
    cwd = project(tmp_path / "proj")
    out = tmp_path / "out"
    out.mkdir()
    names = ["keysweep.sarif", "report.json", "findings.jsonl", "findings.csv", "audit.html", "junit.xml",
             "gl-secret-detection-report.json", "summary.txt"]
    args = [a for name in names for a in ("-o", str(out / name))]
    result = run_keysweep("scan", ".", *args, cwd=cwd)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # every report went to a file...
    # ...and the terminal still hears the summary, and where each report went.
    assert re.fullmatch(r"keysweep: 1 finding \(1 critical\) in 1 file, \d+ B, [\d.]+ s; reports: .*\n", result.stderr)
    assert f"{out / 'audit.html'} (html)" in result.stderr and f"{out / 'junit.xml'} (junit)" in result.stderr
    for name in names:
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
        assert LIVE not in (out / name).read_text(), name
    sarif = json.loads((out / "keysweep.sarif").read_text())
    jsonschema.validate(sarif, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
    fingerprint = json.loads((out / "report.json").read_text())["findings"][0]["fingerprint"]
    assert json.loads((out / "findings.jsonl").read_text())["fingerprint"] == fingerprint
    assert next(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))["fingerprint"] == fingerprint
    assert f'data-fingerprint="{fingerprint}"' in (out / "audit.html").read_text()
    assert ET.fromstring((out / "junit.xml").read_text()).find("testsuite").get("failures") == "1"
    assert json.loads((out / "gl-secret-detection-report.json").read_text())["scan"]["type"] == "secret_detection"
    assert (out / "summary.txt").read_text().startswith("app/pay.py:1:")


@pytest.mark.slow
def test_format_names_the_format_of_every_file(tmp_path: Path) -> None:
    cwd = project(tmp_path / "proj")
    result = run_keysweep("scan", ".", "--format", "json", "-o", "../a.html", "-o", "../b", cwd=cwd)
    assert result.returncode == 1, result.stderr
    for name in ("a.html", "b"):
        assert json.loads((tmp_path / name).read_text())["findings"][0]["rule_id"] == "stripe.secret-key"


@pytest.mark.slow
def test_a_name_without_extension_gets_text(tmp_path: Path) -> None:
    cwd = project(tmp_path / "proj")
    assert run_keysweep("scan", ".", "-o", "../report", cwd=cwd).returncode == 1
    assert (tmp_path / "report").read_text().startswith("app/pay.py:1:")


@pytest.mark.slow
def test_dash_is_standard_output_next_to_files(tmp_path: Path) -> None:
    cwd = project(tmp_path / "proj")
    result = run_keysweep("scan", ".", "-o", "-", "-o", "../audit.html", cwd=cwd)
    assert result.returncode == 1
    assert result.stdout.startswith("app/pay.py:1:") and "1 finding (1 critical)" in result.stdout
    assert "reports:" not in result.stderr  # the terminal already has the report
    assert (tmp_path / "audit.html").read_text().startswith("<!DOCTYPE html>")


def test_unknown_extension_fails_before_scanning_with_one_line(tmp_path: Path) -> None:
    cwd = project(tmp_path / "proj")
    result = run_keysweep("scan", ".", "-o", "../ok.json", "-o", "../audit.pdf", cwd=cwd)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("keysweep: error: ../audit.pdf: cannot tell")
    assert not (tmp_path / "ok.json").exists() and not (tmp_path / "audit.pdf").exists()


@pytest.mark.slow
def test_git_writes_sarif_and_html_from_one_history_scan(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add payment client", {"app/pay.py": f'KEY = "{LIVE}"\n'}, author="Ada")
    repo.commit("Old fixture", {"fixtures/<b>old</b>.env": f"STRIPE={GONE}\n"}, author="Ben")
    repo.commit("Drop the fixture", remove=("fixtures/<b>old</b>.env",), author="Ben")
    result = run_keysweep("git", "-o", "keysweep.sarif", "-o", "audit.html", "-o", "report.json", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    assert "keysweep: 2 findings (2 critical)" in result.stderr
    sarif = json.loads((repo.path / "keysweep.sarif").read_text())
    jsonschema.validate(sarif, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
    findings = json.loads((repo.path / "report.json").read_text())["findings"]
    html = (repo.path / "audit.html").read_text()
    rows = re.findall(r'<tr class="main" data-fingerprint="([^"]+)"', html)
    assert sorted(rows) == sorted(f["fingerprint"] for f in findings) == sorted(
        r["partialFingerprints"]["keysweep/v1"] for r in sarif["runs"][0]["results"])
    assert 'data-count="in-head">1<' in html and 'data-count="history-only">1<' in html
    assert "fixtures/&lt;b&gt;old&lt;/b&gt;.env" in html and "<b>old</b>" not in html
    assert f"Scanned: <code class=\"target\">{repo.path}</code>" in html
    assert LIVE not in html and GONE not in html
