"""Logs: JSON-lines unescaping, percent-decoding, rotated compressed logs, bounded windows that lose
and repeat nothing, timestamps, standard input. Every finding's path, line and column is checked
against where the key sits in the raw log."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
from pathlib import Path

import pytest
import zstandard
from conftest import run_keysweep
from leaks import body, by_secret, live_key, location, scan, stripe_scanner, where

from scanner.report import ScanStats
from scanner.sources.logs import log_chunks, looks_like_log, parse_timestamp, unescape


def json_log_line(rng: random.Random, token: str, when: str) -> str:
    """A request logged as JSON whose headers field is itself JSON: every quote arrives escaped."""
    headers = json.dumps({"Authorization": f"Bearer {token}", "Accept": "*/*"})
    return json.dumps({"time": when, "level": "info", "msg": "outbound", "headers": headers, "id": body(rng, 8)})


def test_json_lines_with_escaped_headers(tmp_path: Path) -> None:
    rng = random.Random(1)
    token = "tok_" + body(rng)
    lines = [json_log_line(rng, "tok_" + body(rng) if i != 2 else token, f"2024-05-01T12:00:0{i}.250Z") for i in range(4)]
    lines[2] = lines[2].replace(token, token)  # the key on the third line
    text = "\n".join(lines) + "\n"
    assert '\\"Authorization\\": \\"Bearer ' in text  # as logged: escaped
    (tmp_path / "api.jsonl").write_text(text)

    report = scan([tmp_path / "api.jsonl"], stripe_scanner(tmp_path, with_test_rules=True))

    found = by_secret(report.findings)
    assert len(found) == 4
    finding = found[token]
    assert (finding.path, finding.source, finding.rule_id) == (str(tmp_path / "api.jsonl"), "log", "testlog.bearer-header")
    assert location(finding) == where(text, token)  # columns of the raw, escaped line
    assert finding.extra["timestamp"] == "2024-05-01T12:00:02.250000+00:00"
    assert finding.extra["decoded"] == "json-escape"


def test_unicode_and_percent_escapes_in_access_logs(tmp_path: Path) -> None:
    rng = random.Random(2)
    unicode_key, percent_key = "qk_" + body(rng), "qk_" + body(rng)
    text = (
        '203.0.113.9 - - [01/May/2024:12:00:00 +0200] "GET /a?x=1 HTTP/1.1" 200 12\n'
        f'{{"ts": 1714564800.5, "url": "/v1/items?page=2\\u0026api_key={unicode_key}"}}\n'
        f'203.0.113.9 - - [01/May/2024:12:00:02 +0200] "GET /cb?next=%2Fv1%3Fx%3D1%26api_key%3D{percent_key} HTTP/1.1" 302 0\n'
    )
    (tmp_path / "access.log").write_text(text)

    found = by_secret(scan([tmp_path / "access.log"], stripe_scanner(tmp_path, with_test_rules=True)).findings)

    assert location(found[unicode_key]) == where(text, unicode_key)
    assert found[unicode_key].extra["timestamp"] == "2024-05-01T12:00:00.500000+00:00"
    assert found[unicode_key].extra["decoded"] == "json-escape"
    assert location(found[percent_key]) == where(text, percent_key)
    assert found[percent_key].extra["timestamp"] == "2024-05-01T12:00:02+02:00"
    assert found[percent_key].extra["decoded"] == "percent-encoding"


def rotated_log(rng: random.Random, keys: dict[int, str], lines: int) -> str:
    out = []
    for n in range(1, lines + 1):
        line = f"2024-05-0{1 + n // 5000}T10:{n // 60 % 60:02d}:{n % 60:02d}Z INFO worker={n % 7} handled request {body(rng, rng.randint(0, 40))}"
        if n in keys:
            line += f" stripe key={keys[n]} retry=0"
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(("suffix", "compress"), [
    (".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress),
    (".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
])
def test_rotated_compressed_logs(tmp_path: Path, suffix: str, compress) -> None:
    rng = random.Random(3)
    keys = {n: live_key(rng) for n in (1, 777, 2048, 4999)}
    text = rotated_log(rng, keys, 5000)
    path = tmp_path / f"app.log.2{suffix}"
    path.write_bytes(compress(text.encode()))

    report = scan([tmp_path], stripe_scanner(tmp_path))

    found = by_secret(report.findings)
    assert set(found) == set(keys.values())
    for n, key in keys.items():
        assert found[key].path == str(path)
        assert found[key].source == "log"
        assert location(found[key]) == where(text, key)
        assert found[key].line == n
        assert found[key].extra["timestamp"].startswith("2024-05-0")


@pytest.mark.parametrize("size", [48, 64, 97, 256, 1000, pytest.param(1 << 20, marks=pytest.mark.slow)])
def test_windows_lose_nothing_and_repeat_nothing(tmp_path: Path, size: int) -> None:
    """Tiny windows over a gzip log: keys straddle every kind of cut (between lines, inside a long
    line, inside a multi-line block) and each is still reported once, where it is."""
    rng = random.Random(4)
    keys = {n: live_key(rng) for n in range(3, 400, 11)}
    text = rotated_log(rng, keys, 400)
    long_keys = [live_key(rng) for _ in range(6)]
    long_line = "2024-05-02T00:00:00Z DEBUG payload=" + ",".join(f"{body(rng, 50)} {k}" for k in long_keys) + "\n"
    block = "-----BEGIN TEST KEY-----\n" + "".join(body(rng, 16) + "\n" for _ in range(3)) + "-----END TEST KEY-----\n"
    text = text + long_line + "2024-05-02T00:00:01Z INFO block follows\n" + block + "2024-05-02T00:00:02Z INFO done\n"
    path = tmp_path / "big.log.1.gz"
    path.write_bytes(gzip.compress(text.encode()))
    scanner = stripe_scanner(tmp_path, with_test_rules=True)

    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as stream:
        chunks = list(log_chunks(stream, path="big.log.1.gz", fs_path=str(path), stats=ScanStats(), size=size, overlap=size // 2))
    findings = [f for chunk in chunks for f in scanner.scan(chunk)]

    found = by_secret(findings)
    block_secret = block.split("\n", 1)[1].rsplit("-----END", 1)[0]
    expected = set(keys.values()) | set(long_keys)
    if size >= 256:  # the overlap (size // 2) holds the whole block
        expected.add(block_secret)
    assert expected <= set(found) <= expected | {block_secret}
    for secret, finding in found.items():
        assert location(finding) == where(text, secret), secret
    if size < 1 << 20:
        assert len(chunks) > 3


@pytest.mark.slow
def test_plain_stdin_log_is_streamed_as_a_log() -> None:
    rng = random.Random(5)
    key = live_key(rng)
    text = "".join(
        f"2024-05-01T08:00:{s:02d}.000000Z stdout F {{\"level\":\"info\",\"msg\":\"tick {s}\"}}\n" for s in range(30)
    ) + f"2024-05-01T08:00:31.000000Z stderr F stripe.error: invalid key {key} for account\n"

    result = run_keysweep("scan", "--format", "json", "--no-redact", "-", stdin=text)

    assert result.returncode == 1, result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["path"], finding["source"], finding["secret"]) == ("-", "log", key)
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) == where(text, key)
    assert finding["timestamp"] == "2024-05-01T08:00:31+00:00"


@pytest.mark.slow
def test_as_log_forces_a_log_reading(tmp_path: Path) -> None:
    rng = random.Random(6)
    key = "qk_" + body(rng)
    text = f"GET /x?y=1%26api_key%3D{key}\n"
    (tmp_path / "capture.dat").write_text(text)
    (tmp_path / "rules.toml").write_text(__import__("leaks").TEST_RULES)

    plain = run_keysweep("scan", "--format", "json", "--rules", "rules.toml", "capture.dat", cwd=tmp_path)
    forced = run_keysweep("scan", "--format", "json", "--rules", "rules.toml", "--as", "log", "capture.dat", cwd=tmp_path)

    assert plain.returncode == 0, plain.stderr
    assert forced.returncode == 1, forced.stderr
    [finding] = json.loads(forced.stdout)["findings"]
    assert (finding["path"], finding["source"], finding["line"], finding["column"]) == ("capture.dat", "log", 1, 24)
    assert "Usage" not in run_keysweep("scan", "--as", "bogus", ".", cwd=tmp_path).stderr.splitlines()[-1]


@pytest.mark.slow
def test_corrupt_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    rng = random.Random(7)
    key = live_key(rng)
    data = gzip.compress((f"2024-05-01T00:00:00Z first {key}\n" + rotated_log(rng, {}, 20_000)).encode())
    (tmp_path / "cut.log.gz").write_bytes(data[: len(data) // 2])

    result = run_keysweep("scan", "--format", "json", "--no-redact", "cut.log.gz", cwd=tmp_path)

    assert result.returncode == 1
    assert [f["secret"] for f in json.loads(result.stdout)["findings"]] == [key]
    assert "cut.log.gz: stopped reading" in result.stderr


@pytest.mark.parametrize(("line", "expected"), [
    ("2024-05-01T12:00:00Z INFO x", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01 12:00:00,123 WARNING x", "2024-05-01T12:00:00.123000"),
    ("[2024-05-01T12:00:00.123456789+02:00] x", "2024-05-01T12:00:00.123456+02:00"),
    ('10.1.2.3 - bob [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 200', "2023-10-10T13:55:36-07:00"),
    ('{"level":"info","ts":1700000000.25,"msg":"x"}', "2023-11-14T22:13:20.250000+00:00"),
    ("May  1 12:00:00 host sshd[1]: x", "May  1 12:00:00"),
    ("no time here", None),
])
def test_parse_timestamp(line: str, expected: str | None) -> None:
    assert parse_timestamp(line) == expected


@pytest.mark.parametrize(("head", "is_log"), [
    ("2024-05-01T12:00:00Z INFO a\n2024-05-01T12:00:01Z INFO b\n", True),
    ('{"level":"info","msg":"a"}\n{"level":"warn","msg":"b"}\n', True),
    ('1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1\n', True),
    ("May  1 12:00:00 host cron[1]: a\n", True),
    ("I0501 12:00:00.123456       1 controller.go:10] a\n", True),
    ("import os\n\nprint(os.environ)\n", False),
    ('{\n  "name": "x",\n  "version": "1.0.0"\n}\n', False),
    ("log line\ncurl -u key: https://api\n", False),
])
def test_looks_like_log(head: str, is_log: bool) -> None:
    assert looks_like_log(head) is is_log


@pytest.mark.parametrize(("raw", "decoded"), [
    ('{\\"a\\": 1}', '{"a": 1}'),
    ("x\\u0026y\\u003dz", "x&y=z"),
    ("a\\nb\\tc", "a b c"),  # escaped newlines stay on the line, so line numbers hold
    ("p%3Dq%26r%2Fs", "p=q&r/s"),
    ("100%ok %E2%9C%93", "100%ok %E2%9C%93"),  # not an escape; non-ASCII bytes left as they are
    ("C:\\\\new", "C:\\new"),
])
def test_unescape(raw: str, decoded: str) -> None:
    result = unescape(raw)
    assert result.text == decoded
    assert result.raw_offset(len(result.text)) == len(raw)


def test_log_by_content_under_an_ordinary_name(tmp_path: Path) -> None:
    rng = random.Random(8)
    token = "tok_" + body(rng)
    text = "\n".join(json_log_line(rng, token if i == 1 else "tok_" + body(rng), f"2024-05-01T00:00:0{i}Z") for i in range(3)) + "\n"
    (tmp_path / "output.txt").write_text(text)

    found = by_secret(scan([tmp_path / "output.txt"], stripe_scanner(tmp_path, with_test_rules=True)).findings)

    assert found[token].source == "log"
    assert location(found[token]) == where(text, token)


def test_log_windows_stream_from_a_text_stream() -> None:
    rng = random.Random(9)
    key = live_key(rng)
    text = "a\n" * 10 + f"b {key}\n"
    chunks = list(log_chunks(io.StringIO(text), path="-", fs_path=None, stats=ScanStats(), size=16, overlap=8))
    findings = [f for c in chunks for f in stripe_scanner().scan(c)]
    assert [(f.secret, location(f)) for f in findings] == [(key, where(text, key))]


def test_fast_decoding_matches_the_exact_one() -> None:
    """decode_escapes (str.replace where it is safe) gives exactly unescape's text, which maps columns."""
    from scanner.sources.logs import decode_escapes

    rng = random.Random(10)
    atoms = ["a", "\\", '"', '\\"', "\\\\", "\\u0026", "\\u005c", "\\u0025", "%26", "%5C", "%25", "%32", "\\n", "/",
             "\\/", "u", "00", "%", "%2", "\\u00", "x", " ", "41"]
    for _ in range(20_000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 12)))
        assert decode_escapes(text) == unescape(text).text, text


