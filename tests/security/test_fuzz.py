"""Property-based fuzzing of every reader and every file keysweep parses: whatever the input, no
uncaught exception, bounded time, and no raw secret in any redacted output format.

Each fuzzer runs with a small budget in the normal suite (CI) and with 10,000 examples under
`pytest -m fuzz` (KEYSWEEP_FUZZ_EXAMPLES overrides both). Inputs are generated from scratch and by
mutating valid seeds (flipped, dropped and repeated bytes), with real-shaped keys planted in them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import string
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import Config, parse_config
from scanner.engine import Engine
from scanner.errors import KeysweepError
from scanner.filters.baseline import load_baseline, load_ignores
from scanner.pipeline import Scanner
from scanner.report import ScanStats, build_report
from scanner.reporters import REPORTERS, render
from scanner.revoke.signing import WebhookVerificationError, verify_signature
from scanner.rules import load_rules, parse_rule
from scanner.sources.blob import Blob
from scanner.sources.dispatch import blob_chunks
from scanner.sources.git_blobs import scan_blob

SMALL = int(os.environ.get("KEYSWEEP_FUZZ_EXAMPLES", "40"))
LARGE = int(os.environ.get("KEYSWEEP_FUZZ_EXAMPLES", "10000"))
BUDGETS = [pytest.param(SMALL, id="ci"), pytest.param(LARGE, id="large", marks=[pytest.mark.fuzz, pytest.mark.slow])]
SCANNER = Scanner(engine=Engine(load_rules()), config=Config(max_file_size=1 << 20), keep_suppressed=True)
BASE62 = string.ascii_letters + string.digits


def fuzz(examples: int, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    settings(max_examples=examples, deadline=10_000, database=None, derandomize=examples == SMALL,
             suppress_health_check=list(HealthCheck))(given(strategy)(check))()


# --- what is planted, and how inputs are bent -----------------------------------------------------

keys = st.builds(lambda prefix, body: prefix + body,
                 st.sampled_from(["sk_live_", "ghp_", "xoxb-1234567890-", "AKIA", "glpat-", "rk_live_"]),
                 st.text(BASE62, min_size=20, max_size=40))
noise = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
ascii_noise = st.text(string.printable, max_size=200)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """The seed with a few bytes flipped, cut out, or repeated."""
    def apply(edits: list[tuple[int, int, int]]) -> bytes:
        data = bytearray(seed)
        for kind, where, value in edits:
            if not data:
                break
            at = where % len(data)
            if kind == 0:
                data[at] ^= value or 1
            elif kind == 1:
                del data[at: at + value % 16 + 1]
            else:
                data[at:at] = data[at: at + value % 64 + 1] * (value % 8 + 1)
        return bytes(data)
    return st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 30), st.integers(0, 255)),
                    max_size=8).map(apply)


def read_and_render(name: str, data: bytes) -> None:
    """Read the bytes as a file of that name, scan, render every format redacted: no raw secret."""
    stats = ScanStats()
    blob = Blob(name, None, lambda: io.BytesIO(data), size=len(data))
    findings = [f for chunk in blob_chunks(blob, config=SCANNER.config, stats=stats) for f in SCANNER.scan(chunk, stats)]
    assert_redacted(build_report(SCANNER.engine.rules, findings, stats, 0.0))


def assert_redacted(report: Any) -> None:
    # A word a rule took for a secret in a mangled line ("Authorization" after a fuzzed header) is
    # also in the output as what it is, a header's name: only secrets with more than letters count.
    secrets = {f.secret for f in (*report.findings, *report.suppressed) if len(f.secret) >= 12 and not f.secret.isalpha()}
    for fmt in REPORTERS:
        text = render(report, fmt, redact=True)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{fmt} shows {leaked[0][:10]}…"


# --- the readers -----------------------------------------------------------------------------------

def log_lines(parts: list[tuple[str, str]]) -> bytes:
    lines = []
    for text, key in parts:
        escaped = json.dumps(f"Authorization: Bearer {key} {text}")[1:-1]
        lines.append(f'2024-05-01T12:00:00Z INFO {escaped} q=api_key%3D{key.replace("_", "%5F")}')
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_logs(examples: int) -> None:
    seed = log_lines([("a", "sk_live_" + "Q" * 24)])
    strategy = st.one_of(st.lists(st.tuples(noise, keys), max_size=20).map(log_lines), mutated(seed))
    fuzz(examples, strategy, lambda data: read_and_render("app.log", data))


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_json_lines(examples: int) -> None:
    json_values = st.recursive(st.none() | st.booleans() | st.integers() | noise | keys,
                               lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_noise, inner, max_size=4),
                               max_leaves=12)
    lines = st.lists(st.dictionaries(st.sampled_from(["msg", "level", "token", "headers", "ts"]), json_values,
                                     max_size=5), max_size=10)
    strategy = lines.map(lambda rows: "\n".join(json.dumps(row) for row in rows).encode())
    fuzz(examples, strategy, lambda data: read_and_render("events.jsonl", data))


def har(entries: list[tuple[str, str, str]]) -> bytes:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "f", "version": "1"}, "entries": [
        {"startedDateTime": "2024-01-01T00:00:00Z",
         "request": {"method": "GET", "url": f"https://api.example.test/{path}?key={key}",
                     "headers": [{"name": "Authorization", "value": f"Bearer {key}"}], "queryString": [
                         {"name": "key", "value": key}], "cookies": [{"name": "s", "value": text}],
                     "postData": {"text": text + key}},
         "response": {"status": 200, "headers": [], "content": {"text": text}}}
        for path, key, text in entries]}}).encode()


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_har(examples: int) -> None:
    entries = st.lists(st.tuples(ascii_noise, keys, noise), max_size=6)
    strategy = st.one_of(entries.map(har), mutated(har([("v1/x", "sk_live_" + "Z" * 24, "t")])))
    fuzz(examples, strategy, lambda data: read_and_render("capture.har", data))


def source_map(contents: list[str], mappings: str) -> bytes:
    return json.dumps({"version": 3, "sources": [f"src/f{i}.js" for i in range(len(contents))],
                       "sourcesContent": contents, "mappings": mappings, "names": []}).encode()


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_source_maps(examples: int) -> None:
    mappings = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/,;", max_size=200)
    contents = st.lists(st.builds(lambda t, k: f'{t}\nconst key = "{k}";\n', noise, keys), max_size=4)
    strategy = st.one_of(st.builds(source_map, contents, mappings),
                         mutated(source_map(['const k = "sk_live_' + "W" * 24 + '";'], "AAAA;AACA")))
    fuzz(examples, strategy, lambda data: read_and_render("dist/app.js.map", data))


def bundle(pieces: list[str], key: str, inline_map: bytes) -> bytes:
    padding = ";".join(f"var v{i}=function(a){{return a*{i}}}" for i in range(60))
    body = ";".join(f'var {chr(97 + i % 26)}="{p}"' for i, p in enumerate(pieces))
    return (f'{padding};{body};var k="{key}";NEXT_PUBLIC_KEY="{key}"\n//# sourceMappingURL=data:application/json;'
            f"base64,{base64.b64encode(inline_map).decode()}\n").encode("utf-8", "surrogatepass")


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_bundles(examples: int) -> None:
    maps = st.one_of(st.binary(max_size=100), st.builds(source_map, st.lists(noise, max_size=2), ascii_noise))
    strategy = st.one_of(st.builds(bundle, st.lists(ascii_noise, max_size=8), keys, maps),
                         mutated(bundle(["x"], "sk_live_" + "B" * 24, b"{}")))
    fuzz(examples, strategy, lambda data: read_and_render("dist/app.min.js", data))


def zip_of(members: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate member names are part of the fuzz
        for name, text in members:
            archive.writestr(name or "x", text)
    return buffer.getvalue()


def tar_of(members: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in members:
            data = text.encode("utf-8", "surrogatepass")
            info = tarfile.TarInfo(name or "x")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


member_names = st.sampled_from([".env", "app.log", "config/settings.py", "dist/a.js", "inner.zip", "x.har", "a.gz"])
members = st.lists(st.tuples(member_names, st.builds(lambda t, k: f"{t}\nSTRIPE_KEY={k}\n", noise, keys)), max_size=5)


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_archives(examples: int) -> None:
    seed = [(".env", "STRIPE_KEY=sk_live_" + "A" * 24)]
    strategy = st.one_of(members.map(lambda m: ("a.zip", zip_of(m))), members.map(lambda m: ("a.tar.gz", tar_of(m))),
                         mutated(zip_of(seed)).map(lambda d: ("m.zip", d)),
                         mutated(tar_of(seed)).map(lambda d: ("m.tar.gz", d)))
    fuzz(examples, strategy, lambda pair: read_and_render(*pair))


@pytest.mark.slow
@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_git_blobs(examples: int) -> None:
    names = st.sampled_from(["a.py", ".env", "k8s/secret.yaml", "logs/x.log", "dist/app.js", "x.har", "b.zip",
                             "notes", "c.json", "d.txt.gz", "e.map"])
    contents = st.one_of(st.binary(max_size=2000),
                         st.builds(lambda t, k: f"kind: Secret\ndata:\n  k: {base64.b64encode(k.encode()).decode()}\n{t}"
                                   .encode("utf-8", "surrogatepass"), noise, keys))

    def check(pair: tuple[str, bytes]) -> None:
        stats = ScanStats()
        findings = scan_blob(SCANNER, pair[0], pair[1], stats)
        assert_redacted(build_report(SCANNER.engine.rules, findings, stats, 0.0))

    fuzz(examples, st.tuples(names, contents), check)


# --- the files keysweep parses -----------------------------------------------------------------------

toml_values = st.recursive(st.none().map(lambda _: "x") | st.integers().map(str) | ascii_noise.map(json.dumps)
                           | st.sampled_from(["true", "[]", "{}", '"10MB"', "-3", "1e400"]),
                           lambda inner: st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
                           max_leaves=6)
config_text = st.lists(st.tuples(st.sampled_from(["[scan]", "[rules]", "[[allowlist]]", "[revoke]", "[[revoke.webhooks]]",
                                                  "[verify]", "[bogus]", ""]),
                                 st.sampled_from(["max_file_size", "exclude", "disable", "extra", "rulesets", "paths",
                                                  "regexes", "regex_target", "url", "secret_env", "rate_limit", "x"]),
                                 toml_values), max_size=8)


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_config(examples: int, tmp_path: Path) -> None:
    import tomllib

    def check(entries: list[tuple[str, str, str]]) -> None:
        text = "\n".join(f"{table}\n{key} = {value}" for table, key, value in entries)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return
        for trusted in (True, False):
            try:
                config = parse_config(data, root=tmp_path, source="fuzz.toml", trusted=trusted)
            except KeysweepError:
                continue
            assert trusted or "revoke" not in config.raw

    fuzz(examples, config_text, check)


rule_tables = st.fixed_dictionaries({"id": st.sampled_from(["a.b", "A", "x.y-z", ""]), "name": ascii_noise,
                                     "description": ascii_noise, "pattern": st.sampled_from(["(x)", "((", "(a)(b)", "\\b(k_[a-z]{4})"]) | ascii_noise,
                                     "keywords": st.lists(ascii_noise, max_size=3), "severity": st.sampled_from(["high", "nope"]),
                                     "confidence": st.sampled_from(["low", "x"])},
                                    optional={"examples": st.lists(st.one_of(ascii_noise, st.dictionaries(
                                        st.sampled_from(["text", "secret", "path", "x"]), ascii_noise)), max_size=3),
                                        "verify": st.dictionaries(st.sampled_from(["url", "auth", "header", "method", "headers"]),
                                                                  st.one_of(ascii_noise, st.integers(), st.lists(ascii_noise))),
                                        "entropy": st.one_of(st.floats(), st.booleans(), ascii_noise),
                                        "rulesets": st.lists(ascii_noise), "min_length": st.integers() | ascii_noise})


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_rule_files(examples: int) -> None:
    def check(entry: dict[str, Any]) -> None:
        try:
            parse_rule(entry, origin="fuzz.toml", default_provider="fuzz")
        except KeysweepError:
            pass

    fuzz(examples, rule_tables, check)


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_baselines_and_ignore_files(examples: int, tmp_path: Path) -> None:
    good = json.dumps({"keysweep_baseline": 1, "findings": [{"rule_id": "a.b", "secret_sha256": "0" * 64, "path": "x"}]})
    documents = st.one_of(mutated(good.encode()), st.binary(max_size=300),
                          st.recursive(st.none() | st.integers() | ascii_noise, lambda i: st.lists(i) | st.dictionaries(ascii_noise, i),
                                       max_leaves=10).map(lambda v: json.dumps(v).encode()))
    ignore_lines = st.one_of(mutated(b"stripe.secret-key:" + b"a" * 64 + b":path # why\n"), st.binary(max_size=300))
    path = tmp_path / "accepted"

    def check(pair: tuple[bytes, bytes]) -> None:
        for data, load in zip(pair, (load_baseline, load_ignores)):
            path.write_bytes(data)
            try:
                load(path)
            except KeysweepError:
                pass

    fuzz(examples, st.tuples(documents, ignore_lines), check)


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_webhook_headers(examples: int) -> None:
    values = st.one_of(st.none(), st.integers(), st.binary(max_size=20), noise,
                       st.sampled_from(["1e400", "9" * 400, "²", "١٢٣", " 17 ", "v1,AAAA", ""]))
    headers = st.dictionaries(st.sampled_from(["webhook-id", "Webhook-Timestamp", "webhook-signature", "x"]), values)
    bodies = st.one_of(st.binary(max_size=100), noise, st.none())
    secrets = st.one_of(st.just("whsec_" + base64.b64encode(bytes(24)).decode()), noise, st.none())

    def check(case: tuple[Any, Any, Any]) -> None:
        try:
            verify_signature(case[0], case[1], case[2])
        except WebhookVerificationError:
            pass

    fuzz(examples, st.tuples(headers, bodies, secrets), check)


def test_the_budgets_are_what_the_docs_say() -> None:
    assert (SMALL, LARGE) == (40, 10000) or "KEYSWEEP_FUZZ_EXAMPLES" in os.environ
    random.Random(0)  # the suite's other randomness is seeded; hypothesis is derandomized in CI
