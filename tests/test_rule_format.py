"""Rule format v2: examples name their secret, patterns may be verbose, rules form rulesets, and
the verify block is typed. Each is checked by `keysweep rules check` or the loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_keysweep

from scanner.errors import RuleError
from scanner.rule_check import check_rules
from scanner.rules import load_rule_file, load_rules, select_rulesets
from scanner.verify.spec import VerifySpec

RULE = """
[[rules]]
id = "acme.api-key"
name = "Acme API key"
description = "d"
pattern = {pattern}
keywords = ["acme_"]
severity = "high"
confidence = "high"
examples = [{examples}]
negative_examples = ["ACME_KEY = acme_YOUR_KEY_HERE"]
"""
KEY = "acme_7Rk2PzQ9mWx4Lt8Vn3Hs"


def lint(tmp_path: Path, pattern: str, examples: str) -> list[str]:
    path = tmp_path / "acme.toml"
    path.write_text(RULE.format(pattern=pattern, examples=examples))
    problems, _ = check_rules(path, redos=False)
    return problems


def test_an_example_states_the_secret_it_must_yield(tmp_path: Path) -> None:
    good = lint(tmp_path, "'''\\b(acme_[A-Za-z0-9]{20})\\b'''", f"{{ text = 'ACME_KEY = {KEY}', secret = '{KEY}' }}")
    assert good == []


def test_a_capture_group_that_grabs_the_wrong_span_fails_the_linter(tmp_path: Path) -> None:
    problems = lint(tmp_path, "'''(ACME_KEY = acme_[A-Za-z0-9]{20})'''",
                    f"{{ text = 'ACME_KEY = {KEY}', secret = '{KEY}' }}")
    assert len(problems) == 1 and "example 1: the secret group captured 'ACME_KEY = acme_" in problems[0]


def test_an_example_without_its_secret_fails_the_linter(tmp_path: Path) -> None:
    problems = lint(tmp_path, "'''\\b(acme_[A-Za-z0-9]{20})\\b'''", f"'ACME_KEY = {KEY}'")
    assert problems == [f"{tmp_path / 'acme.toml'}: rule 'acme.api-key': example 1 must name its secret: "
                        "{ text = '...', secret = '...' }"]


def test_a_secret_that_is_not_in_the_text_fails_the_linter(tmp_path: Path) -> None:
    problems = lint(tmp_path, "'''\\b(acme_[A-Za-z0-9]{20})\\b'''", f"{{ text = 'ACME_KEY = {KEY}', secret = 'x{KEY}' }}")
    assert any("its secret does not occur in its text" in p for p in problems)


def test_an_example_can_be_the_secret_alone(tmp_path: Path) -> None:
    assert lint(tmp_path, "'''\\b(acme_[A-Za-z0-9]{20})\\b'''", f"{{ secret = '{KEY}' }}") == []


@pytest.mark.slow
def test_a_pattern_can_be_written_verbose_over_several_lines(tmp_path: Path) -> None:
    pattern = """'''(?x)
    \\b
    (acme_             # the documented prefix
     [A-Za-z0-9]{20})  # 20 base62 characters
    \\b'''"""
    assert lint(tmp_path, pattern, f"{{ text = 'key: {KEY}', secret = '{KEY}' }}") == []
    result = run_keysweep("scan", "--rules", str(tmp_path / "acme.toml"), "--ruleset", "acme", "--format", "json", "-",
                          stdin=f"ACME={KEY}\n")
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["acme.api-key"]


@pytest.mark.parametrize(("table", "message"), [
    ('{ text = "a", secret = "" }', "must be non-empty strings"),
    ('{ txt = "a" }', "must be a string or a table {text, secret, path}"),
    ("{ path = 'x' }", "must be a string or a table {text, secret, path}"),
])
def test_malformed_examples_are_rule_errors(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(RULE.format(pattern="'(acme_x)'", examples=table))
    with pytest.raises(RuleError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_rule_file(path)


def test_the_verify_block_is_typed_when_rules_load() -> None:
    stripe = next(r for r in load_rules() if r.id == "stripe.secret-key")
    assert isinstance(stripe.verify, VerifySpec) and stripe.verify.auth == "basic"


def test_a_verify_header_must_be_a_header_name(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(RULE.format(pattern="'(acme_x)'", examples="'acme_x'") +
                    'verify = { url = "https://api.acme.test/me", auth = "header", header = "X-Key\\r\\nEvil: 1" }\n')
    with pytest.raises(RuleError, match="verify.header must be a header name"):
        load_rule_file(path)


# --- rulesets ------------------------------------------------------------------------------------

RULESET_RULES = """
[[rules]]
id = "acme.precise"
name = "n"
description = "d"
pattern = '\\b(acme_[a-z0-9]{20})\\b'
keywords = ["acme_"]
severity = "high"
confidence = "high"
rulesets = ["payments-team"]
examples = [{ text = "acme_k2p9q8m4x7l3v6n1h5s0", secret = "acme_k2p9q8m4x7l3v6n1h5s0" }]
negative_examples = ["acme_"]

[[rules]]
id = "acme.shape"
name = "n"
description = "d"
pattern = '\\b(zz[a-z0-9]{20})\\b'
keywords = ["zz"]
severity = "low"
confidence = "low"
precise = false
examples = [{ text = "zzk2p9q8m4x7l3v6n1h5s0", secret = "zzk2p9q8m4x7l3v6n1h5s0" }]
negative_examples = ["zz"]
"""


def test_rulesets_default_all_family_provider_and_named(tmp_path: Path) -> None:
    family = tmp_path / "rules" / "fintech"
    family.mkdir(parents=True)
    (family / "acme.toml").write_text(RULESET_RULES)
    rules = load_rules([tmp_path / "rules"], builtin=False)
    ids = lambda *names: [r.id for r in select_rulesets(rules, names)]  # noqa: E731
    assert ids() == ["acme.precise"]  # default: precise rules only
    assert ids("all") == ids("fintech") == ids("acme") == ["acme.precise", "acme.shape"]
    assert ids("payments-team") == ["acme.precise"]
    with pytest.raises(RuleError, match="unknown ruleset"):
        ids("nope")


def test_the_builtin_families_are_rulesets() -> None:
    builtin = load_rules()
    ai = select_rulesets(builtin, ["ai"])
    assert ai and {r.family for r in ai} == {"ai"}
    assert {r.family for r in builtin} >= {"ai", "cloud", "payments", "keys", "generic"}
    assert len(select_rulesets(builtin, ["all"])) == len(builtin)


@pytest.mark.slow
def test_ruleset_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("STRIPE_KEY=sk_live_u8jzPde0IgxLd6GncfBAepfJ\n")
    only_ai = run_keysweep("scan", "--ruleset", "ai", "--format", "json", str(tmp_path))
    payments = run_keysweep("scan", "--ruleset", "payments", "--format", "json", str(tmp_path))
    assert only_ai.returncode == 0 and json.loads(only_ai.stdout)["findings"] == []
    assert [f["rule_id"] for f in json.loads(payments.stdout)["findings"]] == ["stripe.secret-key"]
    unknown = run_keysweep("scan", "--ruleset", "nope", str(tmp_path))
    assert unknown.returncode == 3 and "unknown ruleset(s): nope" in unknown.stderr
