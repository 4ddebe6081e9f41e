"""The engine: prefilters agree, windowed confirmation finds exactly what a whole-text pass finds,
and overlapping claims resolve to the most specific rule."""

from __future__ import annotations

import random

import pytest

import scanner.engine as engine_module
import scanner.windows as windows_module
from scanner.engine import Candidate, Engine, _candidate, resolve_overlaps
from scanner.windows import CandidateWindows, KeywordWindows, line_window, merge
from scanner.prefilter import HyperscanPrefilter, PythonPrefilter
from scanner.rules import load_rules

RULES = load_rules()
FILLER = [
    "def handle(request):",
    "    value = compute(request.args, limit=10)  # tidy up later",
    "    return {'status': 'ok', 'items': list(value)}",
    "const layout = render(widget, { width: 640, height: 480 });",
    "",
]


def haystack(seed: int) -> str:
    """Every rule example, shuffled among ordinary code lines: well over the windowing threshold."""
    rng = random.Random(seed)
    pieces = [example.text for rule in RULES for example in rule.examples if example.path == "example.txt"]
    rng.shuffle(pieces)
    lines = []
    for piece in pieces:
        lines.extend(rng.choice(FILLER) for _ in range(rng.randint(0, 6)))
        lines.append(piece)
    return "\n".join(lines)


def spans(candidates) -> list[tuple[str, int, int]]:
    return [(c.rule.id, c.start, c.end) for c in candidates]


def every_rule_over_the_whole_text(text: str, path: str) -> list[Candidate]:
    """The reference: every rule's regex over every byte, no prefilter, no windows."""
    rules = [rule for rule in RULES if rule.applies_to(path)]
    found = [c for rule in rules for m in rule.regex.finditer(text) if (c := _candidate(rule, m, False))]
    return resolve_overlaps(found)


@pytest.mark.slow  # a whole-text or recompiling pass: minutes in the edit-test loop
@pytest.mark.parametrize(("seed", "accent"), [(1, ""), (2, ""), (3, "# café, naïve, Ünïcode\n")])
@pytest.mark.parametrize("native", [True, False])
def test_windowed_confirmation_equals_a_whole_text_pass(seed: int, accent: str, native: bool) -> None:
    """ASCII text is confirmed around the ends of the rules' Hyperscan forms; other text (and
    every text without Hyperscan) around keyword hits."""
    text = accent + haystack(seed)
    assert len(text) > engine_module.WINDOWED_MIN_CHARS
    windowed = Engine(RULES, native=native).find(text, "example.txt")
    whole = every_rule_over_the_whole_text(text, "example.txt")
    assert len(whole) > 200
    assert spans(windowed) == spans(whole)


@pytest.mark.slow  # a whole-text or recompiling pass: minutes in the edit-test loop
def test_non_ascii_text_and_values_are_confirmed_like_ascii() -> None:
    """Non-ASCII characters reach Hyperscan as one stand-in byte: values made of them, names
    next to them and CJK lines around them must be found as a whole-text pass finds them."""
    rng = random.Random(5)
    lines = [
        'password = "Zäöü8kqP3mX-vé"',
        "DB_PASSWORD='pässwörd-Zx81kqRt'",
        "api_key: 鍵Zx81kqRt9sPq2Lm",
        'client = Client(api_key="ключ-Zx81kqRt9sPq2Lmn")',
        "postgres://admin:Zx81kq·Rt9s@db.internal:5432/app",
        'Authorization: Bearer Zx81kqRt9sPq2LmnÅ',
        "コメント: 設定ファイル token=Zx81kqRt9sPq2Lmn7Bv",
    ]
    filler = ["# 日本語のコメント、ここには鍵はない", "x = 'naïve café' if ok else None", ""]
    text = "\n".join(rng.choice(filler) if i % 3 else rng.choice(lines) for i in range(900)) + "\n" + haystack(6)
    assert not text.isascii() and len(text) > engine_module.WINDOWED_MIN_CHARS
    whole = every_rule_over_the_whole_text(text, "settings.py")
    assert len(whole) > 200
    assert spans(Engine(RULES).find(text, "settings.py")) == spans(whole)
    for line in lines:  # small chunks take the candidate path too
        assert spans(Engine(RULES).find(line, "settings.py")) == spans(every_rule_over_the_whole_text(line, "settings.py"))


