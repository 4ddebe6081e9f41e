"""The rule linter behind `keysweep rules check`: every rule must prove itself on its own examples."""

from __future__ import annotations

import time
from pathlib import Path

import regex

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.errors import RuleError
from scanner.pipeline import Scanner
from scanner.rules import Rule, builtin_rules_dir, load_rule_file, rule_files
from scanner.validators import VALIDATORS

REDOS_BOUND_S = 1.5  # per pathological input of 256 KB; linear patterns take a few milliseconds


def check_rules(path: Path | None = None, *, redos: bool = True) -> tuple[list[str], int]:
    """All problems found (one line each) and the number of rules looked at."""
    problems: list[str] = []
    rules: list[Rule] = []
    for file in rule_files(path or builtin_rules_dir()):
        try:
            rules.extend(load_rule_file(file))
        except RuleError as exc:
            problems.append(str(exc))
    problems.extend(duplicate_ids(rules))
    shaped = []
    for rule in rules:
        found = shape_problems(rule)
        problems.extend(found)
        if not found:
            shaped.append(rule)
    problems.extend(example_problems(shaped))
    if redos:
        problems.extend(p for rule in shaped if (p := redos_problem(rule)))
    return problems, len(rules)


def duplicate_ids(rules: list[Rule]) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for rule in rules:
        if rule.id in seen:
            problems.append(f"{rule.origin}: rule '{rule.id}': duplicate id (also in {seen[rule.id]})")
        seen.setdefault(rule.id, rule.origin)
    return problems


def shape_problems(rule: Rule) -> list[str]:
    where = f"{rule.origin}: rule '{rule.id}'"
    problems = []
    try:
        compiled = regex.compile(rule.pattern)
    except regex.error as exc:
        return [f"{where}: pattern does not compile: {exc}"]
    if compiled.groups != 1:
        problems.append(f"{where}: pattern has {compiled.groups} groups, expected 1 (the secret); use (?:...) for others")
    if rule.path:
        try:
            regex.compile(rule.path)
        except regex.error as exc:
            problems.append(f"{where}: path regex does not compile: {exc}")
    for pattern in rule.allow.regexes:
        try:
            regex.compile(pattern)
        except regex.error as exc:
            problems.append(f"{where}: allow regex {pattern!r} does not compile: {exc}")
    if rule.validator and rule.validator not in VALIDATORS:
        problems.append(f"{where}: unknown validator '{rule.validator}'; known: {', '.join(sorted(VALIDATORS))}")
    if not rule.examples:
        problems.append(f"{where}: needs at least one example")
    if not rule.negative_examples:
        problems.append(f"{where}: needs at least one negative example")
    for n, example in enumerate(rule.examples, 1):
        if not any(k in example.text.lower() for k in rule.keywords):
            problems.append(f"{where}: example {n} contains none of the keywords {list(rule.keywords)}")
        if example.secret is None:
            problems.append(f"{where}: example {n} must name its secret: {{ text = '...', secret = '...' }}")
        elif example.secret not in example.text:
            problems.append(f"{where}: example {n}: its secret does not occur in its text")
    return problems


def example_problems(rules: list[Rule], scanner: Scanner | None = None) -> list[str]:
    """Run each example through the whole engine and filters, with every rule loaded as in a real scan."""
    scanner = scanner or Scanner(engine=Engine(rules, native=False), config=Config())
    problems = []
    for rule in rules:
        where = f"{rule.origin}: rule '{rule.id}'"
        for n, example in enumerate(rule.examples, 1):
            found = scanner.scan(Chunk(text=example.text, path=example.path))
            ids = [f.rule_id for f in found]
            if ids != [rule.id]:
                problems.append(f"{where}: example {n} should yield exactly one '{rule.id}' finding, got {ids or 'none'}")
            elif example.secret is not None and found[0].secret != example.secret:
                problems.append(f"{where}: example {n}: the secret group captured {found[0].secret[:40]!r}, "
                                f"expected {example.secret[:40]!r}")
        for n, example in enumerate(rule.negative_examples, 1):
            found = scanner.scan(Chunk(text=example.text, path=example.path))
            if any(f.rule_id == rule.id for f in found):
                problems.append(f"{where}: negative example {n} yields a finding")
    return problems


def pathological_inputs(rule: Rule, size: int) -> list[str]:
    keyword = rule.keywords[0]
    upper = keyword.upper()
    return [
        (f"{keyword} = '" + "a1" * 40 + " ")[:size] * (size // (len(keyword) + 85) + 1),
        keyword + " " * size,
        keyword + "A" * size,
        (keyword + "_") * (size // (len(keyword) + 1)),
        keyword * (size // len(keyword)) + "!",
        upper + "_" * size,  # an upper-case name and a run of separators (`BUNDLE_____…`)
        (upper + "=" + "x" * 30 + "\n") * (size // (len(upper) + 32)),
    ]


def redos_problem(rule: Rule) -> str | None:
    """A pattern that backtracks badly on crafted input would stall every scan it runs in.

    Each pathological input is timed at two sizes: a linear pattern takes about four times as long
    on four times the text, a super-linear one far longer. Judging the growth rather than an absolute
    time keeps the check steady on a busy machine; an absolute bound still catches a pattern that is
    merely very slow."""
    compiled = regex.compile(rule.pattern)
    for small, large in zip(pathological_inputs(rule, REDOS_SMALL_CHARS), pathological_inputs(rule, REDOS_LARGE_CHARS)):
        try:
            short, long = _seconds(compiled, small), _seconds(compiled, large)
            if _too_slow(short, long):  # one slow timing may be the machine: the best of three decides
                short, long = (min(_seconds(compiled, text) for _ in range(3)) for text in (small, large))
        except TimeoutError:
            return f"{rule.origin}: rule '{rule.id}': pattern takes over {REDOS_BOUND_S} s on a pathological input"
        if _too_slow(short, long):
            return (f"{rule.origin}: rule '{rule.id}': pattern is super-linear on a pathological input "
                    f"({short:.3f} s on {len(small) // 1024} KB, {long:.3f} s on {len(large) // 1024} KB)")
    return None


def _too_slow(short: float, long: float) -> bool:
    return long > REDOS_BOUND_S or (long > REDOS_NOTICEABLE_S and long > REDOS_GROWTH * max(short, REDOS_CLOCK_S))


def _seconds(compiled: regex.Pattern[str], text: str) -> float:
    started = time.perf_counter()
    for _ in compiled.finditer(text, timeout=REDOS_BOUND_S):
        pass
    return time.perf_counter() - started


REDOS_SMALL_CHARS = 64 * 1024
REDOS_LARGE_CHARS = 256 * 1024  # four times as much: a linear pattern takes ~4x as long
REDOS_GROWTH = 12  # 4x the text in more than 12x the time: quadratic or worse
REDOS_NOTICEABLE_S = 0.05  # below this, timings are noise
REDOS_CLOCK_S = 0.002
