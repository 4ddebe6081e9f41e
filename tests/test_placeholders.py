"""Placeholder filters: a yes/no table per predicate, a false-suppression rate on random keys, and
every documentation placeholder form scanned through the whole engine with all rules loaded."""

from __future__ import annotations

import base64
import random
import string

import pytest

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.filters import placeholders as p
from scanner.pipeline import Scanner
from scanner.rules import load_rules

# Random strings generated for these tests; none is a real key.
RANDOM_KEYS = [
    "QnoM5HCyAUhyfxl9",
    "ZrW3VkrCVaLSo5cOLtjpBgoR",
    "kFdJ6epSJuEnOpz5iBxyWEqs0lgMOUzl",
    "2CurpSq6BJ9m4noWxoCz1BbupLYwUiWSMCluMneT",
    "d4565c3c5d54a16f48af1cf0bc60fdf2987680b8",
    "081649ab83fa7f3bf2950b4a733a52a2d288e4737e37bc82255158515969bcbb",
    "sGp6PTIjAXfxxT9sgC+hHVT2pUwe5InNgu4G2yRr",
    "MO2H-TXTGo6SPuupg76yFhF5YQgdCv_ltywyqqIz7hU",
    "RSDIBH6WSHOGGT4OTKWGI4G2ELYR6LH3",
    "34p1yh83a1qdg0xomxo164ts43sgbcuh",
    "sk_live_u8jzPde0IgxLd6GncfBAepfJ",
    "ZGVwbG95OkFyRDRITEFndWpJbVprUnJIR1JE",  # base64 of deploy:<random>
]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