@pytest.mark.slow  # a whole-text or recompiling pass: minutes in the edit-test loop
@pytest.mark.parametrize("seed", [11, 12])
def test_windowed_confirmation_on_one_minified_line_equals_a_whole_text_pass(seed: int) -> None:
    """Every single-line example on one long line, between minified code: windows start and end
    mid-line there, bounded by their reach."""
    rng = random.Random(seed)
    pieces = [e.text for r in RULES for e in r.examples if e.path == "example.txt" and "\n" not in e.text]
    rng.shuffle(pieces)
    code = ['var a=b(c,{d:1});', 'function e(f){return f.g+"h"}', 'i.j=k?l:m;', 'n=o.p(q,"r s t");']
    text = ";".join(piece + ";" + "".join(rng.choice(code) for _ in range(rng.randint(0, 40))) for piece in pieces)
    assert "\n" not in text and len(text) > 100_000
    whole = every_rule_over_the_whole_text(text, "example.txt")
    assert len(whole) > 150
    assert spans(Engine(RULES).find(text, "example.txt")) == spans(whole)


@pytest.mark.slow  # a whole-text or recompiling pass: minutes in the edit-test loop
def test_a_chunk_dense_with_candidates_falls_back_to_keyword_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    text = haystack(4)
    engine = Engine(RULES)
    assert engine.candidate_ends(text) is not None
    monkeypatch.setattr(engine_module, "CANDIDATE_LIMIT", -len(text))  # every chunk is too dense now
    assert engine.candidate_ends(text) is None
    assert spans(engine.find(text, "example.txt")) == spans(every_rule_over_the_whole_text(text, "example.txt"))


def test_a_long_value_on_a_minified_line_is_found_whole() -> None:
    """The form reports a place early in the value (its run is cut short); the window must still
    reach the value's end along a line with no line breaks."""
    rng = random.Random(7)
    value = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(1000))
    filler = "var a=1;" * 2000
    text = f'{filler}fetch(u,{{headers:{{Authorization:"Bearer {value}"}}}});{filler}'
    found = Engine(RULES).find(text, "app.min.js")
    assert [c.secret for c in found] == [value]
    assert spans(found) == spans(every_rule_over_the_whole_text(text, "app.min.js"))


def test_small_chunks_run_only_the_rules_with_candidates() -> None:
    engine = Engine(RULES)
    ends = engine.candidate_ends('if token is None or not api_key: raise MissingSecret(password_hint)')
    assert ends == {}
    key = "sk_live_" + "u8jzPde0IgxLd6GncfBAepfJ"
    ends = engine.candidate_ends(f'STRIPE_KEY = "{key}"')
    assert ends is not None and "stripe.secret-key" in {RULES[i].id for i in ends}


def test_hyperscan_and_python_prefilters_agree() -> None:
    keywords = sorted({k for rule in RULES for k in rule.keywords})
    text = haystack(3)
    assert HyperscanPrefilter(keywords).hits(text) == PythonPrefilter(keywords).hits(text)
    assert HyperscanPrefilter(keywords).hits("nothing to see") == PythonPrefilter(keywords).hits("nothing to see")


