"""Hyperscan forms of the rules: wherever a rule's regex matches, its form reports a place inside
that match (or the rule is left to keyword windows)."""

from __future__ import annotations

import pytest

from scanner.candidates import CandidateFinder
from scanner.engine import Engine
from scanner.hsform import Unsupported, hyperscan_form, match_reach
from scanner.rules import Rule, load_rules, parse_rule

RULES = load_rules()


@pytest.fixture(scope="module")
def finder() -> CandidateFinder:
    return CandidateFinder(RULES)


def test_every_builtin_rule_has_a_form(finder: CandidateFinder) -> None:
    assert finder.covered == frozenset(range(len(RULES)))


@pytest.mark.parametrize("index", range(len(RULES)), ids=[r.id for r in RULES])
def test_each_example_match_holds_a_reported_place(finder: CandidateFinder, index: int) -> None:
    rule = RULES[index]
    for example in rule.examples:
        text = example.text
        if not text.isascii():
            continue
        ends = finder.ends(text.encode("ascii"), limit=10**6).get(index, [])
        for match in rule.regex.finditer(text):
            assert any(match.start() <= end <= match.end() for end in ends), (rule.id, text)


def test_look_behind_first_patterns_keep_the_name_they_look_behind_for() -> None:
    form = hyperscan_form(r"""["'](?<=(?i:api_key)\s{0,3}=\s{0,3}["'])([A-Za-z0-9]{16,64})["']""")
    assert form.startswith("(?:(?i:api_key)")
    assert "{16,16}" not in form and form.endswith("[\\x22\\x27]")


def test_an_open_run_at_the_end_is_cut_to_its_minimum() -> None:
    assert hyperscan_form(r"tok_[a-z]{8,}(?![a-z])") == "tok_(?:[a-z]){8,8}"
    assert hyperscan_form(r"tok_(?:[a-z]{8,}|[0-9]{20,40})$") == "tok_(?:(?:[a-z]){8,8}|(?:[0-9]){20,20})"


def test_match_reach_bounds_a_match_around_its_place() -> None:
    # Closed by a quote: the place is the match's end, so nothing of it lies after the place.
    assert match_reach(r"""["'](?<=key=["'])([a-z0-9]{8,40})["']""") == (42, 0)
    # A cut run: the place may be anywhere inside, so the match may go on as far after it.
    assert match_reach(r"tok_([a-z0-9]{8,40})") == (44, 44)
    assert match_reach(r"tok_([a-z0-9]+)") is None  # unbounded: the windows' default reach


def test_a_repeated_group_keeps_its_rounds_whole() -> None:
    """(?:ab?c){2} cut to (?:a){2} would not match the start of "abcabc"."""
    assert hyperscan_form(r"id_(?:ab?c){2,}") == "id_(?:a(?:b){0,1}c){2,2}"
    assert hyperscan_form(r"id_(?:ab?)+") == "id_(?:a){1,1}"  # one round: its own tail goes too


@pytest.mark.parametrize("pattern", [r"(kst_[a-z]{8})/\1", r"kst_[[:alnum:]]{8}", r"kst_\p{L}{8}", "kst_é[a-z]{8}"])
def test_what_the_re_parser_reads_differently_has_no_form(pattern: str) -> None:
    with pytest.raises(Unsupported):
        hyperscan_form(pattern)


def test_a_rule_with_a_back_reference_keeps_keyword_windows() -> None:
    pattern = r"(kst_[a-z0-9]{8})/\1"  # the same token twice, as in a "from/to" rotation log
    with pytest.raises(Unsupported):
        hyperscan_form(pattern)
    rule = custom_rule(pattern)
    engine = Engine([*RULES, rule])
    assert engine.candidates is not None and len(RULES) not in engine.candidates.covered
    filler = "x = compute(1)\n" * 400  # a large chunk, so windows are used
    found = engine.find(f"{filler}rotated kst_ab12cd34/kst_ab12cd34\n{filler}", "app.log")
    assert [c.secret for c in found if c.rule is rule] == ["kst_ab12cd34"]


def custom_rule(pattern: str) -> Rule:
    return parse_rule(
        {
            "id": "custom.quoted", "name": "Quoted kst token", "description": "A demo token in quotes.",
            "pattern": pattern, "keywords": ["kst_"], "severity": "high", "confidence": "high",
            "examples": ["kst_ab12cd34/kst_ab12cd34"], "negative_examples": ["kst_ab12cd34/kst_zz12cd34"],
        },
        origin="test", default_provider="custom",
    )


