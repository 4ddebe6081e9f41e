"""Base64 payloads: Kubernetes Secret manifests (YAML and JSON), basic-auth headers, data URLs;
decoded findings point at the encoded text and say what they were decoded from."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from leaks import by_secret, live_key, location, scan, stripe_scanner, where

from scanner.config import Config
from scanner.sources.decoders import MAX_DEPTH, decode_base64_text


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_kubernetes_secret_manifest(tmp_path: Path) -> None:
    rng = random.Random(41)
    stripe, webhook_body = live_key(rng), "whsec_" + "".join(rng.choice("abcdefghijkLMNOPQRS0123456789") for _ in range(40))
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  MODE: production\n---\n"
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n  name: payments\n  namespace: shop\n"
        "type: Opaque\n"
        "data:\n"
        f"  STRIPE_SECRET_KEY: {b64(stripe)}\n"
        "  # the signing secret, rotated monthly\n"
        f'  "webhook.secret": "{b64(webhook_body)}"\n'
        f"  harmless: {b64('just a value')}\n"
        "stringData:\n  note: not encoded\n"
    )
    (tmp_path / "secret.yaml").write_text(manifest)

    found = by_secret(scan([tmp_path / "secret.yaml"], stripe_scanner(config=Config(root=tmp_path))).findings)

    assert set(found) == {stripe, webhook_body}
    assert location(found[stripe]) == where(manifest, b64(stripe))
    assert found[stripe].extra == {"decoded": "base64", "decoded_from": "Kubernetes Secret data 'STRIPE_SECRET_KEY'"}
    assert location(found[webhook_body]) == where(manifest, b64(webhook_body))
    assert found[webhook_body].extra["decoded_from"] == "Kubernetes Secret data 'webhook.secret'"
    assert found[stripe].source == "file" and found[stripe].secret == stripe  # the fingerprint of the key itself


def test_kubernetes_secret_as_json(tmp_path: Path) -> None:
    key = live_key(random.Random(42))
    text = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"api": b64(key)}}, indent=2)
    (tmp_path / "secret.json").write_text(text)

    [finding] = scan([tmp_path / "secret.json"], stripe_scanner(config=Config(root=tmp_path))).findings

    assert (finding.secret, location(finding)) == (key, where(text, b64(key)))
    assert finding.extra["decoded_from"] == "Kubernetes Secret data 'api'"


def test_basic_auth_and_data_urls(tmp_path: Path) -> None:
    rng = random.Random(43)
    basic, data_url, image = live_key(rng), live_key(rng), live_key(rng)
    text = (
        "#!/bin/sh\n"
        f"curl -H 'Authorization: Basic {b64(basic + ':')}' https://api.example.test/v1/charges\n"
        f'fetch("data:application/json;base64,{b64(json.dumps({"key": data_url}))}")\n'
        f'<img src="data:image/png;base64,{b64(image)}">\n'  # images are not decoded
    )
    (tmp_path / "deploy.sh").write_text(text)

    found = by_secret(scan([tmp_path / "deploy.sh"], stripe_scanner(config=Config(root=tmp_path))).findings)

    assert set(found) == {basic, data_url}
    assert location(found[basic]) == where(text, b64(basic + ":"))
    assert found[basic].extra["decoded_from"] == "Authorization: Basic credentials"
    assert location(found[data_url]) == where(text, b64(json.dumps({"key": data_url})))
    assert found[data_url].extra["decoded_from"] == "data URL (application/json)"


def test_nesting_is_bounded(tmp_path: Path) -> None:
    """A Secret holding a Basic header is decoded twice; one more level is not followed."""
    rng = random.Random(44)
    twice, thrice = live_key(rng), live_key(rng)
    inner = f"Authorization: Basic {b64(twice + ':')}"
    deeper = f"Authorization: Basic {b64('Authorization: Basic ' + b64(thrice + ':'))}"
    manifest = f"kind: Secret\ndata:\n  config: {b64(inner)}\n  deeper: {b64(deeper)}\n"
    (tmp_path / "nested.yaml").write_text(manifest)

    found = by_secret(scan([tmp_path / "nested.yaml"], stripe_scanner(config=Config(root=tmp_path))).findings)

    assert MAX_DEPTH == 2 and set(found) == {twice}
    assert location(found[twice]) == where(manifest, b64(inner))
    assert found[twice].extra["decoded_from"] == "Kubernetes Secret data 'config' > Authorization: Basic credentials"


def test_payloads_in_a_log_window_point_into_the_log(tmp_path: Path) -> None:
    key = live_key(random.Random(45))
    text = "2024-05-01T00:00:00Z INFO start\n" + f'2024-05-01T00:00:01Z DEBUG > {{"headers": {{"Authorization": "Basic {b64(key + ":")}"}}}}\n'
    (tmp_path / "http.log").write_text(text)

    [finding] = scan([tmp_path / "http.log"], stripe_scanner(config=Config(root=tmp_path))).findings

    assert (finding.source, location(finding)) == ("log", where(text, b64(key + ":")))
    assert finding.extra["timestamp"] == "2024-05-01T00:00:01+00:00"
    assert finding.extra["decoded"] == "base64"


@pytest.mark.parametrize(("encoded", "text"), [
    (b64("user:pass"), "user:pass"),
    (b64("user:pass").rstrip("="), "user:pass"),  # padding left off
    (base64.b64encode(bytes(range(256))).decode(), None),  # binary
    ("not base64!", None),
    (b64("\x00\x01\x02\x03 mostly control"), None),
])
def test_decode_base64_text(encoded: str, text: str | None) -> None:
    assert decode_base64_text(encoded) == text


@pytest.mark.parametrize("large", [False, True], ids=["find", "hyperscan"])
def test_basic_payloads_are_found_in_any_letter_case_as_a_case_blind_pattern_finds_them(large: bool) -> None:
    import re

    from scanner.sources.decoders import NATIVE_MARKER_MIN_CHARS, find_payloads

    case_blind = re.compile(r"\b(?i:basic)\s+([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])")
    text = ("x Authorization: Basic dXNlcjpwYXNzd29yZA== y\nbasic QUJDREVGR0g= notbasic QUJDREVGR0g= "
            "BASIC\tQUJDREVGR0hJ\n_basic QUJDREVGR0g= BaSiC QUJDREVGR0g= basic short")
    text = ("é" * NATIVE_MARKER_MIN_CHARS + "\n" if large else "") + text
    for sample in (text, text + " İ"):  # the second lowers to a different length
        expected = [(m.start(1), m.end(1), m.group(1)) for m in case_blind.finditer(sample)]
        assert [(p.start, p.end, p.encoded) for p in find_payloads(sample)] == expected
        assert len(expected) == 4


def test_data_urls_are_matched_from_their_own_data_prefix() -> None:
    from scanner.sources.decoders import find_payloads

    text = "a metadata:text/plain;base64,QUJDREVGR0hJ b data:text/plain;charset=utf-8;base64,SEVMTE9XT1JMRA=="
    assert [p.encoded for p in find_payloads(text)] == ["SEVMTE9XT1JMRA=="]


@pytest.mark.parametrize("marker", ["Basic ", "BASIC ", "bAsIc ", "data:text/plain;base64,", "kind: Secret"])
def test_payload_markers_are_seen_in_large_and_small_text(marker: str) -> None:
    from scanner.sources.decoders import NATIVE_MARKER_MIN_CHARS, has_payloads

    filler = "log line without anything of note\n" * (NATIVE_MARKER_MIN_CHARS // 20)
    assert not has_payloads(filler) and not has_payloads("short")
    assert has_payloads(filler + marker + "x") and has_payloads(marker + filler)
    assert has_payloads(marker)
