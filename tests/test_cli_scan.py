"""`keysweep scan` end to end, as a user runs it: exit codes, inputs, config, allowlists, output files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from scanner.rules import load_rules

from conftest import ROOT, run_keysweep

LIVE = "sk_live_" + "u8jzPde0IgxLd6GncfBAepfJ"
LIVE2 = "sk_live_" + "wMFLZDe1f8rESQedUStPKR0CsTy4Qwb8Dw"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scan_json(*args: str, cwd: Path, stdin: str | None = None) -> tuple[int, dict]:
    result = run_keysweep("scan", "--format", "json", *args, cwd=cwd, stdin=stdin)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_version() -> None:
    result = run_keysweep("--version")
    assert result.returncode == 0 and result.stdout.startswith("keysweep, version ")


@pytest.mark.slow
def test_clean_tree_exits_zero(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('hello')\n")
    result = run_keysweep("scan", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.startswith("0 findings in 1 file")


@pytest.mark.slow
def test_finding_exits_one_with_location_and_redaction(tmp_path: Path) -> None:
    write(tmp_path / "src" / "pay.py", f'import stripe\nstripe.api_key = "{LIVE}"\n')
    result = run_keysweep("scan", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert "src/pay.py:2:19  stripe.secret-key  critical/high" in result.stdout
    assert LIVE not in result.stdout and "sk_liv…" in result.stdout


@pytest.mark.slow
def test_custom_exit_code(tmp_path: Path) -> None:
    write(tmp_path / "pay.py", f'KEY = "{LIVE}"\n')
    assert run_keysweep("scan", "--exit-code", "7", str(tmp_path)).returncode == 7
    assert run_keysweep("scan", "--exit-code", "0", str(tmp_path)).returncode == 0


@pytest.mark.slow
def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_keysweep("scan", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr == f"keysweep: error: {tmp_path / 'nope'}: no such file or directory\n"


def test_unknown_option_is_a_usage_error() -> None:
    result = run_keysweep("scan", "--frobnicate")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keysweep: error: No such option '--frobnicate'.")


@pytest.mark.slow
def test_stdin(tmp_path: Path) -> None:
    code, report = scan_json("-", cwd=tmp_path, stdin=f"log line\ncurl -u {LIVE}: https://api\n")
    assert code == 1
    finding = report["findings"][0]
    assert (finding["path"], finding["line"], finding["column"], finding["source"]) == ("-", 2, 9, "stdin")


@pytest.mark.slow
def test_untracked_ignored_and_dotfiles_are_scanned_but_not_dot_git(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", ".env.local\n")
    write(tmp_path / ".env.local", f"STRIPE_SECRET_KEY={LIVE}\n")
    write(tmp_path / ".git" / "config", f"token = {LIVE2}\n")
    code, report = scan_json(str(tmp_path), cwd=tmp_path)
    assert [Path(f["path"]).name for f in report["findings"]] == [".env.local"]


@pytest.mark.slow
def test_binary_huge_and_unreadable_files_are_skipped_and_counted(tmp_path: Path) -> None:
    write(tmp_path / "ok.py", f'KEY = "{LIVE}"\n')
    (tmp_path / "blob.dat").write_bytes(b"\x00\x01" + LIVE.encode() + b"\x00")
    (tmp_path / "image.png").write_bytes(LIVE.encode())
    write(tmp_path / "huge.txt", "x" * 2048 + LIVE)
    write(tmp_path / ".keysweep.toml", '[scan]\nmax_file_size = "1KB"\n')
    locked = write(tmp_path / "locked.py", f'KEY = "{LIVE2}"\n')
    locked.chmod(0)
    try:
        result = run_keysweep("scan", "--format", "json", ".", cwd=tmp_path)
    finally:
        locked.chmod(0o644)
    report = json.loads(result.stdout)
    assert result.returncode == 1
    skipped = report["stats"]["skipped"]
    assert skipped["binary"] == 2 and skipped["too large"] == 1
    assert "keysweep: warning: huge.txt: skipped, 2080 bytes is over the 1024-byte limit (scan.max_file_size)" in result.stderr
    if os.geteuid() == 0:  # root reads anything: the locked file is read like any other
        assert [f["path"] for f in report["findings"]] == ["locked.py", "ok.py"] and "unreadable" not in skipped
    else:
        assert [f["path"] for f in report["findings"]] == ["ok.py"]
        assert skipped["unreadable"] == 1 and "locked.py: cannot read: Permission denied" in result.stderr


@pytest.mark.slow
def test_utf16_file_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "win.ps1").write_bytes(f'$key = "{LIVE}"\r\n'.encode("utf-16"))
    code, report = scan_json(str(tmp_path), cwd=tmp_path)
    assert report["findings"][0]["line"] == 1


@pytest.mark.slow
def test_output_file_is_private_and_special_files_are_written_into(tmp_path: Path) -> None:
    write(tmp_path / "pay.py", f'KEY = "{LIVE}"\n')
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    report.write_text("old")
    report.chmod(0o644)
    assert run_keysweep("scan", "--format", "json", "-o", str(report), str(tmp_path / "pay.py")).returncode == 1
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert json.loads(report.read_text())["findings"][0]["rule_id"] == "stripe.secret-key"
    assert run_keysweep("scan", "-o", "/dev/null", str(tmp_path / "pay.py")).returncode == 1
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.slow
def test_no_redact(tmp_path: Path) -> None:
    write(tmp_path / "pay.py", f'KEY = "{LIVE}"\n')
    result = run_keysweep("scan", "--no-redact", "--format", "jsonl", str(tmp_path))
    assert json.loads(result.stdout)["secret"] == LIVE


@pytest.mark.slow
@pytest.mark.parametrize("marker", ["# keysweep:allow", "// gitleaks:allow", "# pragma: allowlist secret"])
def test_inline_allow_markers(tmp_path: Path, marker: str) -> None:
    write(tmp_path / "pay.py", f'KEY = "{LIVE}"  {marker}\n')
    code, report = scan_json("--show-suppressed", str(tmp_path), cwd=tmp_path)
    assert code == 0 and report["findings"] == []
    assert report["suppressed"][0]["suppressed"].startswith("inline '")


@pytest.mark.slow
def test_config_found_upward_and_allowlists_apply(tmp_path: Path) -> None:
    write(tmp_path / ".keysweep.toml", """
