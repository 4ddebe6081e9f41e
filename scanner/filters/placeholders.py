"""Documentation placeholders, template references and masked values are never findings.

Each predicate takes the candidate secret and answers with a reason (kept for
--show-suppressed) or None. They are tuned so a random key essentially never trips them:
words must stand as their own token (`your-api-key-here`, `sk_live_YOUR_KEY`), not hide inside
random base62.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

PLACEHOLDER_WORDS = (
    "your", "example", "sample", "dummy", "placeholder", "changeme", "replace", "insert",
    "fake", "redacted", "here", "todo", "fixme", "mock", "foobar", "lorem", "test123",
    "testkey", "testtoken", "testsecret", "notreal", "invalid", "enter",
)
KNOWN_FAKE_VALUES = {
    "password", "secret", "token", "apikey", "api_key", "api-key", "key", "null", "none", "nil",
    "undefined", "true", "false", "string", "value", "xxx", "abc123", "123456", "qwerty",
}
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
MASKED = regex.compile(r"[xX]{4,}|\*{3,}|•{3,}|\.{3}|…|#{4,}|<redacted>|\[redacted\]", regex.IGNORECASE)
WORD_TOKENS = regex.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
ALNUM_RUN = regex.compile(r"[A-Za-z0-9]+")
WORD_LIKE = regex.compile(r"[a-z]+(?:[_.-][a-z]+)*|[A-Z]+(?:[_.-][A-Z]+)*|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*")


def is_template_reference(secret: str) -> str | None:
    if TEMPLATE.search(secret):
        return "template or variable reference, not a value"
    return None


def is_env_lookup(secret: str) -> str | None:
    if ENV_LOOKUP.search(secret):
        return "reads the value from the environment"
    return None


def is_masked(secret: str) -> str | None:
    if MASKED.search(secret):
        return "masked or elided value"
    return None


def has_placeholder_word(secret: str) -> str | None:
    lowered = secret.lower()
    if lowered.strip("'\"") in KNOWN_FAKE_VALUES:
        return f"placeholder value '{lowered}'"
    tokens = [t.lower() for t in WORD_TOKENS.findall(secret)]
    for token in tokens:
        for word in PLACEHOLDER_WORDS:
            if token.startswith(word) or (len(token) > len(word) and token.endswith(word)):
                return f"placeholder word '{word}'"
    joined = "".join(tokens)
    for word in ("test123", "test1234", "testtest"):
        if word in joined:
            return f"placeholder word '{word}'"
    return None


def is_repeated_or_sequential(secret: str) -> str | None:
    runs = ALNUM_RUN.findall(secret)
    if not runs:
        return "no letters or digits"
    body = max(runs, key=len)
    if len(body) >= 6 and len(set(body.lower())) <= 3:
        return "repeated characters"
    if len(body) >= 6 and _ascending_share(body.lower()) >= 0.8:
        return "sequential characters"
    return None


def _ascending_share(text: str) -> float:
    steps = [(ord(b) - ord(a)) in (1, -1) or (a, b) in (("9", "0"), ("z", "a"), ("9", "a")) for a, b in zip(text, text[1:])]
    return sum(steps) / len(steps)


def is_word_like(secret: str) -> str | None:
    """A lone word or identifier (`mysecretkey`, `API_KEY_NAME`, `apiKey`) has no entropy to leak."""
    if len(secret) < 40 and WORD_LIKE.fullmatch(secret):
        return "a word or identifier, not a key"
    return None


PLACEHOLDER_CHECKS: tuple[Callable[[str], str | None], ...] = (
    is_template_reference,
    is_env_lookup,
    is_masked,
    has_placeholder_word,
    is_repeated_or_sequential,
    is_word_like,
)


def placeholder_reason(secret: str) -> str | None:
    for check in PLACEHOLDER_CHECKS:
        reason = check(secret)
        if reason:
            return reason
    return None