TABLES = {
    p.is_published_example: (
        ["2YotnFZFEjr1zCsicMWpAA", "czZCaGRSa3F0MzpnWDFmQmF0M2JW", "mF_9.B5f-4.1JqM"],
        ["2YotnFZFEjr1zCsicMWpAB", *RANDOM_KEYS],
    ),
    p.is_template_reference: (
        ["${API_KEY}", "${{ secrets.ACME_TOKEN }}", "{{ api_key }}", "$API_KEY", "<API_KEY>", "<your api key>",
         "%(api_key)s", "%API_KEY%", "#{api_key}", "{api_key}", "[API_KEY]", "Bearer ${TOKEN}"],
        ["costs $5", "a<b>c", "{json}x", *RANDOM_KEYS],
    ),
    p.is_env_lookup: (
        ["process.env.API_KEY", 'os.environ["API_KEY"]', 'os.getenv("API_KEY")', "import.meta.env.VITE_KEY",
         'ENV["API_KEY"]', 'System.getenv("API_KEY")', 'Deno.env.get("API_KEY")', "env('API_KEY')"],
        ["environment", "envoy-proxy-token", *RANDOM_KEYS],
    ),
    p.is_masked: (
        ["xxxxxxxxxxxxxxxx", "sk_live_XXXX", "****", "••••••••", "sk-...", "sk-…", "<redacted>", "[REDACTED]",
         "########", "sk_live__________"],
        ["-----BEGIN RSA PRIVATE KEY-----", "a.b.c", "xx", "MIIEpAIBAAKCAQEA3XXxx9kq2Lz7Rw0TbVnYc1Pf8Hs6GjKuQe4aMdWo5tNB",
         *RANDOM_KEYS],
    ),
    p.is_file_path: (
        ["/etc/acme/keys/signing.pem", "./secrets/token.txt", "~/.ssh/id_ed25519", "C:\\keys\\prod.pfx",
         "prod/payments/signing-key", "../config/.env", "/run/secrets/db_password"],
        ["abc/def", "https://api.acme.test/v1/keys/signing.pem", "/", *RANDOM_KEYS],
    ),
    p.is_code_reference: (
        ["settings.API_KEY", "config.supabaseAnonKey", "this.props.apiKey", "self._token", "$this->apiKey",
         "Secrets::STRIPE_KEY", "ctx.secrets.token()"],
        ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl", "v1.2.3", "abc.Xq9Zt7", *RANDOM_KEYS],
    ),
    p.has_placeholder_word: (
        ["YOUR_API_KEY", "your-api-key-here", "your_api_key_here", "sk_live_YOUR_KEY", "EXAMPLEKEY",
         "AKIAIOSFODNN7EXAMPLE", "dummy_token", "sample-secret", "insert_key_here", "REPLACE_ME", "fake_key_123",
         "test123", "apikey", "undefined", "demo-key-0001", "changeme", "<placeholder>"],
        ["sk_test_u8jzPde0IgxLd6GncfBAepfJ", "examination-unit", *RANDOM_KEYS],
    ),
    p.is_weak_default: (
        ["P@ssw0rd!", "password123", "Secret123", "admin", "hunter2", "s3cr3t", "changeit1", "letmein!", "root"],
        ["Tr0ub4dor&3", "correct-horse-battery-staple-91", *RANDOM_KEYS],
    ),
    p.is_repeated_or_sequential: (
        ["aaaaaaaa", "00000000000000000000", "sk_live_000000000000000000000000", "abcabcabcabc", "abcdefgh",
         "123456789", "9876543210", "qwertyuiop", "asdfghjkl", "!!!!----"],
        ["abc", "a1b2c3d4e5f6", *RANDOM_KEYS],
    ),
    p.is_word_like: (
        ["mysecretkey", "supersecretpassword", "API_KEY_NAME", "apiKey", "getAPIKey", "supabaseAnonKey",
         "user_profile_page_12", "test-api-key-123456", "HTTP_PROXY", "X-API-Key", "my_client_secret_value",
         "user_id", "V1SecretVolumeSource", "sha256Hash", "settings.P12_PASSWORD", "auth-request-type/at",
         "urn:ietf:params:oauth:token-type:jwt"],
        ["WBQblsJVBNIOEzVbns", "qzkvtrwbnmfjpxlh", "django-insecure-ghx0n2kqk1-jw9xj7c8", "x2y9", *RANDOM_KEYS],
    ),
    p.is_encoded_placeholder: (
        [b64("username:password"), b64("user:YOUR_PASSWORD"), b64("admin:changeme"), b64("apiuser:"),
         b64("user:pass"), b64("YOUR_API_KEY"), b64("not my real password")],
        ["dXNlcjp", "not base64!", *RANDOM_KEYS],
    ),
}
YES = [pytest.param(check, v, id=f"{check.__name__}-yes-{v}") for check, (yes, _) in TABLES.items() for v in yes]
NO = [pytest.param(check, v, id=f"{check.__name__}-no-{v}") for check, (_, no) in TABLES.items() for v in no]


@pytest.mark.parametrize(("check", "value"), YES)
def test_predicate_says_yes(check, value: str) -> None:
    reason = check(value)
    assert isinstance(reason, str) and reason


@pytest.mark.parametrize(("check", "value"), NO)
def test_predicate_says_no(check, value: str) -> None:
    assert check(value) is None


def test_every_predicate_has_a_table() -> None:
    assert set(TABLES) == set(p.PLACEHOLDER_CHECKS)


@pytest.mark.parametrize("key", RANDOM_KEYS)
def test_random_keys_are_not_placeholders(key: str) -> None:
    assert p.placeholder_reason(key) is None


ALPHABETS = {
    "base62": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "base64url": string.ascii_letters + string.digits + "-_",
    "base64": string.ascii_letters + string.digits + "+/",
    "base36": string.ascii_lowercase + string.digits,
    "base32": string.ascii_uppercase + "234567",
}


