"""Load rule files (TOML data in rules/<family>/<provider>.toml), check their shape, and compile
patterns lazily.

A rule file holds `[[rules]]` tables (format v2, docs/rules.md). Patterns use the `regex` module
and must have exactly one capturing group: the secret. Each example names the secret it must
yield. Compilation happens on first use, so a scan that only touches a few rules (the pre-commit
path) compiles only those.
"""

from __future__ import annotations

import functools
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
from regex import Pattern  # the name `regex` is shadowed by Rule.regex inside the class

from scanner.cache import cache_dir, write_cache
from scanner.errors import RuleError
from scanner.verify.spec import VerifySpec, parse_verify_spec

SEVERITIES = ("info", "low", "medium", "high", "critical")
CONFIDENCES = ("low", "medium", "high")
NEGATED_CLASS = regex.compile(r"\[\^(?:\\.|[^\]\\])*\]")
REQUIRED_FIELDS = ("id", "name", "description", "pattern", "keywords", "severity", "confidence")
OPTIONAL_FIELDS = (
    "provider", "entropy", "validator", "tags", "references", "examples", "negative_examples",
    "path", "generic", "allow", "verify", "min_length", "exposure", "multiline", "rulesets", "precise",
)
DEFAULT_RULESET = "default"  # every precise rule: what a scan runs unless --ruleset says otherwise
ALL_RULESET = "all"
RULESET_NAME = regex.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class Example:
    text: str
    path: str = "example.txt"
    secret: str | None = None  # what the rule must capture from text (format v2 requires it)


@dataclass(frozen=True)
class RuleAllow:
    """Per-rule false-positive knowledge carried by the rule itself."""

    stopwords: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    description: str
    pattern: str
    keywords: tuple[str, ...]
    severity: str
    confidence: str
    provider: str
    origin: str  # the rule file it came from, for error messages
    entropy: float | None = None
    validator: str | None = None
    path: str | None = None  # regex a file path must match for the rule to apply
    generic: bool = False  # generic rules yield to a specific rule matching the same secret
    min_length: int = 0
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    negative_examples: tuple[Example, ...] = ()
    allow: RuleAllow = field(default_factory=RuleAllow)
    verify: VerifySpec | None = None
    exposure: str | None = None
    multiline: bool = False  # matches may span more than the lines around a keyword
    family: str = ""  # the rules/ folder it lives in: cloud, ai, payments …
    rulesets: tuple[str, ...] = ()  # named groups beyond its family, `default` and `all`
    precise: bool = True  # imprecise rules (shapes, not formats) run only when a ruleset names them

    @property
    def ruleset_names(self) -> frozenset[str]:
        """Every ruleset this rule belongs to."""
        implicit = {ALL_RULESET, self.provider, *([self.family] if self.family else []),
                    *([DEFAULT_RULESET] if self.precise else [])}
        return frozenset({*implicit, *self.rulesets})

    @functools.cached_property
    def spans_lines(self) -> bool:
        """Whether the engine must give this rule whole chunks rather than windows around keywords:
        declared `multiline`, a pattern that names newlines, or an example whose match spans lines."""
        outside_negations = NEGATED_CLASS.sub("", self.pattern)  # [^"\n] keeps a match on one line
        if self.multiline or any(marker in outside_negations for marker in ("(?s", "\\n", "\\r")):
            return True
        return any("\n" in m.group(0) for e in self.examples for m in self.regex.finditer(e.text))

    @functools.cached_property
    def regex(self) -> Pattern[str]:
        return regex.compile(self.pattern)

    @functools.cached_property
    def path_regex(self) -> Pattern[str] | None:
        return regex.compile(self.path) if self.path else None

    @functools.cached_property
    def allow_regexes(self) -> tuple[Pattern[str], ...]:
        return tuple(regex.compile(r) for r in self.allow.regexes)

    def applies_to(self, path: str) -> bool:
        return self.path_regex is None or self.path_regex.search(path) is not None


def builtin_rules_dir() -> Path:
    """rules/ ships inside the wheel as scanner/rules; a source checkout keeps it at the top."""
    here = Path(__file__).resolve().parent
    packaged = here / "rules"
    return packaged if packaged.is_dir() else here.parent / "rules"


def rule_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.rglob("*.toml"))
    if path.is_file():
        return [path]
    raise RuleError(f"{path}: no such rule file or directory")


