"""Parsed rule sets are cached (one marshal file per set of rule files); an edited file or a broken
cache never serves stale rules, and a lean set (no examples) scans exactly like the full one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.cache import cache_dir
from scanner.rules import load_rules, with_examples

RULE = """
[[rules]]
id = "cache.token"
name = "n"
description = "d"
pattern = '''\\b(ctk_[a-z0-9]{NUM})\\b'''
keywords = ["ctk_"]
severity = "low"
confidence = "low"
examples = [{ text = "t = ctk_a1b2c3d4e5f6a7b8c9d0", secret = "ctk_a1b2c3d4" }]
"""


def cached_sets() -> list[Path]:
    return sorted(cache_dir().glob("rules-*.marshal"))


def test_edited_rule_file_is_reparsed(tmp_path: Path) -> None:
    rule_file = tmp_path / "r.toml"
    rule_file.write_text(RULE.replace("NUM", "8"))
    assert load_rules([rule_file], builtin=False)[0].pattern.endswith("{8})\\b")
    assert cached_sets()
    rule_file.write_text(RULE.replace("NUM", "12"))
    os.utime(rule_file, ns=(1, 1))  # even with an old mtime, the size changed
    assert load_rules([rule_file], builtin=False)[0].pattern.endswith("{12})\\b")
    rule_file.write_text(RULE.replace("NUM", "13"))  # same size, new mtime
    assert load_rules([rule_file], builtin=False)[0].pattern.endswith("{13})\\b")


@pytest.mark.slow
def test_broken_cache_is_ignored(tmp_path: Path) -> None:
    rule_file = tmp_path / "r.toml"
    rule_file.write_text(RULE.replace("NUM", "8"))
    load_rules([rule_file], builtin=False)
    for path in cached_sets():
        path.write_bytes(b"\x00not marshal")
    assert load_rules([rule_file], builtin=False)[0].id == "cache.token"
    assert len(load_rules(lean=True)) > 500


@pytest.mark.slow
def test_lean_rules_scan_like_full_ones() -> None:
    full, lean = load_rules(), load_rules(lean=True)
    assert [r.id for r in full] == [r.id for r in lean]
    assert all(not r.examples and not r.negative_examples for r in lean)
    assert [r.spans_lines for r in full] == [r.spans_lines for r in lean]
    assert [r.examples_digest for r in full] == [r.examples_digest for r in lean]
    assert load_rules(lean=True)[0] == lean[0]  # the second load comes from the cache, unchanged
    restored = with_examples(lean)
    assert [r.examples for r in restored] == [r.examples for r in full]


def test_the_cache_keeps_a_few_sets(tmp_path: Path) -> None:
    for n in range(12):  # rule files from temporary checkouts
        rule_file = tmp_path / f"r{n}.toml"
        rule_file.write_text(RULE.replace("NUM", "8").replace("cache.token", f"cache.token{n}"))
        load_rules([rule_file], builtin=False)
    assert len(cached_sets()) <= 8
