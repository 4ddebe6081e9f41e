"""Parsed rule files are cached as JSON; an edited file or a broken cache never serves stale rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

from scanner.cache import cache_dir
from scanner.rules import builtin_rules_dir, load_rules, rule_files

RULE = """
[[rules]]
id = "cache.token"
name = "n"
description = "d"
pattern = '''\\b(ctk_[a-z0-9]{NUM})\\b'''
keywords = ["ctk_"]
severity = "low"
confidence = "low"
"""


def test_edited_rule_file_is_reparsed(tmp_path: Path) -> None:
    rule_file = tmp_path / "r.toml"
    rule_file.write_text(RULE.replace("NUM", "8"))
    assert load_rules([rule_file], builtin=False)[0].pattern.endswith("{8})\\b")
    assert (cache_dir() / "rule-files.json").exists()
    rule_file.write_text(RULE.replace("NUM", "12"))
    os.utime(rule_file, ns=(1, 1))  # even with an old mtime, the size changed
    assert load_rules([rule_file], builtin=False)[0].pattern.endswith("{12})\\b")


def test_broken_cache_is_ignored(tmp_path: Path) -> None:
    rule_file = tmp_path / "r.toml"
    rule_file.write_text(RULE.replace("NUM", "8"))
    cache = cache_dir() / "rule-files.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{not json")
    assert load_rules([rule_file], builtin=False)[0].id == "cache.token"
    assert len(load_rules()) > 120


def test_files_that_are_gone_leave_the_cache(tmp_path: Path) -> None:
    """A cache of every rule file ever seen grew without bound (1.3 MB, 19 ms to decode per run)."""
    for n in range(80):  # rule files from temporary checkouts, each deleted after its run
        rule_file = tmp_path / f"gone{n}.toml"
        rule_file.write_text(RULE.replace("NUM", "8").replace("cache.token", f"cache.token{n}"))
        load_rules([rule_file], builtin=False)
        rule_file.unlink()
    entries = json.loads((cache_dir() / "rule-files.json").read_text())
    assert 0 < len(entries) <= 2 * 1 + 16 + 1  # pruned whenever it held far more than a run reads
    load_rules()
    builtin = {str(p.resolve()) for p in rule_files(builtin_rules_dir())}
    entries = json.loads((cache_dir() / "rule-files.json").read_text())
    assert builtin <= set(entries) and len(entries) <= 2 * len(builtin) + 16