@pytest.mark.parametrize("alphabet", sorted(ALPHABETS))
def test_random_keys_are_almost_never_suppressed(alphabet: str) -> None:
    """A few thousand random keys per alphabet, 16 to 64 characters, some behind a provider prefix."""
    rng = random.Random(f"keysweep-{alphabet}")  # seeded: the same keys every run
    chars = ALPHABETS[alphabet]
    keys = [
        rng.choice(("", "", "sk_live_", "tok_", "key-")) + "".join(rng.choice(chars) for _ in range(length))
        for length in (16, 20, 24, 32, 40, 64)
        for _ in range(500)
    ]
    suppressed = {key: reason for key in keys if (reason := p.placeholder_reason(key))}
    assert len(suppressed) / len(keys) <= 0.001, suppressed


def test_random_letters_only_keys_are_rarely_taken_for_words() -> None:
    """Letters-only keys are where a word test can err; measured, the rate stays well under 1%."""
    rng = random.Random("keysweep-letters")
    keys = ["".join(rng.choice(alphabet) for _ in range(length))
            for alphabet in (string.ascii_lowercase, string.ascii_letters)
            for length in (16, 24, 32) for _ in range(500)]
    suppressed = [key for key in keys if p.placeholder_reason(key)]
    assert len(suppressed) / len(keys) < 0.01, suppressed


# Every placeholder form from the docs, in the context it shows up in. (line, path, expected reason
# or None when no rule needs to match at all, e.g. an env lookup is not a quoted literal).
PLACEHOLDER_LINES = [
    ("Authorization: Bearer YOUR_API_KEY_GOES_HERE", "example.txt", "placeholder word 'your'"),
    ('curl https://api.acme.test/v1 -H "Authorization: Bearer your-api-key-here"', "example.txt", "placeholder word"),
    ("export OPENAI_API_KEY=your-api-key-here", "example.txt", "placeholder word 'your'"),
    ('api_key = os.getenv("API_KEY")', "example.txt", None),
    ("const key = process.env.API_KEY", "example.txt", None),
    ("STRIPE_KEY=sk_live_YOUR_KEY", "example.txt", "placeholder word 'your'"),
    ('-H "X-API-Key: <API_KEY>"', "example.txt", None),
    ('token: "{{ api_key }}"', "example.txt", None),
    ("API_KEY=${API_KEY}", "example.txt", None),
    ("API_KEY=$API_KEY", "example.txt", None),
    ('api_key = os.environ["API_KEY"]', "example.txt", None),
    ("apikey: process.env.SUPABASE_ANON_KEY", "example.txt", "reads the value from the environment"),
    ("headers: { apikey: config.supabaseAnonKey }", "example.txt", "a reference to a variable or setting"),
    ('SECRET_KEY = "xxxxxxxxxxxxxxxxxxxxxxxx"', "example.txt", None),
    ('ACME_API_KEY = "sk_live_XXXXXXXXXXXXXXXXXXXX"', "example.txt", None),
    ('password = "********"', "example.txt", None),
    ('"client_secret": "<redacted>"', "example.txt", None),
    ("DB_PASSWORD=changeme", ".env", None),
    ('API_TOKEN="example-token-1234"', "example.txt", "placeholder word 'example'"),
    ('secret_key = "dummy_secret_key_value"', "example.txt", "placeholder word 'dummy'"),
    ('api_key = "sample_api_key_0001"', "example.txt", "placeholder word 'sample'"),
    ('password = "test1234567"', "example.txt", "placeholder word 'test123'"),
    ('ACCESS_TOKEN = "abcdefghijklmnopqrstuvwx"', "example.txt", "sequential characters"),
    ('ACCESS_TOKEN = "1234567890123456"', "example.txt", "sequential characters"),
    ('ACCESS_TOKEN = "qwertyuiopasdfghjkl"', "example.txt", "a keyboard sequence"),
    ('client_secret = "my_client_secret_value"', "example.txt", "a word or identifier"),
    ('curl "https://api.acme.test/v1/items?api_key=YOUR_API_KEY_HERE"', "example.txt", "placeholder word 'your'"),
    ("Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=", "example.txt", "base64 of a placeholder"),
    ("ENV ACME_API_KEY=<your-api-key>", "Dockerfile", None),
    ("      - ACME_TOKEN=${ACME_TOKEN}", "docker-compose.yml", "template or variable reference"),
    ("      ACME_API_KEY: ${{ secrets.ACME_API_KEY }}", ".github/workflows/ci.yml", None),
    ('client = Acme(api_key="<your api key>")', "example.txt", None),
    ('new Client({ apiKey: "YOUR_ACME_API_KEY_HERE" })', "example.txt", "placeholder word 'your'"),
    ("machine api.acme.test login me password YOUR_PASSWORD", ".netrc", "placeholder word 'your'"),
    ("acme.api.key=${ACME_API_KEY}", "application.properties", None),
    ('DB_PASSWORD = "P@ssw0rd!2024"', "example.txt", "well-known default or stand-in value 'password'"),
    ('AUTH_TOKEN = "REPLACE_WITH_YOUR_TOKEN"', "example.txt", "placeholder word 'replace'"),
    ('api_key: "%(acme_api_key)s"', "example.txt", "template or variable reference"),
    ('api_key = "••••••••••••••••"', "example.txt", None),
    ('api_key = "pk9Xr2Lm4Qw8Tz6V…"', "example.txt", "masked or elided value"),
    ('SIGNING_KEY_PATH = "/etc/acme/keys/signing.pem"', "example.txt", None),
    ('private_key = "/etc/acme/keys/signing-key.pem"', "example.txt", "a file path"),
    ('token = "Bearer"', "example.txt", None),
    ('API_KEY_HEADER = "X-API-Key"', "example.txt", None),
    ("secret = get_secret()", "example.txt", None),
    ("password = input()", "example.txt", None),
    ('key = "user_id"', "example.txt", None),
    ('color_key = "#ff00aa"', "example.txt", None),
    ('version_key = "1.2.3"', "example.txt", None),
    ('token_url = "https://auth.acme.test/oauth/token"', "example.txt", None),
]
SCANNER = Scanner(engine=Engine(load_rules()), config=Config())
SHOWING = Scanner(engine=SCANNER.engine, config=Config(), keep_suppressed=True)


