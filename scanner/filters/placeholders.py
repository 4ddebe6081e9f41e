"""Documentation placeholders, template references and masked values are never findings.

Each predicate takes the candidate secret and answers with a reason (kept for
--show-suppressed) or None. They are tuned so a random key essentially never trips them:
words must stand as their own token (`your-api-key-here`, `sk_live_YOUR_KEY`), not hide inside
random base62, and shapes (paths, dotted names, identifiers) must hold for every part of the
value. tests/test_placeholders.py measures the false-suppression rate on random keys.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable

import regex

PLACEHOLDER_WORDS = (
    "your", "example", "sample", "dummy", "placeholder", "changeme", "changeit", "replace", "insert",
    "fake", "redacted", "here", "todo", "fixme", "mock", "foobar", "lorem", "test123",
    "testkey", "testtoken", "testsecret", "notreal", "invalid", "enter", "demo",
)
ANY_PLACEHOLDER_WORD = regex.compile("|".join(regex.escape(word) for word in PLACEHOLDER_WORDS))
KNOWN_FAKE_VALUES = {
    "password", "secret", "token", "apikey", "api_key", "api-key", "key", "null", "none", "nil",
    "undefined", "true", "false", "string", "value", "xxx", "abc123", "123456", "qwerty",
    "bearer", "basic", "empty", "default", "test", "testing",
}
# Passwords that documentation and default configs reach for; compared after undoing
# leetspeak and dropping trailing digits/punctuation (P@ssw0rd123! → password).
WEAK_DEFAULTS = {
    "password", "passwd", "pass", "secret", "admin", "administrator", "root", "toor", "letmein",
    "welcome", "qwerty", "changeme", "changeit", "default", "guest", "user", "test", "master",
    "hunter", "iloveyou", "mypassword", "mysecret", "supersecret", "topsecret", "secretpassword",
    "adminpassword", "abc", "abcd", "abcdef",
}
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
KEYBOARD = "1234567890qwertyuiopasdfghjklzxcvbnm"  # rows in order, so qwerty…asdf… runs on
# Values the OAuth RFCs print as examples (RFC 6749 §4.1-5.1, RFC 6750 §2.1, RFC 5849 §3.4.1): libraries
# quote them in docstrings and tests. Public by construction, so never someone's live secret.
PUBLISHED_EXAMPLES = {
    "2YotnFZFEjr1zCsicMWpAA", "tGzv3JOkF0XG5Qx2TlKWIA", "SplxlOBeZQQYbYS6WxSbIA", "s6BhdRkqt3", "gX1fBat3bV",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW", "mF_9.B5f-4.1JqM", "kkk9d7dh3k39sjv7", "ad180jjd733klru7",
}
# Keys providers print in their own documentation, which tutorials and tests copy: public, never
# anyone's live key. Stripe's API reference test keys; AWS's sample credentials all end EXAMPLE or
# EXAMPLEKEY (https://docs.aws.amazon.com/IAM/latest/UserGuide/security-creds.html); jwt.io's
# default token's payload is {"sub":"1234567890","name":"John Doe",…}.
DOCUMENTED_SAMPLES = {"sk_test_4eC39HqLyjWDarjtT1zdp7dc", "pk_test_TYooMQauvdEDq54NiTphI7jx",
                      "sk_test_BQokikJOvBiI2HlWgH4olfQ2"}
SAMPLE_MARKERS = ("EXAMPLE", "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIi")  # a random key never holds them
TEMPLATE = regex.compile(
    r"""\$\{[^}]*\}?         # ${API_KEY}
      | \{\{.*?\}\}          # {{ api_key }}, ${{ secrets.X }}
      | ^\$[A-Za-z_]\w*$     # $API_KEY
      | ^<[^<>]+>$           # <API_KEY>
      | ^%\(\w+\)s$          # %(api_key)s
      | ^%\w+%$              # %API_KEY%
      | ^\#\{[^}]*\}$        # #{api_key}
      | ^\{\w+\}$            # {api_key}
      | ^\[\w[\w -]*\]$      # [API_KEY]
    """,
    regex.VERBOSE,
)
ENV_LOOKUP = regex.compile(
    r"process\.env|os\.environ|getenv|import\.meta\.env|\bENV\[|\benv\(|System\.getenv|Deno\.env",
    regex.IGNORECASE,
)
MASKED = regex.compile(r"\*{3,}|•{3,}|\.{3}|…|#{4,}|_{5,}|<redacted>|\[redacted\]", regex.IGNORECASE)
X_RUN = regex.compile(r"[xX]{4,}")
# A run of x's masks a value when it is long or a large part of the value: random base62 or base64
# holds `xXxx` by chance (about one 2048-bit PEM key in 600 did, and was suppressed).
X_RUN_MASKS = 8
X_RUN_SHARE = 0.2
WORD_TOKENS = regex.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
ALNUM_RUN = regex.compile(r"[A-Za-z0-9]+")
DIGIT_RUN = regex.compile(r"\d{1,3}")
LETTER_TOKENS = regex.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
# a.b.c, this->x, Foo::BAR, optionally called: settings.API_KEY, config.supabaseAnonKey, self._token()
DOTTED_NAME = regex.compile(r"^[$_A-Za-z][\w$]*(?:(?:\.|->|::)[$_A-Za-z][\w$]*)+(?:\(\))?$")
BASE64 = regex.compile(r"^[A-Za-z0-9+/]{8,}={0,2}$")
VOWELS = set("aeiouy")
# English letter frequencies (percent), a-z: a word's letters are common ones.
ENGLISH_FREQUENCY = (8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.77, 4.0, 2.4, 6.7, 7.5, 1.9, 0.095, 6.0,
                     6.3, 9.1, 2.8, 0.98, 2.4, 0.15, 2.0, 0.074)
LETTER_LOG_ODDS = {
    chr(ord("a") + i): math.log2(26 * f / sum(ENGLISH_FREQUENCY)) for i, f in enumerate(ENGLISH_FREQUENCY)
}
CONSONANT_RUN = regex.compile(r"[bcdfghjklmnpqrstvwxz]{5}")
# Compiled once: the `regex` module's own cache lookup costs ~20 µs a call, per finding.
PATH_SEPARATOR = regex.compile(r"[/\\]")
DRIVE_PREFIX = regex.compile(r"^[A-Za-z]:\\")
DRIVE = regex.compile(r"[A-Za-z]:")
DIGITS = regex.compile(r"\d+")
EXTENSION = regex.compile(r"[A-Za-z0-9]{1,8}")
NAME_SEPARATOR = regex.compile(r"\.|->|::")
WEAK_SUFFIX = regex.compile(r"[\d!?.#*_-]+$")
REPEATED_PATTERN = regex.compile(r"(.{2,8}?)\1{2,}.{0,8}")
WORD_SEPARATOR = regex.compile(r"[_.\-/:=]+")
LETTER = regex.compile(r"[A-Za-z]")
DIGIT_INSIDE = regex.compile(r"\d(?![\dA-Z]|$)")
DIGIT_NOT_LAST = regex.compile(r"\d(?!\d*$)")
WORDS_AND_SPACES = regex.compile(r"[A-Za-z]+(?: [A-Za-z]+)+")


def is_published_example(secret: str) -> str | None:
    if secret in PUBLISHED_EXAMPLES:
        return "an example value published in an RFC"
    if secret in DOCUMENTED_SAMPLES or any(marker in secret for marker in SAMPLE_MARKERS):
        return "a provider's published documentation sample"
    return None


def is_template_reference(secret: str) -> str | None:
    if TEMPLATE.search(secret):
        return "template or variable reference, not a value"
    return None


def is_env_lookup(secret: str) -> str | None:
    if ENV_LOOKUP.search(secret):
        return "reads the value from the environment"
    return None


def is_masked(secret: str) -> str | None:
    if MASKED.search(secret) or any(_masks(run.group(), secret) for run in X_RUN.finditer(secret)):
        return "masked or elided value"
    return None


def _masks(run: str, secret: str) -> bool:
    return len(run) >= X_RUN_MASKS or len(run) >= X_RUN_SHARE * len(secret)


def is_file_path(secret: str) -> str | None:
    """`/etc/acme/key.pem`, `./secrets/token`, `prod/payments/signing-key`: where a secret lives.

    Every path segment must read as a name, so random base64 (which has `/` in it) never passes.
    URLs are left alone: some rules (webhook URLs) report the whole URL as the secret, and the
    generic rules do not take a URL as a value in the first place.
    """
    if "://" in secret:
        return None
    parts = PATH_SEPARATOR.split(secret)
    if len(parts) < 2 or (secret[0] not in "/.~\\" and not DRIVE_PREFIX.match(secret) and len(parts) < 3):
        return None
    names = [p for p in parts if p not in ("", ".", "..", "~") and not DRIVE.fullmatch(p)]
    if names and all(_is_file_name(p) for p in names):
        return "a file path, not a key"
    return None


def _is_file_name(part: str) -> bool:
    stem, _, extension = part.rpartition(".") if "." in part else (part, "", "")
    name = DIGITS.sub("", stem or extension)  # id_ed25519, v2, 2024-01
    if extension and not EXTENSION.fullmatch(extension):
        return False
    return not name.strip("_-.") or _is_wordish(name)


def is_code_reference(secret: str) -> str | None:
    """`settings.API_KEY`, `config.supabaseAnonKey`: a name in code that holds the value elsewhere."""
    if DOTTED_NAME.match(secret):
        names = NAME_SEPARATOR.split(secret.removesuffix("()"))
        if all(_is_wordish(name.strip("_$")) for name in names):
            return "a reference to a variable or setting, not a value"
    return None


def has_placeholder_word(secret: str) -> str | None:
    lowered = secret.lower()
    if lowered.strip("'\"") in KNOWN_FAKE_VALUES:
        return f"placeholder value '{lowered}'"
    tokens = [t.lower() for t in WORD_TOKENS.findall(secret)]
    for token in tokens:
        if not ANY_PLACEHOLDER_WORD.search(token):
            continue  # most tokens of a real key: skip the word-by-word loop
        for word in PLACEHOLDER_WORDS:
            if token.startswith(word) or (len(token) > len(word) and token.endswith(word)):
                return f"placeholder word '{word}'"
    joined = "".join(tokens)
    for word in ("test123", "testtest", "notreal", "notareal", "thisis"):
        if word in joined:
            return f"placeholder word '{word}'"
    return None


def is_weak_default(secret: str) -> str | None:
    """`password123`, `P@ssw0rd!`, `admin`, `s3cr3t`: the stand-ins docs and default configs use."""
    core = WEAK_SUFFIX.sub("", secret).lower().translate(LEET)
    if core in WEAK_DEFAULTS:
        return f"well-known default or stand-in value '{core}'"
    return None


def is_repeated_or_sequential(secret: str) -> str | None:
    runs = ALNUM_RUN.findall(secret)
    if not runs:
        return "no letters or digits"
    body = max(runs, key=len)
    lowered = body.lower()
    if len(body) >= 6 and len(set(lowered)) <= 3:
        return "repeated characters"
    if len(body) >= 12 and REPEATED_PATTERN.fullmatch(lowered):
        return "a repeated pattern"
    if len(body) >= 6 and _ascending_share(lowered) >= 0.8:
        return "sequential characters"
    if len(body) >= 6 and (lowered in KEYBOARD or lowered in KEYBOARD[::-1]):
        return "a keyboard sequence"
    return None


def _ascending_share(text: str) -> float:
    wraps = (("9", "0"), ("z", "a"), ("9", "a"))
    steps = [(ord(b) - ord(a)) in (1, -1) or (a, b) in wraps for a, b in zip(text, text[1:])]
    return sum(steps) / len(steps)


def is_word_like(secret: str) -> str | None:
    """A lone word or identifier (`mysecretkey`, `API_KEY_NAME`, `apiKey`, `user_profile_2`): nothing to leak."""
    if len(secret) < 48 and _is_wordish(secret):
        return "a word or identifier, not a key"
    return None


def _is_wordish(text: str) -> bool:
    """Made of words: snake, kebab, dot, path, UPPER or camel case. Numbers stand as their own part,
    end a part (user2) or sit between camel-case words (V1Secret, sha256Hash).

    Random letters also split into 'words', so each word must read like one: camel-case words
    average three or more letters, carry a vowel, and capitals run no longer than an acronym;
    long runs of one case must look like English (_reads_as_word).
    """
    parts = [p for p in WORD_SEPARATOR.split(text) if p]
    if not parts or not any(LETTER.search(p) for p in parts):
        return False
    for part in parts:
        if part.isdigit():
            if len(part) > 8:
                return False
            continue
        if len(DIGIT_RUN.findall(part)) > 1 or DIGIT_INSIDE.search(part):
            return False
        if DIGIT_NOT_LAST.search(part) and (part.isupper() or part.islower()):
            return False
        letters = DIGIT_RUN.sub("", part)
        if not letters.isalpha() or not letters.isascii():
            return False
        if letters.islower() or letters.isupper():
            if not _reads_as_word(letters.lower()):
                return False
            continue
        tokens = LETTER_TOKENS.findall(letters)
        if "".join(tokens) != letters or len(letters) / len(tokens) < 3:
            return False
        if len(letters) >= 10 and _english_score(letters.lower()) < -0.3:
            return False
        for token in tokens:
            if token.isupper() and len(token) > 5:
                return False
            lowered = token.lower()
            if not token.isupper() and not (any(c in VOWELS for c in lowered) and _reads_as_word(lowered)):
                return False
    return True


def _reads_as_word(word: str) -> bool:
    """Longer lower-case runs must look like English: vowels, no long consonant clusters, common letters."""
    if len(word) < 6:
        return True
    vowels = sum(c in VOWELS for c in word)
    # Random letters average -0.87, but short runs scatter widely: a long run must score like prose.
    floor = -0.35 if len(word) < 12 else 0.3
    return vowels / len(word) >= 0.2 and not CONSONANT_RUN.search(word) and _english_score(word) >= floor


def _english_score(word: str) -> float:
    """Mean log-odds of the letters under English letter frequencies versus uniform random letters.

    Identifiers made of words score 0.3-0.7 (supersecretpassword 0.51); random letters average -0.87.
    """
    return sum(LETTER_LOG_ODDS.get(c, -3.0) for c in word) / len(word)


def is_encoded_placeholder(secret: str) -> str | None:
    """Basic credentials hide their placeholder in base64: `dXNlcm5hbWU6cGFzc3dvcmQ=` is username:password."""
    if not BASE64.match(secret) or len(secret) % 4:
        return None
    try:
        decoded = base64.b64decode(secret, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not decoded.isprintable():
        return None
    if WORDS_AND_SPACES.fullmatch(decoded):
        return "base64 of plain words"
    password = decoded.partition(":")[2] if ":" in decoded else decoded
    reason = _plain_reason(password) if password else "empty password"
    return f"base64 of a placeholder ({reason})" if reason else None


PLAIN_CHECKS: tuple[Callable[[str], str | None], ...] = (
    is_published_example,
    is_template_reference,
    is_env_lookup,
    is_masked,
    is_file_path,
    is_code_reference,
    has_placeholder_word,
    is_weak_default,
    is_repeated_or_sequential,
    is_word_like,
)
PLACEHOLDER_CHECKS: tuple[Callable[[str], str | None], ...] = (*PLAIN_CHECKS, is_encoded_placeholder)


def _first_reason(checks: tuple[Callable[[str], str | None], ...], secret: str) -> str | None:
    for check in checks:
        reason = check(secret)
        if reason:
            return reason
    return None


def _plain_reason(secret: str) -> str | None:
    return _first_reason(PLAIN_CHECKS, secret)


def placeholder_reason(secret: str) -> str | None:
    """Why the secret is a placeholder, judged as captured and as it reads: without the brackets or
    quotes a loose pattern took along (`password]]`, `PASSWORD")`), and percent-decoded
    (`not-re%40l` in a URL is `not-re@l`)."""
    for variant in _readings(secret):
        reason = _first_reason(PLACEHOLDER_CHECKS, variant)
        if reason:
            return reason
    return None


WRAPPING = "[](){}<>\"'`,;"


def _readings(secret: str) -> list[str]:
    readings = [secret]
    stripped = secret.strip(WRAPPING)
    if stripped and stripped != secret:
        readings.append(stripped)
    if "%" in secret:
        from urllib.parse import unquote

        decoded = unquote(stripped or secret)
        if decoded != secret:
            readings.append(decoded)
    return readings
