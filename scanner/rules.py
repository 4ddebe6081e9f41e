"""Load rule files (TOML data in rules/<family>/<provider>.toml), check their shape, and compile
patterns lazily.

A rule file holds `[[rules]]` tables (format v2, docs/rules.md). Patterns use the `regex` module
and must have exactly one capturing group: the secret. Each example names the secret it must
yield. Compilation happens on first use, so a scan that only touches a few rules (the pre-commit
path) compiles only those.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from regex import Pattern

from scanner import rule_cache
from scanner.errors import RuleError
from scanner.verify.spec import VerifySpec, parse_verify_spec

SEVERITIES = ("info", "low", "medium", "high", "critical")
CONFIDENCES = ("low", "medium", "high")
NEGATED_CLASS = r"\[\^(?:\\.|[^\]\\])*\]"
REQUIRED_FIELDS = ("id", "name", "description", "pattern", "keywords", "severity", "confidence")
OPTIONAL_FIELDS = (
    "provider", "entropy", "validator", "tags", "references", "examples", "negative_examples",
    "path", "generic", "allow", "verify", "min_length", "exposure", "multiline", "rulesets", "precise",
)
DEFAULT_RULESET = "default"  # every precise rule: what a scan runs unless --ruleset says otherwise
ALL_RULESET = "all"
RULESET_NAME = r"[a-z0-9][a-z0-9_-]*"
RULE_ID = r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+"


def _regex() -> Any:
    """The `regex` module, imported when a rule is first compiled or checked: a pre-commit run whose
    staged files hold no candidate never needs it (~10 ms of start-up)."""
    import regex

    return regex


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
    examples_digest: str = ""  # of the examples' text: keys the candidate database (lean rules have none)

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
        outside_negations = _regex().sub(NEGATED_CLASS, "", self.pattern)  # [^"\n] keeps a match on one line
        if self.multiline or any(marker in outside_negations for marker in ("(?s", "\\n", "\\r")):
            return True
        return any("\n" in m.group(0) for e in self.examples for m in self.regex.finditer(e.text))

    @functools.cached_property
    def regex(self) -> Pattern[str]:
        # ASCII classes: a key is ASCII, and `\w` or `\s` reaching into Unicode text only finds
        # words (`Bearer Tokenで使用される…` was a "token").
        regex = _regex()
        return regex.compile(self.pattern, flags=regex.ASCII)

    @functools.cached_property
    def path_regex(self) -> Pattern[str] | None:
        return _regex().compile(self.path) if self.path else None

    @functools.cached_property
    def allow_regexes(self) -> tuple[Pattern[str], ...]:
        return tuple(_regex().compile(r) for r in self.allow.regexes)

    def applies_to(self, path: str) -> bool:
        return self.path_regex is None or self.path_regex.search(path) is not None


def builtin_rules_dir() -> Path:
    """rules/ ships inside the wheel as scanner/rules; a source checkout keeps it at the top."""
    here = Path(__file__).resolve().parent
    packaged = here / "rules"
    return packaged if packaged.is_dir() else here.parent / "rules"


def rule_files(path: Path) -> list[Path]:
    if path.is_dir() or path.is_file():
        return rule_cache.listing(path)
    raise RuleError(f"{path}: no such rule file or directory")


def load_rules(extra: list[Path] | tuple[Path, ...] = (), *, builtin: bool = True, lean: bool = False) -> list[Rule]:
    """Load the built-in rules plus any extra files or directories; ids must be unique.

    `lean`: without examples (what a scan needs), read from the rule-set cache (rule_cache.py)."""
    roots = [builtin_rules_dir()] if builtin else []
    files = [(path, family_of(path, root)) for root in [*roots, *map(Path, extra)] for path in rule_files(root)]
    key = rule_cache.set_key(files, lean=lean)
    cached = rule_cache.load_set(key, rule_from_record) if key else None
    if cached is not None:
        return cached
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, family in files:
        for rule in load_rule_file(path, family=family):
            if rule.id in seen:
                raise RuleError(f"{rule.origin}: rule '{rule.id}': duplicate id (also in {seen[rule.id]})")
            seen[rule.id] = rule.origin
            rules.append(rule)
    if lean:
        rules = [lean_rule(rule) for rule in rules]
    if key:
        rule_cache.save_set(key, [rule_record(rule) for rule in rules])
    return rules


def lean_rule(rule: Rule) -> Rule:
    """The rule without its examples, keeping what the scanner derives from them."""
    return dataclasses.replace(rule, examples=(), negative_examples=(), multiline=rule.spans_lines)


def with_examples(rules: list[Rule]) -> list[Rule]:
    """Lean rules with their examples again (the candidate compiler checks forms against them)."""
    if all(rule.examples or not rule.examples_digest for rule in rules):
        return rules
    full: dict[tuple[str, str], Rule] = {}
    for origin in {rule.origin for rule in rules}:
        try:
            full.update(((r.origin, r.id), r) for r in load_rule_file(Path(origin)))
        except RuleError:
            continue  # gone or broken since: that rule keeps what it has
    return [full.get((rule.origin, rule.id), rule) for rule in rules]


def rule_record(rule: Rule) -> tuple[Any, ...]:
    """A rule as plain data for the cache (marshal)."""
    verify = None if rule.verify is None else tuple(getattr(rule.verify, name) for name in VERIFY_FIELDS)
    examples = tuple((e.text, e.path, e.secret) for e in rule.examples)
    negatives = tuple((e.text, e.path, e.secret) for e in rule.negative_examples)
    return tuple(examples if name == "examples" else negatives if name == "negative_examples"
                 else (rule.allow.stopwords, rule.allow.regexes) if name == "allow"
                 else verify if name == "verify" else getattr(rule, name) for name in RULE_FIELDS)


def rule_from_record(record: tuple[Any, ...]) -> Rule:
    values = dict(zip(RULE_FIELDS, record, strict=True))
    values["examples"] = tuple(Example(*e) for e in values["examples"])
    values["negative_examples"] = tuple(Example(*e) for e in values["negative_examples"])
    values["allow"] = RuleAllow(*values["allow"])
    if values["verify"] is not None:
        values["verify"] = VerifySpec(*values["verify"])
    return Rule(**values)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: invalid TOML: {exc}") from None


def family_of(path: Path, root: Path) -> str:
    """`rules/ai/openai.toml` is in family `ai`: the folder below the rules directory, if any."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return ""
    return parts[0] if len(parts) > 1 else ""


def load_rule_file(path: Path, *, family: str = "") -> list[Rule]:
    data = read_toml(path)
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
    if not isinstance(rule_id, str) or not _regex().fullmatch(RULE_ID, rule_id):
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
    bad = [name for name in rulesets if not _regex().fullmatch(RULESET_NAME, name)]
    if bad:
        raise RuleError(f"{where}: ruleset name {bad[0]!r} must be lowercase letters, digits, '-' or '_'")
    for name in ("generic", "multiline", "precise"):
        if name in entry and not isinstance(entry[name], bool):
            raise RuleError(f"{where}: {name} must be true or false")
    examples = _examples(entry.get("examples", []), where, "examples")
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
        examples=examples,
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
        examples_digest=_digest(examples),
    )


def _digest(examples: tuple[Example, ...]) -> str:
    return hashlib.sha256("\0".join(f"{e.path}\1{e.text}" for e in examples).encode("utf-8", "surrogatepass")).hexdigest()[:16]


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


RULE_FIELDS = tuple(field.name for field in dataclasses.fields(Rule))
VERIFY_FIELDS = tuple(field.name for field in dataclasses.fields(VerifySpec))