def load_rules(extra: list[Path] | tuple[Path, ...] = (), *, builtin: bool = True) -> list[Rule]:
    """Load the built-in rules plus any extra files or directories; ids must be unique."""
    roots = [builtin_rules_dir()] if builtin else []
    files = [(path, family_of(path, root)) for root in [*roots, *map(Path, extra)] for path in rule_files(root)]
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    cache = ParsedTomlCache()
    for path, family in files:
        for rule in load_rule_file(path, cache, family=family):
            if rule.id in seen:
                raise RuleError(f"{rule.origin}: rule '{rule.id}': duplicate id (also in {seen[rule.id]})")
            seen[rule.id] = rule.origin
            rules.append(rule)
    cache.save()
    return rules


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: invalid TOML: {exc}") from None


class ParsedTomlCache:
    """Parsed rule files kept as JSON in the user's cache, keyed by path, size and mtime.

    Parsing ~40 TOML files costs ~35 ms of every run, most of the pre-commit hook's budget; JSON
    reads back in ~2 ms. The cache holds data, never code, and a stale or broken one is ignored.
    """

    def __init__(self) -> None:
        self.path = cache_dir() / "rule-files.json"
        self.dirty = False
        self.used: set[str] = set()
        try:
            self.entries: dict[str, Any] = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            self.entries = {}

    def read(self, path: Path) -> dict[str, Any]:
        try:
            info = path.stat()
        except OSError:
            return read_toml(path)  # raises the one-line error
        key, stamp = str(path.resolve()), [info.st_size, info.st_mtime_ns]
        self.used.add(key)
        entry = self.entries.get(key)
        if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("data"), dict):
            return entry["data"]
        data = read_toml(path)
        self.entries[key] = {"stamp": stamp, "data": data}
        self.dirty = True
        return data

    def save(self) -> None:
        self._forget_missing_files()
        if not self.dirty:
            return
        try:
            data = json.dumps(self.entries).encode("utf-8")
        except (TypeError, ValueError):
            return  # TOML datetimes don't serialise: the next run re-parses
        write_cache(self.path, data)

    def _forget_missing_files(self) -> None:
        """Rule files seen once (a temp dir, another checkout) must not grow the cache forever:
        every run would decode them (1.3 MB of JSON, 19 ms, was seen). Checked only when the
        cache holds far more files than this run read."""
        if len(self.entries) <= 2 * len(self.used) + 16:
            return
        gone = [key for key in self.entries if key not in self.used and not os.path.exists(key)]
        for key in gone:
            del self.entries[key]
        self.dirty = self.dirty or bool(gone)


