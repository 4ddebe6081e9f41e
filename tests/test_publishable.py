"""Keys meant to be public and providers' documentation samples are never findings of the generic
rules (a yes/no table for the predicate, and the cases the issue named, end to end)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_keysweep

from scanner.filters.publishable import is_publishable_key
from scanner.finding import Finding, FindingContext
from scanner.rules import load_rules

RULES = {rule.id: rule for rule in load_rules(lean=True)}


def finding(rule_id: str, secret: str, match: str, lines: str | None = None) -> Finding:
    rule = RULES[rule_id]
    return Finding(rule_id=rule_id, rule_name="n", description="d", severity="high", confidence="medium",
                   provider=rule.provider, secret=secret, path=".env", line=1, column=1, end_line=1, end_column=2,
                   context=FindingContext(rule, ".env", match, lines if lines is not None else match))


@pytest.mark.parametrize(("case", "public"), [
    (finding("generic.dotenv-secret", "pk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ", "STRIPE_KEY=pk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ"), True),
    (finding("generic.dotenv-secret", "phc_Zq8Lm2Tx9Vn4Kp7Rw9Yb3Hc5Jd8Fg2Q", "POSTHOG=phc_Zq8Lm2Tx9Vn4Kp7Rw9Yb3Hc5Jd8Fg2Q"), True),
    (finding("generic.dotenv-secret", "3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8", "ALGOLIA_SEARCH_KEY=3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8"), True),
    (finding("generic.dotenv-secret", "3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8"), True),
    (finding("gcp.api-key", "AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP", "AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP",
             "FIREBASE_API_KEY=AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP"), True),
    (finding("generic.dotenv-secret", "sk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ", "STRIPE_KEY=sk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ"), False),
    (finding("generic.dotenv-secret", "3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8", "ALGOLIA_ADMIN_KEY=3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8"), False),
    (finding("gcp.api-key", "AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP", "AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP",
             "MAPS_API_KEY=AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP"), False),
    (finding("stripe.secret-key", "sk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ", "sk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ",
             "STRIPE_PUBLISHABLE_KEY=sk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ"), False),  # a provider rule: a secret wherever it sits
])
def test_is_publishable_key(case: Finding, public: bool) -> None:
    assert bool(is_publishable_key(case)) is public


SAMPLES = """\
STRIPE_PUBLISHABLE_KEY=pk_live_51Hx8QhJk2mN4pQr7sT9vW1yZ3bC5dE7fG9hJ
NEXT_PUBLIC_ALGOLIA_SEARCH_KEY=3f9c2b7e1a4d6f8091b2c3d4e5f6a7b8
FIREBASE_API_KEY=AIzaSyB3k9mQ7xR2tV5wY8zA1cD4fG6hJ8kL0nP
PASSWORD=changeme
DB_PASSWORD=pass
JWT=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
STRIPE_TEST_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc
"""


@pytest.mark.slow
def test_public_keys_samples_and_trivial_values_in_a_dotenv_are_not_findings(tmp_path: Path) -> None:
    (tmp_path / ".env.production").write_text(SAMPLES)
    result = run_keysweep("scan", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stdout
    (tmp_path / ".env.production").write_text(SAMPLES + "STRIPE_SECRET_KEY=sk_live_Zq8Lm2Tx9Vn4Kp7Rw9Yb3Hc5\n")
    report = json.loads(run_keysweep("scan", str(tmp_path), "--format", "json").stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["stripe.secret-key"]  # the positive control
