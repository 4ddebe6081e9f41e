"""`keysweep scan --revoke` and `keysweep revoke …` as a user runs them, against a real receiver
on 127.0.0.1: durable, never resent once delivered, never in the way of the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_keysweep, write_user_config
from gitutil import GitRepo
from revoke_servers import ReceiverServer, Step, new_secret, random_key

ENV = "KEYSWEEP_TEST_HOOK_SECRET"


def write_project(root: Path, url: str, *, webhook: str = "", settings: str = "") -> str:
    """A directory holding one Stripe key, and the user's config pointing the webhook at url; returns the key."""
    key = random_key("sk_live_")
    (root / "app").mkdir(parents=True)
    (root / "app" / "settings.py").write_text(f'STRIPE_KEY = "{key}"\n')
    write_user_config(
        f"[revoke]\nbackoff_base = 0.0\nmax_attempts = 2\n{settings}\n"
        f'[[revoke.webhooks]]\nname = "rotation"\nurl = "{url}"\nsecret_env = "{ENV}"\n{webhook}\n'
    )
    return key


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {ENV: new_secret(), "KEYSWEEP_STATE_DIR": str(tmp_path / "state")}


def outbox_rows(env: dict[str, str]) -> list[dict]:
    result = run_keysweep("revoke", "status", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_scan_reports_first_then_delivers(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV]) as server:
        key = write_project(tmp_path / "proj", server.url + "/hook")
        result = run_keysweep("scan", "proj", "--revoke", "--format", "json", cwd=tmp_path, env=env)
    assert result.returncode == 1  # findings: the scan's own exit status, untouched by revocation
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["stripe.secret-key"]
    assert "delivered" in result.stderr and key not in result.stderr
    [request] = server.seen
    [entry] = json.loads(request.body)["findings"]
    assert entry["locations"] == [{"source": "file", "path": "proj/app/settings.py", "line": 1}]
    assert len(server.revoked) == 1
    [row] = outbox_rows(env)
    assert row["state"] == "delivered" and row["webhook_id"] == request.webhook_id
    assert row["response"]["status"] == "revoked"


@pytest.mark.slow
def test_a_second_scan_does_not_resend_and_force_does(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV]) as server:
        write_project(tmp_path / "proj", server.url)
        run_keysweep("scan", "proj", "--revoke", cwd=tmp_path, env=env)
        again = run_keysweep("scan", "proj", "--revoke", cwd=tmp_path, env=env)
        assert again.returncode == 1
        assert "already queued or delivered" in again.stderr
        assert len(server.seen) == 1
        forced = run_keysweep("scan", "proj", "--revoke", "--force", cwd=tmp_path, env=env)
    assert forced.returncode == 1
    assert len(server.seen) == 2 and len(set(server.webhook_ids)) == 2  # a new request, a new id
    assert [r["state"] for r in outbox_rows(env)] == ["delivered", "delivered"]


@pytest.mark.slow
def test_dry_run_prints_redacted_requests_and_sends_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV]) as server:
        key = write_project(tmp_path / "proj", server.url + "/hook", webhook="include_secret = true")
        result = run_keysweep("scan", "proj", "--dry-run", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert f"POST {server.url}/hook" in result.stderr and "webhook-id: msg_" in result.stderr
    assert key[:6] + "…" in result.stderr and key not in result.stderr + result.stdout
    assert server.seen == []
    assert not (tmp_path / "state").exists()


@pytest.mark.slow
def test_killed_mid_delivery_then_retry_completes_without_a_duplicate(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV], [Step(hold=True)]) as server:
        write_project(tmp_path / "proj", server.url)
        process = subprocess.Popen([sys.executable, "-m", "scanner", "scan", "proj", "--revoke"], cwd=tmp_path,
                                   env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.arrived.wait(60), "the delivery never reached the receiver"
        finally:
            process.send_signal(signal.SIGKILL)
            stdout, _ = process.communicate()
        server.release.set()
        assert process.returncode == -signal.SIGKILL
        assert "stripe.secret-key" in stdout  # the report was out before delivery began
        [row] = outbox_rows(env)
        assert row["state"] == "pending"
        retry = run_keysweep("revoke", "retry", cwd=tmp_path, env=env)
    assert retry.returncode == 0, retry.stderr
    assert len(server.seen) == 2 and server.webhook_ids[0] == server.webhook_ids[1]
    assert len(server.revoked) == 1  # the receiver deduped the resend by webhook-id
    [row] = outbox_rows(env)
    assert row["state"] == "delivered" and row["attempts"] == 2


@pytest.mark.slow
def test_a_failing_receiver_leaves_the_exit_status_alone(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV], [Step(status=503)] * 2) as server:
        write_project(tmp_path / "proj", server.url)
        result = run_keysweep("scan", "proj", "--revoke", cwd=tmp_path, env=env)
        assert result.returncode == 1 and "pending" in result.stderr
        (tmp_path / "clean").mkdir()
        clean = run_keysweep("scan", "clean", "--revoke", cwd=tmp_path, env=env)  # resends the pending one
        assert clean.returncode == 0
        retry = run_keysweep("revoke", "retry", cwd=tmp_path, env=env)
    assert retry.returncode == 0 and "nothing pending" in retry.stderr
    assert len(server.seen) == 3 and len(server.revoked) == 1