@pytest.mark.parametrize(("line", "path", "reason"), PLACEHOLDER_LINES, ids=[line for line, _, _ in PLACEHOLDER_LINES])
def test_placeholder_in_context_is_never_a_finding(line: str, path: str, reason: str | None) -> None:
    assert SCANNER.scan(Chunk(text=line, path=path)) == []
    shown = SHOWING.scan(Chunk(text=line, path=path))
    assert [f for f in shown if not f.suppressed] == []  # a rule that matched says why it let go
    if reason is not None:
        assert shown, "expected a rule to match and a filter to say why it let go"
        assert any(reason in f.suppressed for f in shown), [(f.rule_id, f.suppressed) for f in shown]


def test_the_same_lines_with_a_random_key_are_findings() -> None:
    """The contexts above are ones the rules do cover: swap in a random key and each one fires."""
    key = "kFdJ6epSJuEnOpz5iBxyWEqs0lgMOUzl"
    lines = [
        ("Authorization: Bearer " + key, "example.txt"),
        ("export OPENAI_API_KEY=" + key, "example.txt"),
        ('-H "X-API-Key: ' + key + '"', "example.txt"),
        ('token: "' + key + '"', "example.txt"),
        ("API_KEY=" + key, "example.txt"),
        ('client = Acme(api_key="' + key + '")', "example.txt"),
        ("ENV ACME_API_KEY=" + key, "Dockerfile"),
        ("      ACME_API_KEY: " + key, ".github/workflows/ci.yml"),
        ("acme.api.key=" + key, "application.properties"),
        ('curl "https://api.acme.test/v1/items?api_key=' + key + '"', "example.txt"),
    ]
    for line, path in lines:
        found = SCANNER.scan(Chunk(text=line, path=path))
        assert [f.secret for f in found] == [key], line
