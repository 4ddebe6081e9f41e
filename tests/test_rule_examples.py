"""Every rule proves itself: each example yields exactly its finding and the secret it names, each
negative none of it, run through the whole engine and filters with every rule loaded, as in a real
scan. One test per rule (its failures listed together) keeps the fast tier fast with 600+ rules."""

from __future__ import annotations

import dataclasses

import pytest

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.pipeline import Scanner
from scanner.rule_check import check_rules
from scanner.rules import Rule, load_rules

RULES = load_rules()
SCANNER = Scanner(engine=Engine(RULES), config=Config())


def problems_of(rule: Rule) -> list[str]:
    problems = []
    for n, example in enumerate(rule.examples, 1):
        found = SCANNER.scan(Chunk(text=example.text, path=example.path))
        got = [(f.rule_id, f.secret) for f in found]
        if got != [(rule.id, example.secret)]:
            problems.append(f"example {n}: expected [({rule.id!r}, {example.secret!r})], got {got}")
    for n, example in enumerate(rule.negative_examples, 1):
        found = SCANNER.scan(Chunk(text=example.text, path=example.path))
        if rule.id in [f.rule_id for f in found]:
            problems.append(f"negative example {n} yields a finding")
    return problems


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_examples_yield_exactly_their_secret_and_negatives_nothing(rule: Rule) -> None:
    assert rule.examples and rule.negative_examples
    assert problems_of(rule) == []


def test_an_example_that_yields_another_secret_is_a_problem() -> None:
    rule = next(r for r in RULES if r.id == "stripe.secret-key")
    wrong = dataclasses.replace(rule.examples[0], secret="sk_live_not_this_one")
    assert problems_of(dataclasses.replace(rule, examples=(wrong,))) != []


@pytest.mark.slow
def test_builtin_rules_pass_the_linter() -> None:
    problems, count = check_rules()
    assert problems == []
    assert count == len(RULES)