def test_header_dumps_of_common_clients(tmp_path: Path) -> None:
    """requests/http.client debug output (bytes repr with literal \\r\\n), an axios error dumped as
    JSON, and curl -v: each Authorization header is found at its raw position."""
    rng = random.Random(11)
    tokens = ["tok_" + body(rng) for _ in range(3)]
    text = (
        "2024-05-01 10:00:00,001 DEBUG urllib3.connectionpool Starting new HTTPS connection (1): api.example.test:443\n"
        f"send: b'GET /v1/items HTTP/1.1\\r\\nHost: api.example.test\\r\\nAuthorization: Bearer {tokens[0]}\\r\\n\\r\\n'\n"
        '2024-05-01 10:00:01,002 ERROR {"message":"Request failed with status code 401","config":{"headers":'
        f'"{{\\"Accept\\":\\"application/json\\",\\"Authorization\\": \\"Bearer {tokens[1]}\\"}}"}}}}\n'
        f"2024-05-01 10:00:02,003 INFO > GET /v1/items HTTP/2\n> Host: api.example.test\n> Authorization: Bearer {tokens[2]}\n"
    )
    (tmp_path / "client.log").write_text(text)

    found = by_secret(scan([tmp_path / "client.log"], stripe_scanner(tmp_path, with_test_rules=True)).findings)

    assert set(found) == set(tokens)
    for token in tokens:
        assert location(found[token]) == where(text, token)
    assert found[tokens[0]].extra["decoded"] == "json-escape"  # \r\n decoded: the header starts a word again
    assert "timestamp" not in found[tokens[0]].extra  # http.client prints no time on its send: lines
    assert found[tokens[1]].extra["timestamp"] == "2024-05-01T10:00:01.002000"
