"""A scanned tree must not be able to turn keysweep against its user: each attack from issue 15 as a
test, and all of them in one tree at once."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_keysweep
from gitutil import GitRepo
from hostile import (
    ESC_NAME,
    FORMULA_NAME,
    SLOW_RULE,
    compressed_bombs,
    curl_continuations,
    escape_sequences_in_names,
    fifo_in_tree,
    har_with_encoded_key,
    kubernetes_newlines,
    neighbours_on_one_line,
    unsupported_zip_version,
)
from revoke_servers import ProviderServer, ReceiverServer, new_secret, random_key

FORMATS = ("text", "json", "jsonl", "sarif", "csv")
HANG = 60  # seconds: far beyond any of these scans; reaching it means a hang, not slowness


def scan_all_formats(root: Path, *args: str, cwd: Path | None = None) -> dict[str, subprocess.CompletedProcess[str]]:
    return {fmt: run_keysweep("scan", str(root), "--format", fmt, *args, cwd=cwd) for fmt in FORMATS}


def leaks(results: dict[str, subprocess.CompletedProcess[str]], secrets: list[str]) -> list[str]:
    return [f"{fmt}: {s[:12]}…" for fmt, r in results.items() for s in secrets if s in r.stdout or s in r.stderr]


# --- 2. unredacted secrets in redacted output -------------------------------------------------------

@pytest.mark.slow
def test_an_accepted_key_never_shows_in_a_neighbours_snippet(tmp_path: Path) -> None:
    forbidden = neighbours_on_one_line(tmp_path)
    results = scan_all_formats(tmp_path, cwd=tmp_path)
    assert all(r.returncode == 1 for r in results.values())
    assert leaks(results, forbidden) == []
    findings = json.loads(results["json"].stdout)["findings"]
    assert len(findings) == 2 and all("…" in f["snippet"] for f in findings)


@pytest.mark.slow
def test_a_percent_encoded_key_in_a_har_url_is_redacted_in_har_entry(tmp_path: Path) -> None:
    forbidden = har_with_encoded_key(tmp_path)
    results = scan_all_formats(tmp_path)
    assert results["json"].returncode == 1
    [finding] = json.loads(results["json"].stdout)["findings"]
    assert finding["har_entry"].startswith("GET https://api.example.test/v1/keys/")
    assert leaks(results, forbidden) == []


# --- 3. denial of service ----------------------------------------------------------------------------

@pytest.mark.slow
def test_fifos_in_the_tree_and_behind_a_source_map_do_not_hang_the_scan(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    fifo_in_tree(tree, tmp_path / "outside")
    (tree / "ok.env").write_text(f"STRIPE_KEY={random_key('sk_live_')}\n")
    result = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tree), "--format", "json"],
                            capture_output=True, text=True, timeout=HANG, check=False)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [f["path"].rsplit("/", 1)[-1] for f in report["findings"]] == ["ok.env"]
    assert report["stats"]["skipped"]["not a regular file"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("build", [kubernetes_newlines, curl_continuations], ids=["k8s-blank-lines", "curl-words"])
def test_inputs_that_were_quadratic_take_as_long_as_ordinary_ones(tmp_path: Path, build) -> None:
    (tmp_path / "hostile").mkdir()
    (tmp_path / "control").mkdir()
    build(tmp_path / "hostile")
    for path in (tmp_path / "hostile").iterdir():  # a control file of the same size, ordinary text
        (tmp_path / "control" / path.name).write_text("word " * (path.stat().st_size // 5))

    def seconds(root: Path) -> float:
        started = time.monotonic()
        assert run_keysweep("scan", str(root), "-j", "1").returncode in (0, 1)
        return time.monotonic() - started

    control = seconds(tmp_path / "control")
    assert seconds(tmp_path / "hostile") < 3 * control + 2  # was 9 s (k8s) and 4 s (curl) against 0.2 s


@pytest.mark.slow
def test_a_regex_that_runs_out_of_time_is_a_warning_naming_its_rule(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text(SLOW_RULE + 'examples = [{ text = "xxy", secret = "y" }]\nnegative_examples = ["z"]\n')
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "x.txt").write_text("xx" * 1500 + "\nxxy\n")  # the form finds the place; the regex explodes
    (tmp_path / "tree" / "pay.env").write_text(f"STRIPE_KEY={random_key('sk_live_')}\n")
    result = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path / "tree"), "--rules",
                             str(tmp_path / "rules.toml"), "--format", "json"],
                            capture_output=True, text=True, timeout=HANG, check=False)
    assert result.returncode == 1
    assert "rule 'hostile.slow' ran out of time" in result.stderr
    report = json.loads(result.stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["stripe.secret-key"]
    assert report["stats"]["skipped"]["regex timeout"] == 1


@pytest.mark.slow
def test_decompression_is_bounded_and_skipped_tar_members_are_charged(tmp_path: Path) -> None:
    compressed_bombs(tmp_path)
    (tmp_path / ".keysweep.toml").write_text('[scan]\nmax_file_size = "64KB"\n')
    result = run_keysweep("scan", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0
    assert "app.log.gz: stopped reading: ExpansionLimit: expands past" in result.stderr
    # the skipped members' inflated bytes were charged: the budget runs out before the last members
    assert "release.tar.gz: refused: big7.bin would expand past the" in result.stderr
    stats = json.loads(result.stdout)["stats"]
    assert stats["skipped"]["archive bound"] == 1 and stats["bytes_scanned"] < 8 << 20


# --- 4. injection ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_control_characters_in_names_never_reach_the_terminal(tmp_path: Path) -> None:
    escape_sequences_in_names(tmp_path)
    text = run_keysweep("scan", ".", cwd=tmp_path)
    assert text.returncode == 1
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout and "\u202e" not in text.stdout
    assert "\\x1b]0;pwned\\x07evil\\nfake.py" in text.stdout
    assert not any(line.startswith("fake.py:1:1") for line in text.stdout.splitlines())


@pytest.mark.slow
def test_a_formula_as_a_file_name_is_not_a_formula_in_csv(tmp_path: Path) -> None:
    escape_sequences_in_names(tmp_path)
    result = run_keysweep("scan", ".", "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    paths = [row["path"] for row in rows]
    assert "'" + FORMULA_NAME in paths
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values() if cell)


@pytest.mark.slow
def test_a_commit_message_cannot_forge_report_lines(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("pay.py", f'STRIPE_KEY = "{random_key("sk_live_")}"\n')
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "fix\x1b[2J\x1b[31mALL CLEAR\x1b[0m")
    result = run_keysweep("git", str(repo.path))
    assert result.returncode == 1 and "\x1b" not in result.stdout and "\\x1b[2J" in result.stdout


def test_pre_commit_refs_never_become_git_options(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("one", {"a.txt": "a\n"})
    target = tmp_path / "written-by-git"
    env = {"PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": "HEAD", "PRE_COMMIT_TO_REF": f"--output={target}"}
    result = run_keysweep("git", str(repo.path), "--pre-push", env=env)
    assert result.returncode == 2 and "unknown revision" in result.stderr
    assert not target.exists()


# --- 5. files --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_report_is_never_written_through_a_symlink_to_a_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "report.json").symlink_to(victim)
    result = run_keysweep("scan", ".", "--format", "json", "-o", "report.json", cwd=tmp_path / "tree")
    assert result.returncode == 2 and "is a symbolic link" in result.stderr
    assert victim.read_text() == "precious\n"
    dangling = tmp_path / "tree" / "dangling.json"
    dangling.symlink_to(tmp_path / "created-elsewhere.json")
    assert run_keysweep("scan", ".", "-o", "dangling.json", cwd=tmp_path / "tree").returncode == 2
    assert not (tmp_path / "created-elsewhere.json").exists()


@pytest.mark.slow
def test_a_report_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("old")
    os.chmod(tmp_path / "report.json", 0o644)
    (tmp_path / "pay.env").write_text(f"STRIPE_KEY={random_key('sk_live_')}\n")
    assert run_keysweep("scan", "pay.env", "--format", "json", "-o", "report.json", cwd=tmp_path).returncode == 1
    assert (tmp_path / "report.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "report.json").read_text())["stats"]["findings"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_install_hooks_never_writes_through_a_dangling_symlink(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.symlink_to(tmp_path / "planted")
    refused = run_keysweep("install-hooks", str(repo.path))
    assert refused.returncode == 2 and "is a symbolic link" in refused.stderr and not (tmp_path / "planted").exists()
    forced = run_keysweep("install-hooks", str(repo.path), "--force")
    assert forced.returncode == 0 and not hook.is_symlink() and not (tmp_path / "planted").exists()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership")
def test_an_unsafe_state_directory_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    os.chmod(state, 0o777)
    secret = new_secret()
    (tmp_path / "pay.env").write_text(f"STRIPE_KEY={random_key('sk_live_')}\n")
    with ReceiverServer(secret) as server:
        config = tmp_path / "k.toml"
        config.write_text(f'[[revoke.webhooks]]\nurl = "{server.url}"\nsecret_env = "S"\n')
        result = run_keysweep("scan", str(tmp_path / "pay.env"), "--config", str(config), "--revoke",
                              "--state-dir", str(state), env={"S": secret})
        assert result.returncode == 3 and "writable by others" in result.stderr
        os.chmod(state, 0o700)
        (state / "revoke-outbox.sqlite3").symlink_to(tmp_path / "elsewhere.db")
        linked = run_keysweep("scan", str(tmp_path / "pay.env"), "--config", str(config), "--revoke",
                              "--state-dir", str(state), env={"S": secret})
    assert linked.returncode == 3 and "symbolic link" in linked.stderr and not (tmp_path / "elsewhere.db").exists()
    assert server.seen == []


# --- 6. one bad file must not cost the scan -----------------------------------------------------------

@pytest.mark.slow
def test_a_zip_claiming_an_unsupported_version_is_a_warning(tmp_path: Path) -> None:
    unsupported_zip_version(tmp_path)
    (tmp_path / "pay.env").write_text(f"STRIPE_KEY={random_key('sk_live_')}\n")
    result = run_keysweep("scan", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "odd.zip: cannot read archive: NotImplementedError: zip file version 21.1" in result.stderr
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pay.env"]


# --- 7. smaller ones -------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_retry_after_of_unicode_digits_does_not_crash_verification(tmp_path: Path) -> None:
    key = random_key("sk_live_")
    (tmp_path / "pay.env").write_text(f"STRIPE_KEY={key}\n")
    with ProviderServer({key: (429, {"Retry-After": "²"})}) as provider:
        result = run_keysweep("scan", str(tmp_path), "--verify", "--verify-host", f"stripe={provider.url}",
                              "--verify-allow-private", "--format", "json")
    assert result.returncode == 1, result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verification"]["status"] == "rate-limited"


@pytest.mark.slow
def test_a_key_a_header_cannot_carry_is_never_printed_by_an_error(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text(
        '[[rules]]\nid = "acme.token"\nname = "n"\ndescription = "d"\n'
        "pattern = '''tok=\"([^\"]{20,40})\"'''\nkeywords = [\"tok=\"]\nseverity = \"high\"\nconfidence = \"high\"\n"
        'verify = { url = "https://api.acme.test/me", auth = "bearer" }\n')
    secret = "Zq8Lm2Tx\rVn4Kp7Rw9Yb3Hc"
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.txt").write_text(f'tok="{secret}"\n')
    with ProviderServer({}) as provider:
        result = run_keysweep("scan", str(tmp_path / "tree"), "--rules", str(tmp_path / "rules.toml"), "--verify",
                              "--verify-host", f"acme.token={provider.url}", "--verify-allow-private", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "Zq8Lm2Tx" not in result.stderr and "Vn4Kp7" not in result.stdout
    assert json.loads(result.stdout)["findings"][0]["verification"]["status"] == "unknown"


@pytest.mark.slow
def test_a_webhook_url_with_a_token_is_never_echoed(tmp_path: Path) -> None:
    secret = new_secret()
    (tmp_path / "pay.env").write_text(f"STRIPE_KEY={random_key('sk_live_')}\n")
    with ReceiverServer(secret) as server:
        config = tmp_path / "k.toml"
        config.write_text(f'[[revoke.webhooks]]\nurl = "{server.url}/hooks/T0001/B0002/XoxTokenInPath9"\nsecret_env = "S"\n')
        env = {"S": secret, "KEYSWEEP_STATE_DIR": str(tmp_path / "state")}
        result = run_keysweep("scan", str(tmp_path / "pay.env"), "--config", str(config), "--revoke", env=env)
        status = run_keysweep("revoke", "status", "--format", "json", env=env)
        dry = run_keysweep("scan", str(tmp_path / "pay.env"), "--config", str(config), "--dry-run", "--force", env=env)
    assert result.returncode == 1 and "delivered" in result.stderr
    for output in (result.stdout, result.stderr, status.stdout, dry.stdout, dry.stderr):
        assert "XoxTokenInPath9" not in output and "T0001" not in output


@pytest.mark.slow
def test_a_keyed_fingerprint_when_a_key_is_set(tmp_path: Path) -> None:
    import hashlib
    import hmac

    key = random_key("sk_live_")
    (tmp_path / "pay.env").write_text(f"STRIPE_KEY={key}\n")
    plain = json.loads(run_keysweep("scan", str(tmp_path), "--format", "json").stdout)["findings"][0]
    keyed = json.loads(run_keysweep("scan", str(tmp_path), "--format", "json",
                                    env={"KEYSWEEP_FINGERPRINT_KEY": "team-secret"}).stdout)["findings"][0]
    assert plain["fingerprint"] == f"stripe.secret-key:{hashlib.sha256(key.encode()).hexdigest()}"
    expected = hmac.new(b"team-secret", key.encode(), hashlib.sha256).hexdigest()
    assert keyed["fingerprint"] == f"stripe.secret-key:{expected}" and keyed["secret_sha256"] == expected
    (tmp_path / ".keysweepignore").write_text(keyed["fingerprint"] + "\n")
    assert run_keysweep("scan", ".", cwd=tmp_path, env={"KEYSWEEP_FINGERPRINT_KEY": "team-secret"}).returncode == 0
    assert run_keysweep("scan", ".", cwd=tmp_path).returncode == 1  # without the key, the entry names another digest


# --- all at once ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_tree_holding_every_attack_finishes_normally_and_leaks_nothing(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    forbidden: list[str] = []
    for build in (neighbours_on_one_line, har_with_encoded_key, escape_sequences_in_names, kubernetes_newlines,
                  curl_continuations, unsupported_zip_version):
        forbidden += build(tree)
    fifo_in_tree(tree, tmp_path / "outside")
    (tree / "report.json").symlink_to(tmp_path / "victim")
    results = {fmt: subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "--format", fmt], cwd=tree,
                                   capture_output=True, text=True, timeout=HANG, check=False) for fmt in FORMATS}
    assert {fmt: r.returncode for fmt, r in results.items()} == {fmt: 1 for fmt in FORMATS}
    assert leaks(results, forbidden) == []
    assert all("internal error" not in r.stderr and "\x1b" not in r.stdout for r in results.values())
    assert not (tmp_path / "victim").exists()
