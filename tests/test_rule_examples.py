"""Every rule proves itself: each example yields exactly its finding, each negative none of it,
run through the whole engine and filters with every rule loaded, as in a real scan."""

from __future__ import annotations

import pytest

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.pipeline import Scanner
from scanner.rule_check import check_rules
from scanner.rules import load_rules

RULES = load_rules()
SCANNER = Scanner(engine=Engine(RULES), config=Config())
EXAMPLES = [pytest.param(rule, n, ex, id=f"{rule.id}#{n}") for rule in RULES for n, ex in enumerate(rule.examples, 1)]
NEGATIVES = [
    pytest.param(rule, n, ex, id=f"{rule.id}#neg{n}") for rule in RULES for n, ex in enumerate(rule.negative_examples, 1)
]


@pytest.mark.parametrize(("rule", "n", "example"), EXAMPLES)
def test_example_yields_exactly_its_finding(rule, n, example) -> None:
    found = SCANNER.scan(Chunk(text=example.text, path=example.path))
    assert [f.rule_id for f in found] == [rule.id]
    assert found[0].secret == example.secret


@pytest.mark.parametrize(("rule", "n", "example"), NEGATIVES)
def test_negative_example_yields_none_of_it(rule, n, example) -> None:
    found = SCANNER.scan(Chunk(text=example.text, path=example.path))
    assert rule.id not in [f.rule_id for f in found]


@pytest.mark.slow
def test_builtin_rules_pass_the_linter() -> None:
    problems, count = check_rules()
    assert problems == []
    assert count == len(RULES)
