"""HAR captures: a browser-style export with keys in headers, query strings, cookies, post data,
basic auth and responses; each finding names its entry and header and points into the file."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from leaks import body, by_secret, live_key, location, scan, stripe_scanner

from scanner.config import Config
from scanner.sources.har import redact_url


def header(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def capture(keys: dict[str, str]) -> dict:
    """Shaped like a Chrome DevTools export (HAR 1.2)."""
    basic = base64.b64encode(f"{keys['basic']}:".encode()).decode()
    entries = [
        {
            "startedDateTime": "2024-05-01T10:00:00.123Z", "time": 120,
            "request": {
                "method": "GET", "url": f"https://api.example.test/v1/charges?limit=3&api_key={keys['query']}",
                "httpVersion": "HTTP/2", "headers": [header("accept", "application/json"),
                                                     header("authorization", f"Bearer {keys['bearer']}")],
                "queryString": [header("limit", "3"), header("api_key", keys["query"])],
                "cookies": [header("session", keys["cookie"])], "headersSize": -1, "bodySize": 0,
            },
            "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2", "headers": [],
                         "cookies": [], "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
                         "redirectURL": "", "headersSize": -1, "bodySize": 2},
            "cache": {}, "timings": {"send": 1, "wait": 100, "receive": 19},
        },
        {
            "startedDateTime": "2024-05-01T10:00:01.000Z", "time": 80,
            "request": {
                "method": "POST", "url": "https://api.example.test/v1/tokens", "httpVersion": "HTTP/1.1",
                "headers": [header("Authorization", f"Basic {basic}"), header("Content-Type", "application/json")],
                "queryString": [], "cookies": [],
                "postData": {"mimeType": "application/json", "text": json.dumps({"account": "a1", "secret": keys["post"]})},
                "headersSize": -1, "bodySize": 80,
            },
            "response": {"status": 201, "statusText": "Created", "httpVersion": "HTTP/1.1",
                         "headers": [header("set-cookie", f"k={keys['response']}; Path=/; Secure")], "cookies": [],
                         "content": {"size": 0, "mimeType": "text/plain"}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
            "cache": {}, "timings": {"send": 1, "wait": 70, "receive": 9},
        },
    ]
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [], "entries": entries}}


def raw_location(text: str, needle: str) -> tuple[int, int, int, int]:
    """Where the key sits in the HAR text itself (it is ASCII, so it appears as-is)."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return line, column, line, column + len(needle)


@pytest.fixture()
def har(tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    rng = random.Random(31)
    keys = {name: live_key(rng) for name in ("query", "bearer", "cookie", "basic", "post", "response")}
    text = json.dumps(capture(keys), indent=2)
    path = tmp_path / "checkout.har"
    path.write_text(text)
    return path, text, keys


def test_every_part_of_every_entry(har: tuple[Path, str, dict[str, str]], tmp_path: Path) -> None:
    path, text, keys = har

    found = by_secret(scan([path], stripe_scanner(config=Config(root=tmp_path))).findings)

    assert set(found) == set(keys.values())  # the query key, in the URL and in queryString, is one finding
    for name, key in keys.items():
        finding = found[key]
        assert (finding.path, finding.source) == (str(path), "har")
        if name != "basic":
            assert location(finding) == raw_location(text, key), name
    assert found[keys["query"]].extra["har_field"] == "request.url"
    assert found[keys["query"]].extra["har_entry"] == f"GET https://api.example.test/v1/charges?limit=3&api_key={keys['query'][:6]}…"
    assert (found[keys["bearer"]].extra["har_field"], found[keys["bearer"]].extra["header"]) == ("request.header", "authorization")
    assert (found[keys["cookie"]].extra["har_field"], found[keys["cookie"]].extra["name"]) == ("request.cookie", "session")
    assert found[keys["post"]].extra["har_field"] == "request.postData"
    assert found[keys["post"]].extra["har_entry"] == "POST https://api.example.test/v1/tokens"
    assert (found[keys["response"]].extra["har_field"], found[keys["response"]].extra["header"]) == ("response.header", "set-cookie")
    assert found[keys["bearer"]].extra["timestamp"] == "2024-05-01T10:00:00.123Z"
    basic = found[keys["basic"]]
    encoded = base64.b64encode(f"{keys['basic']}:".encode()).decode()
    assert location(basic) == raw_location(text, encoded)  # points at what was decoded
    assert (basic.extra["decoded"], basic.extra["decoded_from"], basic.extra["header"]) == (
        "base64", "Authorization: Basic credentials", "Authorization")
    for key in keys.values():  # no report carries a whole key outside its secret field
        assert all(key not in str(value) for f in found.values() for value in f.extra.values())


def test_as_har_and_a_har_that_is_not_one(tmp_path: Path) -> None:
    key = live_key(random.Random(32))
    (tmp_path / "export.json").write_text(json.dumps(capture({n: key for n in ("query", "bearer", "cookie", "basic", "post", "response")})))
    (tmp_path / "broken.har").write_text('{"log": {"entries": "nope"}} ' + key)

    report = scan([tmp_path], stripe_scanner(config=Config(root=tmp_path)))

    sources = sorted((f.path.rsplit("/", 1)[-1], f.source) for f in report.findings)
    assert ("broken.har", "file") in sources
    assert ("export.json", "har") in sources  # told by content
    assert any("broken.har: not a HAR capture" in w for w in report.stats.warnings)


@pytest.mark.parametrize(("url", "shown"), [
    ("https://h.test/a?key=abcdefghijklmnop&x=", "https://h.test/a?key=abcd…&x="),
    ("https://user:pw@h.test/p", "https://…@h.test/p"),
    ("https://h.test/bot123456789:AAbbCCddEEffGGhhIIjj/send", "https://h.test/bot123…/send"),
    ("https://h.test/plain/path#frag", "https://h.test/plain/path"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_body_helper_is_random() -> None:
    assert body(random.Random(1)) != body(random.Random(2))