[[allowlist]]
description = "fixtures"
paths = ["fixtures/**"]

[[allowlist]]
rules = ["stripe.secret-key"]
regexes = ['wMFLZ']

[[allowlist]]
regex_target = "line"
regexes = ['^ALLOWED_LINE']
""")
    write(tmp_path / "fixtures" / "a.py", f'KEY = "{LIVE}"\n')
    write(tmp_path / "src" / "b.py", f'KEY = "{LIVE2}"\nALLOWED_LINE = "{LIVE}"\nREAL = "{LIVE}"\n')
    code, report = scan_json("--show-suppressed", "src", cwd=tmp_path)
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("src/b.py", 3)]
    assert {f["suppressed"] for f in report["suppressed"]} == {"config allowlist"}
    # Scanning from the top: the fixtures path is skipped before it is read.
    code, report = scan_json(".", cwd=tmp_path)
    assert report["stats"]["skipped"]["excluded"] == 1


@pytest.mark.slow
def test_pyproject_tool_table_is_used(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.keysweep.scan]\nexclude = ["vendor"]\n')
    write(tmp_path / "vendor" / "lib.py", f'KEY = "{LIVE}"\n')
    assert run_keysweep("scan", ".", cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_disable_rule(tmp_path: Path) -> None:
    write(tmp_path / "k.toml", '[rules]\ndisable = ["stripe.secret-key"]\n')
    write(tmp_path / "pay.py", f'STRIPE_SECRET = "{LIVE}"\n')
    code, report = scan_json(str(tmp_path / "pay.py"), cwd=tmp_path)  # the positive control
    assert code == 1 and [f["rule_id"] for f in report["findings"]] == ["stripe.secret-key"]
    code, report = scan_json("--config", str(tmp_path / "k.toml"), str(tmp_path / "pay.py"), cwd=tmp_path)
    assert "stripe.secret-key" not in [f["rule_id"] for f in report["findings"]]
    assert [f["rule_id"] for f in report["findings"]] == ["generic.secret-assignment"] and code == 1


@pytest.mark.parametrize(("config", "message"), [
    ("[scan\n", "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 6)"),
    ("[colour]\n", "unknown section(s): colour; expected allowlist, baseline, git, revoke, rules, scan, verify"),
    ("[scan]\nmax_file_size = -3\n", 'scan.max_file_size: expected a positive size such as 10485760 or "10MB", got -3'),
    ("[scan]\nexlude = []\n", "[scan] has unknown key(s): exlude"),
    ("[[allowlist]]\nregexes = ['(']\n", "allowlist #1: regex '(' does not compile: missing ) at position 1"),
    ("[[allowlist]]\nregex_target = 'file'\n", "allowlist #1: regex_target must be one of secret, match, line"),
    ("[rules]\ndisable = ['nope.rule']\n", "rules.disable names unknown rule(s): nope.rule"),
])
@pytest.mark.slow
def test_bad_config_is_exit_3_with_one_line(tmp_path: Path, config: str, message: str) -> None:
    write(tmp_path / ".keysweep.toml", config)
    result = run_keysweep("scan", ".", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr == f"keysweep: error: {tmp_path / '.keysweep.toml'}: {message}\n"


def test_missing_config_file(tmp_path: Path) -> None:
    result = run_keysweep("scan", "--config", "nope.toml", ".", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (3, "keysweep: error: nope.toml: config file not found\n")


@pytest.mark.parametrize(("rules", "message"), [
    ("[[rules]]\nid = 'x'\n", "rule id 'x' must look like 'provider.kind' (lowercase, dotted)"),
    ("[[rules]]\nid = 'a.b'\nname = 'n'\n",
     "rule 'a.b': missing field(s): description, pattern, keywords, severity, confidence"),
    ("rules = 3\n", "expected one or more [[rules]] tables"),
    ("[[rules]\n", "invalid TOML: Expected ']]' at the end of an array declaration (at line 1, column 8)"),
    ("[[rules]]\nid = 'a.b'\nname = 'n'\ndescription = 'd'\npattern = 'x'\nkeywords = ['x']\n"
     "severity = 'urgent'\nconfidence = 'high'\n", "rule 'a.b': severity must be one of info, low, medium, high, critical"),
])
def test_bad_rule_file_is_exit_3(tmp_path: Path, rules: str, message: str) -> None:
    write(tmp_path / "bad.toml", rules)
    result = run_keysweep("scan", "--rules", str(tmp_path / "bad.toml"), str(tmp_path / "bad.toml"))
    assert result.returncode == 3
    assert result.stderr == f"keysweep: error: {tmp_path / 'bad.toml'}: {message}\n"


@pytest.mark.slow
def test_extra_rules_are_used(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x = kst_Qm4t7Zp2Lx9Vc3Bn8Rk5Wy1E\n")
    result = run_keysweep("scan", "--rules", str(ROOT / "tests" / "data" / "rules"), str(tmp_path / "a.txt"))
    assert result.returncode == 1 and "demo.token" in result.stdout


@pytest.mark.slow
def test_parallel_scan_matches_serial(tmp_path: Path) -> None:
    for n in range(150):
        write(tmp_path / f"pkg{n % 7}" / f"m{n}.py", f'K{n} = "{LIVE if n % 50 == 0 else "nothing"}"\n')
    serial = scan_json("--jobs", "1", ".", cwd=tmp_path)[1]
    parallel = scan_json("--jobs", "2", ".", cwd=tmp_path)[1]
    assert serial["findings"] == parallel["findings"] and len(serial["findings"]) == 3
    assert serial["stats"]["files_scanned"] == parallel["stats"]["files_scanned"] == 150


@pytest.mark.slow
def test_show_suppressed_gives_the_reason(tmp_path: Path) -> None:
    write(tmp_path / "pay.py", 'A = "sk_live_0123456789abcdefghijklmn"\nB = "sk_live_000000000000000000000000"\n')
    code, report = scan_json("--show-suppressed", str(tmp_path), cwd=tmp_path)
    assert code == 0
    assert [f["suppressed"] for f in report["suppressed"]] == [
        "sequential characters", "entropy 1.50 below the rule's floor of 3.0"]


@pytest.mark.slow
def test_rules_list_and_json() -> None:
    text = run_keysweep("rules", "list")
    lines = text.stdout.splitlines()
    assert text.returncode == 0 and all(len(line.split("\t")) == 4 for line in lines)
    rows = json.loads(run_keysweep("rules", "list", "--format", "json").stdout)
    assert [line.split("\t")[0] for line in lines] == [r["id"] for r in rows]
    assert len(rows) == len(load_rules()) and "stripe.secret-key" in {r["id"] for r in rows}
    providers = len({r["provider"] for r in rows})
    assert f"keysweep: {len(rows)} rules from {providers} providers in" in text.stderr


@pytest.mark.slow
def test_rules_check_reports_problems(tmp_path: Path) -> None:
    write(tmp_path / "r.toml", """