@pytest.mark.parametrize(
    ("url", "webhook", "drop_secret", "message"),
    [
        ("http://127.0.0.1:9/hook", "", True, f"environment variable {ENV} is not set"),
        ("http://hooks.example.com/revoke", "", False, "http:// is only allowed to loopback"),
        ("http://127.0.0.1:9/hook", 'rules = ["stripe.no-such-rule"]', False, "unknown rule id(s): stripe.no-such-rule"),
        ("http://127.0.0.1:9/hook", 'min_confidence = "sure"', False, "min_confidence must be one of"),
    ],
    ids=["missing-env", "plain-http", "unknown-rule", "bad-confidence"],
)
@pytest.mark.slow
def test_config_errors_are_one_line_before_any_scanning(tmp_path: Path, env: dict[str, str], url, webhook,
                                                        drop_secret, message) -> None:
    write_project(tmp_path / "proj", url, webhook=webhook)
    if drop_secret:
        env = {k: v for k, v in env.items() if k != ENV}
        os.environ.pop(ENV, None)
    result = run_keysweep("scan", "proj", "--revoke", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert result.stdout == ""  # no report: nothing was scanned
    [line] = result.stderr.splitlines()
    assert line.startswith("keysweep: error: ") and message in line


@pytest.mark.slow
def test_a_bad_secret_and_a_missing_webhook_are_errors(tmp_path: Path, env: dict[str, str]) -> None:
    write_project(tmp_path / "proj", "http://127.0.0.1:9/")
    bad = run_keysweep("scan", "proj", "--revoke", cwd=tmp_path, env={**env, ENV: "hunter2"})
    assert bad.returncode == 3 and "whsec_" in bad.stderr
    write_user_config("")
    none = run_keysweep("scan", "proj", "--revoke", cwd=tmp_path, env=env)
    assert none.returncode == 2 and "[[revoke.webhooks]]" in none.stderr and none.stdout == ""


@pytest.mark.slow
def test_from_report_queues_an_unredacted_report(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV]) as server:
        write_project(tmp_path / "proj", server.url)
        run_keysweep("scan", ".", "--format", "json", "--no-redact", "-o", "../full.json", cwd=tmp_path / "proj", env=env)
        run_keysweep("scan", ".", "--format", "json", "-o", "../redacted.json", cwd=tmp_path / "proj", env=env)
        refused = run_keysweep("revoke", "--from-report", "../redacted.json", cwd=tmp_path / "proj", env=env)
        assert refused.returncode == 2 and "--no-redact" in refused.stderr
        result = run_keysweep("revoke", "--from-report", "../full.json", cwd=tmp_path / "proj", env=env)
    assert result.returncode == 0, result.stderr
    assert len(server.revoked) == 1
    status = run_keysweep("revoke", "status", env=env)
    assert "delivered" in status.stdout and "stripe.secret-key sk_liv…" in status.stdout


def test_status_of_an_empty_outbox(env: dict[str, str]) -> None:
    result = run_keysweep("revoke", "status", env=env)
    assert result.returncode == 0 and "empty" in result.stdout


@pytest.mark.slow
def test_git_history_revoke_carries_commit_author_and_a_clean_remote(tmp_path: Path, env: dict[str, str]) -> None:
    """A key committed and later deleted: the payload names the commit that added it, its author, when
    it was first seen, and the origin remote without the credentials embedded in its URL."""
    with ReceiverServer(env[ENV]) as server:
        repo = GitRepo(tmp_path / "repo")
        key = write_project(tmp_path / "repo", server.url)
        repo.git("remote", "add", "origin", "https://deploy:hunter2@git.example.test/acme/shop.git")
        added = repo.commit("add settings", author="Grace")
        repo.commit("remove the key", remove=("app/settings.py",))
        result = run_keysweep("git", str(repo.path), "--revoke", "--format", "json", env=env)
    assert result.returncode == 1, result.stderr
    [request] = server.seen
    [entry] = json.loads(request.body)["findings"]
    [location] = entry["locations"]
    assert location["source"] == "git" and location["commit"] == added and location["path"] == "app/settings.py"
    assert location["author"] == "Grace" and location["author_email"] == "grace@example.test"
    assert location["first_seen"].startswith("2024-01-02")
    assert location["repository"] == "https://git.example.test/acme/shop.git"
    assert key not in request.body.decode() and "hunter2" not in request.body.decode()


@pytest.mark.slow
def test_the_html_audit_page_shows_what_revocation_did(tmp_path: Path, env: dict[str, str]) -> None:
    with ReceiverServer(env[ENV]) as server:
        write_project(tmp_path / "proj", server.url + "/hook")
        result = run_keysweep("scan", "proj", "--revoke", "-o", "audit.html", "-o", "report.json", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    page = (tmp_path / "audit.html").read_text()
    assert 'data-count="revocation-delivered" data-value="1"' in page
    assert (tmp_path / "audit.html").stat().st_mode & 0o777 == 0o600
    assert "revocation" not in json.loads((tmp_path / "report.json").read_text())["stats"]  # JSON is written once, before