def test_hyperscan_database_is_cached_on_disk(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    HyperscanPrefilter(["alpha_", "beta_"])
    cached = list((tmp_path / "keysweep").glob("prefilter-*.hsdb"))
    assert len(cached) == 1
    assert HyperscanPrefilter(["alpha_", "beta_"]).hits("x BETA_ y") == {1}


def test_line_window_takes_one_line_either_side_within_reach() -> None:
    text = "one\ntwo\nthree key four\nfive\nsix"
    start = text.index("key")
    assert text[slice(*line_window(text, start, start + 3))] == "two\nthree key four\nfive"
    long_line = "x" * 10_000 + "key" + "y" * 10_000
    a, b = line_window(long_line, 10_000, 10_003)
    assert (a, b) == (10_000 - windows_module.REACH_BEFORE, 10_003 + windows_module.REACH_AFTER)


def test_merge_joins_overlapping_and_touching_spans() -> None:
    assert merge([(5, 9), (0, 3), (3, 4), (8, 12), (20, 21)]) == [(0, 4), (5, 12), (20, 21)]


def test_specific_rule_wins_over_generic_on_the_same_secret() -> None:
    key = "sk_live_" + "u8jzPde0IgxLd6GncfBAepfJ"
    found = Engine(RULES).find(f'headers = {{"Authorization": "Bearer {key}"}}', "app.py")
    assert [c.rule.id for c in found] == ["stripe.secret-key"]


def test_inline_allow_is_looked_for_near_the_match_on_a_minified_line() -> None:
    from scanner.chunk import Chunk
    from scanner.config import Config
    from scanner.pipeline import Scanner

    key = "sk_live_" + "u8jzPde0IgxLd6GncfBAepfJ"
    scanner = Scanner(engine=Engine(RULES), config=Config(), keep_suppressed=True)
    filler = "var a=1;" * 1000
    near = scanner.scan(Chunk(text=f'{filler}var k="{key}";/* keysweep:allow */{filler}', path="app.min.js"))
    far = scanner.scan(Chunk(text=f'{filler}var k="{key}";{filler}/* keysweep:allow */', path="app.min.js"))
    assert [f.suppressed for f in near] == ["inline 'keysweep:allow' comment"]
    assert [f.suppressed for f in far] == [None]


@pytest.mark.parametrize("rule", [r for r in RULES if r.spans_lines], ids=lambda r: r.id)
def test_multiline_rules_in_wide_windows_find_what_a_whole_text_pass_finds(rule, monkeypatch) -> None:
    """Each multi-line example deep inside a large chunk, so it gets wide windows, not the whole text."""
    filler = "\n".join(FILLER * 2000)
    engine = Engine(RULES)
    for example in rule.examples:
        text = f"{filler}\n{example.text}\n{filler}"
        assert KeywordWindows(text).rule_spans(rule) is not None  # really windowed
        ends = engine.candidate_ends(text)
        assert ends is not None
        assert CandidateWindows(text, ends, RULES).rule_spans(rule) is not None
        windowed = spans(engine.find(text, example.path))
        monkeypatch.setattr(engine_module, "WINDOWED_MIN_CHARS", 10**12)
        whole = spans(engine.find(text, example.path))
        monkeypatch.undo()
        assert windowed == whole and rule.id in [s[0] for s in whole]


@pytest.mark.slow  # a whole-text or recompiling pass: minutes in the edit-test loop
def test_without_a_writable_cache_only_a_big_scan_compiles(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only home must not cost every small scan (a pre-commit hook) a ~0.7 s compile."""
    import scanner.candidates as candidates_module

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_dir))  # the cache cannot be created
    text = haystack(8)
    threshold = len(text) * 5 // 2  # the third pass over the text crosses it
    monkeypatch.setattr(candidates_module, "COMPILE_AFTER_CHARS", threshold)
    monkeypatch.setattr(engine_module, "COMPILE_AFTER_CHARS", threshold)
    engine = Engine(RULES)
    whole = spans(every_rule_over_the_whole_text(text, "example.txt"))
    assert spans(engine.find(text, "example.txt")) == whole
    assert not engine.compiled and engine.counters.keyword_chunks == 1  # keyword windows so far
    assert spans(engine.find(text, "example.txt")) == whole
    assert spans(engine.find(text, "example.txt")) == whole
    assert engine.compiled and engine.counters.candidate_chunks == 1  # the scan grew past the threshold: compiled