[[rules]]
id = "bad.two-groups"
name = "n"
description = "d"
pattern = '(a)(b)'
keywords = ["zz"]
severity = "low"
confidence = "low"
examples = ["ab"]

[[rules]]
id = "bad.two-groups"
name = "n"
description = "d"
pattern = '(?:(x+)+)y'
keywords = ["x"]
severity = "low"
confidence = "low"
examples = [{ text = "xy", secret = "x" }]
negative_examples = ["y"]
""")
    result = run_keysweep("rules", "check", str(tmp_path / "r.toml"))
    where = f"{tmp_path / 'r.toml'}: rule 'bad.two-groups'"
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert f"{where}: duplicate id (also in {tmp_path / 'r.toml'})" in lines
    assert f"{where}: pattern has 2 groups, expected 1 (the secret); use (?:...) for others" in lines
    assert f"{where}: needs at least one negative example" in lines
    assert f"{where}: example 1 contains none of the keywords ['zz']" in lines
    assert f"{where}: example 1 must name its secret: {{ text = '...', secret = '...' }}" in lines
    assert f"{where}: pattern takes over 1.5 s on a pathological input" in lines


@pytest.mark.slow
def test_keysweep_scans_its_own_repository_clean() -> None:
    result = run_keysweep("scan", "--format", "json", str(ROOT), cwd=ROOT)
    assert result.returncode == 0, result.stdout
