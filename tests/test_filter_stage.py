"""One filter stage: every candidate that any filter drops appears under --show-suppressed with its
reason, in the stage's order; the small predicates are checked with yes/no tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import run_keysweep
from revoke_servers import ProviderServer, random_key

from scanner.filters import stage
from scanner.filters.exposure import grade_exposure, is_public_key_in_client_code
from scanner.filters.verified import is_unverified
from scanner.finding import Finding

PUBLIC_RULE = """
[[rules]]
id = "acmepub.publishable-key"
name = "Acme publishable key"
description = "Meant for browsers."
pattern = '''\\b(apk_live_[A-Za-z0-9]{24})\\b'''
keywords = ["apk_live_"]
severity = "medium"
confidence = "high"
tags = ["public"]
"""


def finding(**changes: object) -> Finding:
    base = Finding(rule_id="acme.key", rule_name="n", description="d", severity="high", confidence="high",
                   provider="acme", secret="acme_q8Lm2Zr5Tx9Wv3Nk", path="a.py", line=1, column=1, end_line=1,
                   end_column=20)
    return base.replace(**changes)


@pytest.mark.parametrize(("case", "expected"), [
    (finding(tags=("public",), extra={"exposure": "in client-side code"}), True),
    (finding(tags=("publishable",), extra={"exposure": "in client-side code"}), True),
    (finding(tags=("public",)), False),  # not in client code: left to the rule
    (finding(extra={"exposure": "in client-side code"}), False),  # a secret: graded, not dropped
])
def test_is_public_key_in_client_code(case: Finding, expected: bool) -> None:
    assert bool(is_public_key_in_client_code(case)) is expected


@pytest.mark.parametrize(("case", "severity"), [
    (finding(extra={"exposure": "x"}), "critical"),
    (finding(severity="low", extra={"exposure": "x"}), "low"),
    (finding(tags=("test",), extra={"exposure": "x"}), "high"),
    (finding(), "high"),
])
def test_secret_class_keys_in_client_code_are_critical(case: Finding, severity: str) -> None:
    assert grade_exposure(case).severity == severity


@pytest.mark.parametrize(("status", "dropped"), [
    ("live", False), ("valid-no-permission", False), ("invalid", True), ("unknown", True), (None, True),
])
def test_is_unverified(status: str | None, dropped: bool) -> None:
    extra = {"verification": {"status": status}} if status else {}
    assert bool(is_unverified(finding(extra=extra))) is dropped


def test_the_first_filter_with_a_reason_wins_and_a_suppressed_finding_stays_as_it_is() -> None:
    calls: list[str] = []
    filters = [stage.Filter(name, (lambda n: lambda f: (calls.append(n), n if n != "a" else None)[1])(name))
               for name in ("a", "b", "c")]
    assert stage.apply(finding(), filters).suppressed == "b" and calls == ["a", "b"]
    assert stage.apply(finding(suppressed="earlier"), filters).suppressed == "earlier" and calls == ["a", "b"]


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.slow
def test_every_drop_is_shown_with_its_reason(tmp_path: Path) -> None:
    keys = {name: random_key("sk_live_") for name in ("inline", "allowlist", "baseline", "ignored", "invalid", "kept")}
    public = random_key("apk_live_", 24)
    project = tmp_path / "p"
    (project / "dist").mkdir(parents=True)
    (project / "placeholder.py").write_text('STRIPE_KEY = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"\n')
    (project / "inline.py").write_text(f'STRIPE_KEY = "{keys["inline"]}"  # keysweep:allow test fixture\n')
    (project / "fixture.py").write_text(f'FIXTURE_KEY = "{keys["allowlist"]}"\n')
    (project / "dist" / "app.js").write_text(f'var a="{public}";var b="{keys["kept"]}";\n')
    for name in ("baseline", "ignored", "invalid"):
        (project / f"{name}.py").write_text(f'STRIPE_KEY = "{keys[name]}"\n')
    (project / ".keysweep.toml").write_text('[[allowlist]]\ndescription = "fixtures"\nregexes = ["FIXTURE_KEY"]\n'
                                            'regex_target = "line"\n')
    (project / ".keysweepignore").write_text(f"stripe.secret-key:{sha(keys['ignored'])}\n")
    (tmp_path / "rules.toml").write_text(PUBLIC_RULE + 'examples = [{ secret = "apk_live_Zt3kQ9mWx4Lt8Vn3HsRp2Lq7" }]\n'
                                         'negative_examples = ["x"]\n')
    (project / "baseline.json").write_text(json.dumps({"keysweep_baseline": 1, "findings": [
        {"rule_id": "stripe.secret-key", "secret_sha256": sha(keys["baseline"]), "path": "baseline.py"}]}))
    answers = {keys["kept"]: (200, {}), keys["invalid"]: (401, {})}
    with ProviderServer(answers) as provider:
        result = run_keysweep("scan", ".", "--rules", str(tmp_path / "rules.toml"), "--baseline", "baseline.json",
                              "--show-suppressed", "--only-verified", "--verify-host", f"stripe={provider.url}",
                              "--verify-allow-private", "--format", "json", cwd=project)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [(f["path"], f["secret_sha256"]) for f in report["findings"]] == [("dist/app.js", sha(keys["kept"]))]
    assert report["findings"][0]["severity"] == "critical"  # re-graded: a secret in client code
    reasons = {f["path"]: f["suppressed"] for f in report["suppressed"]}
    assert reasons["placeholder.py"] == "entropy 1.50 below the rule's floor of 3.0"  # filter 1: the rule's own checks
    assert reasons["inline.py"] == "inline 'keysweep:allow' comment"
    assert reasons["fixture.py"] == "config allowlist: fixtures"
    assert reasons["dist/app.js"] == "publishable key in client code: meant to be public"
    assert reasons["baseline.py"] == "in baseline baseline.json"
    assert reasons["ignored.py"] == "ignored by .keysweepignore:1"
    assert reasons["invalid.py"] == "not verified live (--only-verified; verification: invalid)"
