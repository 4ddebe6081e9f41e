"""Live verification against a fake provider on 127.0.0.1: what each answer means, one request
per unique key, the limits, where a check may go, and the results in every report format."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, run_keysweep, write_user_config
from revoke_servers import ProviderServer, ReceiverServer, new_secret, random_key

from scanner.errors import ConfigError, RuleError
from scanner.finding import Finding
from scanner.rules import load_rules
from scanner.verify.run import VerifyPlan, VerifySettings, parse_verify, verify_findings
from scanner.verify.spec import parse_verify_spec
from scanner.verify.target import is_public

LIVE, INVALID = random_key("sk_live_"), random_key("sk_live_")
FORBIDDEN, LIMITED = random_key("rk_live_"), random_key("sk_test_")
ANSWERS = {LIVE: (200, {}), INVALID: (401, {}), FORBIDDEN: (403, {}), LIMITED: (429, {"Retry-After": "0"})}


def project(root: Path, *keys: str) -> Path:
    root.mkdir()
    for n, key in enumerate(keys):
        (root / f"config{n}.env").write_text(f"STRIPE_KEY={key}\n")
    return root


def scan(root: Path, server: ProviderServer, *extra: str, fmt: str = "json"):
    return run_keysweep("scan", str(root), "--format", fmt, "--verify", "--verify-host", f"stripe={server.url}",
                        "--verify-allow-private", *extra)


def statuses(stdout: str) -> dict[str, str]:
    return {f["secret_sha256"][:12]: f["verification"]["status"] for f in json.loads(stdout)["findings"]}


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@pytest.mark.slow
def test_each_answer_maps_to_a_status(tmp_path: Path) -> None:
    with ProviderServer(ANSWERS) as server:
        result = scan(project(tmp_path / "p", LIVE, INVALID, FORBIDDEN, LIMITED), server)
    assert result.returncode == 1, result.stderr
    assert statuses(result.stdout) == {sha(LIVE): "live", sha(INVALID): "invalid",
                                       sha(FORBIDDEN): "valid-no-permission", sha(LIMITED): "rate-limited"}
    assert {s.path for s in server.seen} == {"/v1/balance"}
    assert all(s.headers["authorization"].startswith("Basic ") for s in server.seen)  # Stripe: key as username
    per_key = {server.key_of(s) for s in server.seen}
    assert per_key == {LIVE, INVALID, FORBIDDEN, LIMITED}
    assert sum(server.key_of(s) == LIMITED for s in server.seen) == 3  # asked again twice after Retry-After
    assert json.loads(result.stdout)["stats"]["verification"] == {
        "invalid": 1, "live": 1, "rate-limited": 1, "valid-no-permission": 1}


@pytest.mark.slow
def test_one_request_per_unique_key(tmp_path: Path) -> None:
    with ProviderServer(ANSWERS) as server:
        result = scan(project(tmp_path / "p", LIVE, LIVE, LIVE), server)
    findings = json.loads(result.stdout)["findings"]
    assert len(findings) == 3 and {f["verification"]["status"] for f in findings} == {"live"}
    assert len(server.seen) == 1


@pytest.mark.slow
def test_only_verified_keeps_valid_keys(tmp_path: Path) -> None:
    with ProviderServer(ANSWERS) as server:
        result = scan(project(tmp_path / "p", LIVE, INVALID, FORBIDDEN), server, "--only-verified")
        clean = scan(project(tmp_path / "q", INVALID), server, "--only-verified")
    assert sorted(statuses(result.stdout).values()) == ["live", "valid-no-permission"]
    assert result.returncode == 1
    assert clean.returncode == 0 and json.loads(clean.stdout)["findings"] == []


@pytest.mark.slow
def test_a_private_address_needs_an_explicit_allow(tmp_path: Path) -> None:
    with ProviderServer(ANSWERS) as server:
        result = run_keysweep("scan", str(project(tmp_path / "p", LIVE)), "--format", "json", "--verify",
                              "--verify-host", f"stripe={server.url}")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["verification"]["status"] == "unknown"
    assert "non-public address 127.0.0.1" in finding["verification"]["detail"]
    assert server.seen == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verify", "--verify-host", "nosuch=http://127.0.0.1:9"], "no rule or provider of that name"),
        (["--verify", "--verify-host", "stripe=http://stripe.internal.example"], "http:// is only allowed to loopback"),
        (["--verify", "--verify-host", "stripe"], "expected NAME=URL"),
        (["--verify-host", "stripe=http://127.0.0.1:9"], "need --verify"),
    ],
)
@pytest.mark.slow
def test_bad_overrides_are_usage_errors_before_scanning(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_keysweep("scan", str(project(tmp_path / "p", LIVE)), *args)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "csv", "sarif", "jsonl"])
def test_results_appear_in_every_format(tmp_path: Path, fmt: str) -> None:
    with ProviderServer(ANSWERS) as server:
        result = scan(project(tmp_path / "p", LIVE), server, fmt=fmt)
    assert result.returncode == 1
    if fmt == "text":
        assert "  verified: live (GET 127.0.0.1/v1/balance: HTTP 200)" in result.stdout
    elif fmt == "csv":
        [row] = csv.DictReader(io.StringIO(result.stdout))
        assert row["verification"] == "live"
    elif fmt == "sarif":
        document = json.loads(result.stdout)
        jsonschema.validate(document, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
        assert document["runs"][0]["results"][0]["properties"]["verification"] == "live"
    else:
        assert json.loads(result.stdout.splitlines()[0])["verification"]["status"] == "live"


@pytest.mark.slow
def test_revoke_can_be_limited_to_verified_keys(tmp_path: Path) -> None:
    secret = new_secret()
    env = {"HOOK_SECRET": secret, "KEYSWEEP_STATE_DIR": str(tmp_path / "state")}
    root = project(tmp_path / "p", LIVE, INVALID)
    with ProviderServer(ANSWERS) as provider, ReceiverServer(secret) as receiver:
        write_user_config(
            f'[[revoke.webhooks]]\nurl = "{receiver.url}"\nsecret_env = "HOOK_SECRET"\nonly_verified = true\n')
        missing = run_keysweep("scan", str(root), "--revoke", env=env)
        assert missing.returncode == 2 and "add --verify" in missing.stderr
        result = run_keysweep("scan", str(root), "--revoke", "--verify", "--verify-host", f"stripe={provider.url}",
                              "--verify-allow-private", env=env)
    assert result.returncode == 1, result.stderr
    [entry] = [e for request in receiver.seen for e in json.loads(request.body)["findings"]]
    assert entry["secret_sha256"][:12] == sha(LIVE) and entry["validation"]["status"] == "live"


RULES_TOML = '''
[[rules]]
id = "{id}"
name = "n"
description = "d"
pattern = '\\b(tok_[a-z0-9]{{20}})\\b'
keywords = ["tok_"]
severity = "high"
confidence = "high"
verify = {verify}
'''


def finding(rule_id: str, secret: str) -> Finding:
    return Finding(rule_id=rule_id, rule_name="n", description="d", severity="high", confidence="high",
                   provider="demo", secret=secret, path="a", line=1, column=1, end_line=1, end_column=2)


@pytest.mark.parametrize(
    ("verify", "expect"),
    [
        ('{ url = "https://api.demo.example/v1/me", auth = "bearer" }', lambda s, k: s.headers["authorization"] == f"Bearer {k}"),
        ('{ url = "https://api.demo.example/v1/me", auth = "header" }', lambda s, k: s.headers["x-api-key"] == k),
        ('{ url = "https://api.demo.example/v1/me?v=2", auth = "query" }', lambda s, k: s.path == f"/base/v1/me?v=2&key={k}"),
        ('{ url = "https://api.demo.example/v1/me", auth = "basic", basic = "password", headers = { Api-Version = "7" } }',
         lambda s, k: s.headers["api-version"] == "7" and s.headers["authorization"].startswith("Basic ")),
    ],
    ids=["bearer", "header", "query", "basic-password"],
)
def test_the_key_goes_where_the_rule_says(tmp_path: Path, verify: str, expect) -> None:
    rules_file = tmp_path / "demo.toml"
    rules_file.write_text(RULES_TOML.format(id="demo.token", verify=verify))
    rules = {r.id: r for r in load_rules([rules_file], builtin=False)}
    key = "tok_" + random_key("", 20).lower()
    with ProviderServer({key: (200, {})}) as server:
        plan = VerifyPlan(overrides={"demo": server.url + "/base/"}, allow_private=True)
        [checked] = verify_findings([finding("demo.token", key)], rules_by_id=rules, plan=plan)
    assert checked.extra["verification"]["status"] == "live"
    [seen] = server.seen
    assert seen.path.startswith("/base/v1/me")  # the override's path prefix, then the rule's path
    assert expect(seen, key)


def test_the_concurrency_limit_holds(tmp_path: Path) -> None:
    rules_file = tmp_path / "demo.toml"
    rules_file.write_text(RULES_TOML.format(id="demo.token", verify='{ url = "https://x.example/", auth = "bearer" }'))
    rules = {r.id: r for r in load_rules([rules_file], builtin=False)}
    keys = ["tok_" + random_key("", 20).lower() for _ in range(4)]
    with ProviderServer({k: (200, {}) for k in keys}, hold=0.1) as server:
        plan = VerifyPlan(VerifySettings(rate_limit=1000, concurrency=1), {"demo.token": server.url}, True)
        verify_findings([finding("demo.token", k) for k in keys], rules_by_id=rules, plan=plan)
    assert len(server.seen) == 4 and server.max_in_flight == 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"url": "http://api.x.example/", "auth": "bearer"}, "https://"),
        ({"url": "https://u:p@api.x.example/", "auth": "bearer"}, "without credentials"),
        ({"url": "https://api.x.example/", "auth": "cookie"}, "verify.auth must be one of"),
        ({"url": "https://api.x.example/", "auth": "bearer", "method": "DELETE"}, "harmless read"),
        ({"url": "https://api.x.example/", "auth": "bearer", "headers": {"Authorization": "x"}}, "credentials"),
        ({"url": "https://api.x.example/", "auth": "bearer", "live": [200]}, "unknown key(s): live"),
        ({"url": "https://api.x.example/", "auth": "basic", "basic": "both"}, "'username' or 'password'"),
        ("GET https://api.x.example/", "must be a table"),
    ],
)
def test_the_rule_loader_rejects_malformed_verify_tables(table, message) -> None:
    with pytest.raises(RuleError, match="rules/x.toml: rule 'x.y': .*" + re.escape(message)):
        parse_verify_spec(table, "rules/x.toml: rule 'x.y'")


def test_verify_settings_are_checked() -> None:
    assert parse_verify({"rate_limit": 5, "concurrency": 2}, source="c").concurrency == 2
    with pytest.raises(ConfigError, match="rate_limit must be a positive number"):
        parse_verify({"rate_limit": 0}, source="c")
    with pytest.raises(ConfigError, match="--verify-host only"):
        parse_verify({"hosts": {"stripe": "https://evil.example"}}, source="c")


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False),
     ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False), ("0.0.0.0", False),
     ("100.64.0.1", False), ("224.0.0.1", False)],
)
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public