def family_of(path: Path, root: Path) -> str:
    """`rules/ai/openai.toml` is in family `ai`: the folder below the rules directory, if any."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return ""
    return parts[0] if len(parts) > 1 else ""


def load_rule_file(path: Path, cache: ParsedTomlCache | None = None, *, family: str = "") -> list[Rule]:
    data = cache.read(path) if cache is not None else read_toml(path)
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise RuleError(f"{path}: expected one or more [[rules]] tables")
    unknown = set(data) - {"rules"}
    if unknown:
        raise RuleError(f"{path}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    return [parse_rule(entry, origin=str(path), default_provider=path.stem, family=family) for entry in entries]


def select_rulesets(rules: list[Rule], names: list[str] | tuple[str, ...]) -> list[Rule]:
    """The rules in any of the named rulesets (`default` when none is named)."""
    wanted = set(names) or {DEFAULT_RULESET}
    known = {name for rule in rules for name in rule.ruleset_names}
    unknown = sorted(wanted - known)
    if unknown:
        choices = sorted({r.family for r in rules if r.family} | {DEFAULT_RULESET, ALL_RULESET})
        raise RuleError(f"unknown ruleset(s): {', '.join(unknown)}; try {', '.join(choices)}, a provider, "
                        "or a name from a rule's `rulesets`")
    return [rule for rule in rules if rule.ruleset_names & wanted]


def parse_rule(entry: Any, *, origin: str, default_provider: str, family: str = "") -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"{origin}: each [[rules]] entry must be a table")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not regex.fullmatch(r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+", rule_id):
        raise RuleError(f"{origin}: rule id {rule_id!r} must look like 'provider.kind' (lowercase, dotted)")
    where = f"{origin}: rule '{rule_id}'"
    missing = [name for name in REQUIRED_FIELDS if name not in entry]
    if missing:
        raise RuleError(f"{where}: missing field(s): {', '.join(missing)}")
    unknown = set(entry) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise RuleError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
    if entry["severity"] not in SEVERITIES:
        raise RuleError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    if entry["confidence"] not in CONFIDENCES:
        raise RuleError(f"{where}: confidence must be one of {', '.join(CONFIDENCES)}")
    keywords = _strings(entry["keywords"], where, "keywords")
    if not keywords:
        raise RuleError(f"{where}: keywords must list at least one string for the prefilter")
    allow = entry.get("allow", {})
    if not isinstance(allow, dict) or set(allow) - {"stopwords", "regexes"}:
        raise RuleError(f"{where}: allow takes only 'stopwords' and 'regexes'")
    entropy = entry.get("entropy")
    if entropy is not None and (not isinstance(entropy, (int, float)) or isinstance(entropy, bool)):
        raise RuleError(f"{where}: entropy must be a number (bits per character)")
    rulesets = _strings(entry.get("rulesets", []), where, "rulesets")
    bad = [name for name in rulesets if not RULESET_NAME.fullmatch(name)]
    if bad:
        raise RuleError(f"{where}: ruleset name {bad[0]!r} must be lowercase letters, digits, '-' or '_'")
    for name in ("generic", "multiline", "precise"):
        if name in entry and not isinstance(entry[name], bool):
            raise RuleError(f"{where}: {name} must be true or false")
    min_length = entry.get("min_length", 0)
    if not isinstance(min_length, int) or isinstance(min_length, bool) or min_length < 0:
        raise RuleError(f"{where}: min_length must be a whole number >= 0")
    for name in ("validator", "path", "exposure"):
        if name in entry and not isinstance(entry[name], str):
            raise RuleError(f"{where}: {name} must be a string")
    return Rule(
        id=rule_id,
        name=_string(entry["name"], where, "name"),
        description=_string(entry["description"], where, "description"),
        pattern=_string(entry["pattern"], where, "pattern"),
        keywords=tuple(k.lower() for k in keywords),
        severity=entry["severity"],
        confidence=entry["confidence"],
        provider=_string(entry.get("provider", default_provider), where, "provider"),
        origin=origin,
        entropy=float(entropy) if entropy is not None else None,
        validator=entry.get("validator"),
        path=entry.get("path"),
        generic=bool(entry.get("generic", False)),
        min_length=min_length,
        tags=_strings(entry.get("tags", []), where, "tags"),
        references=_strings(entry.get("references", []), where, "references"),
        examples=_examples(entry.get("examples", []), where, "examples"),
        negative_examples=_examples(entry.get("negative_examples", []), where, "negative_examples"),
        allow=RuleAllow(
            stopwords=tuple(s.lower() for s in _strings(allow.get("stopwords", []), where, "allow.stopwords")),
            regexes=_strings(allow.get("regexes", []), where, "allow.regexes"),
        ),
        verify=parse_verify_spec(entry.get("verify"), where),
        exposure=entry.get("exposure"),
        multiline=bool(entry.get("multiline", False)),
        family=family,
        rulesets=rulesets,
        precise=bool(entry.get("precise", True)),
    )


def _string(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where}: {name} must be a non-empty string")
    return value


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{where}: {name} must be a list of non-empty strings")
    return tuple(value)


def _examples(value: Any, where: str, name: str) -> tuple[Example, ...]:
    """Strings, or tables `{text, secret, path}`; `{secret}` alone is an example that is all secret."""
    if not isinstance(value, list):
        raise RuleError(f"{where}: {name} must be a list")
    examples = []
    for n, item in enumerate(value, 1):
        if isinstance(item, str):
            examples.append(Example(text=item))
            continue
        if not isinstance(item, dict) or set(item) - {"text", "path", "secret"} or not ({"text", "secret"} & set(item)):
            raise RuleError(f"{where}: {name} #{n} must be a string or a table {{text, secret, path}}")
        if not all(isinstance(v, str) and v for v in item.values()):
            raise RuleError(f"{where}: {name} #{n}: text, secret and path must be non-empty strings")
        secret = item.get("secret")
        text = item.get("text", secret)
        examples.append(Example(text=str(text), path=item.get("path", "example.txt"), secret=secret))
    return tuple(examples)