def test_a_form_that_misses_its_rules_examples_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples double as a check on the form: a wrong one leaves the rule to keyword windows."""
    import scanner.candidates as candidates_module

    rule = custom_rule(r"(kst_[a-z0-9]{8})/kst")
    real_form = candidates_module.hyperscan_form
    monkeypatch.setattr(candidates_module, "hyperscan_form", lambda p: "zzz_never" if p == rule.pattern else real_form(p))
    assert CandidateFinder([rule]).covered == frozenset()
    assert CandidateFinder([custom_rule(r"(kst_[a-z0-9]{8})/kst"), RULES[0]]).covered == {1}
    filler = "x = compute(1)\n" * 400
    engine = Engine([*RULES, rule])
    found = engine.find(f"{filler}rotated kst_ab12cd34/kst\n{filler}", "app.log")
    assert [c.secret for c in found if c.rule is rule] == ["kst_ab12cd34"]


@pytest.mark.slow
def test_a_corrupt_cached_database_is_rebuilt() -> None:
    from scanner.cache import cache_dir

    rules = [rule for rule in RULES if rule.id.startswith(("generic.", "stripe."))]
    before = set(cache_dir().glob("candidates-*"))
    CandidateFinder(rules)
    cached_files = set(cache_dir().glob("candidates-*")) - before
    assert len(cached_files) == 2  # the database and the list of rules it covers
    for cached in cached_files:
        cached.write_bytes(b"\x00garbage")
    finder = CandidateFinder(rules)
    assert finder.covered == frozenset(range(len(rules)))
    assert finder.ends(b'api_key = "Zx81kqRt9sPq2Lmn"', limit=100)
    assert all(cached.read_bytes() != b"\x00garbage" for cached in cached_files)  # written afresh


def test_the_cache_keeps_only_the_recently_used_databases() -> None:
    import os

    from scanner.cache import KEEP_DATABASES, cache_dir

    for n in range(KEEP_DATABASES + 3):  # databases of rule sets used long ago
        stale = cache_dir() / f"candidates-old{n}.hsdb"
        stale.write_bytes(b"x")
        stale.with_suffix(".json").write_text("{}")
        os.utime(stale, (n, n))
    CandidateFinder([custom_rule(r"(kst_[a-z0-9]{8})/kst")])  # a new rule set: compiled, then pruned
    kept = sorted(p.name for p in cache_dir().glob("candidates-*.hsdb"))
    assert len(kept) == KEEP_DATABASES
    assert "candidates-old0.hsdb" not in kept and f"candidates-old{KEEP_DATABASES + 2}.hsdb" in kept
    assert not (cache_dir() / "candidates-old0.json").exists()


def test_a_read_only_cache_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache baked into an image or mounted read-only: its databases load, nothing recompiles."""
    import os

    CandidateFinder(RULES)  # cached

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("read-only file system")

    def no_compile(*args: object) -> None:
        raise AssertionError("recompiled a cached database")

    monkeypatch.setattr(os, "utime", refuse)
    monkeypatch.setattr(CandidateFinder, "_compile", no_compile)
    assert CandidateFinder(RULES).covered == frozenset(range(len(RULES)))


def test_forms_read_one_byte_per_character_and_other_for_non_ascii() -> None:
    from scanner.candidates import as_form_bytes
    from scanner.hsform import OTHER

    other = OTHER.encode()
    cases = {
        "key = abc": b"key = abc",
        "clé?": b"cl" + other + b"?",  # a literal "?" stays one
        "?日本語?": b"?" + other * 3 + b"?",
        "😀x": other + b"x",  # one character outside the BMP: one byte
        "\udcff": other,  # a lone surrogate (undecodable input)
        "": b"",
    }
    for text, form in cases.items():
        assert as_form_bytes(text) == form, text


def test_a_subset_of_the_library_compiles_only_the_rules_of_its_own(tmp_path) -> None:
    """Disabling a rule or adding one of your own must not recompile ~950 built-in forms (~3 s):
    the library's database serves the built-in rules, a small one the rest."""
    from scanner.cache import cache_dir
    from scanner.candidates import RuleSubset

    own = custom_rule(r"(kst_[a-z0-9]{8})/kst")
    rules = [rule for rule in RULES if rule.id != "stripe.secret-key"] + [own]
    before = set(cache_dir().glob("candidates-*.hsdb"))
    engine = Engine(rules)
    assert isinstance(engine.candidates, RuleSubset)
    assert len(set(cache_dir().glob("candidates-*.hsdb")) - before) == 1  # the own rule's, nothing else
    assert engine.candidates.covered == frozenset(range(len(rules)))
    filler = "x = compute(1)\n" * 400
    text = f'{filler}STRIPE_KEY = "sk_live_Vq8ZtR2mK5pXw3LcN7bY1dHf"\nrotated kst_ab12cd34/kst\n{filler}'
    found = {(c.rule.id, c.secret) for c in engine.find(text, "app.py")}
    assert ("custom.quoted", "kst_ab12cd34") in found
    assert not any(rule_id == "stripe.secret-key" for rule_id, _ in found)  # disabled

