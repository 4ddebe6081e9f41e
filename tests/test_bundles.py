"""Client-side bundles: real esbuild output with its source map, framework-inlined variables,
built directories, and a 10 MB single-line bundle. Locations are checked against the built files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from bundler import build
from leaks import body, by_secret, live_key, location, scan, stripe_scanner, where

from scanner.config import Config
from scanner.sources.bundles import EXPOSED


def write_app(project: Path, rng: random.Random) -> dict[str, str]:
    keys = {
        "secret": live_key(rng),
        "publishable": "pk_live_" + body(rng),
        "restricted": "rk_live_" + body(rng),
    }
    (project / "src").mkdir(parents=True)
    (project / "src" / "config.js").write_text(
        "// server settings that were imported into the client by mistake\n"
        f'export const stripeSecret = "{keys["secret"]}";\n'
        f'export const stripePublishable = "{keys["publishable"]}";\n'
    )
    (project / "src" / "app.js").write_text(
        'import { stripeSecret, stripePublishable } from "./config.js";\n'
        "const restricted = process.env.NEXT_PUBLIC_STRIPE_RESTRICTED;\n"
        "export function pay(amount) {\n"
        '  return fetch("/pay", { method: "POST", headers: { "x-key": stripeSecret, "x-pub": stripePublishable,\n'
        '    "x-restricted": restricted }, body: String(amount) });\n'
        "}\n"
        "window.pay = pay;\n"
    )
    return keys


def source_position(path: Path, text: str) -> tuple[int, int]:
    line, column, _, _ = where(path.read_text(), text)
    return line, column


@pytest.mark.slow
@pytest.mark.external
@pytest.mark.parametrize("out_dir", ["dist", "build", ".next/static/chunks", "public"])
def test_esbuild_bundle_findings_map_to_original_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out_dir: str) -> None:
    keys = write_app(tmp_path, random.Random(11))
    define = f'--define:process.env.NEXT_PUBLIC_STRIPE_RESTRICTED="{keys["restricted"]}"'
    build(tmp_path, "src/app.js", "--sourcemap", f"--outfile={out_dir}/app.js", define)
    bundle = (tmp_path / out_dir / "app.js").read_text()
    assert keys["secret"] in bundle and keys["restricted"] in bundle and "\n" not in bundle.strip().split("\n")[0]
    monkeypatch.chdir(tmp_path)

    report = scan([out_dir], stripe_scanner(config=Config(root=tmp_path)))

    in_bundle = by_secret([f for f in report.findings if f.source == "bundle"])
    assert set(in_bundle) == {keys["secret"], keys["restricted"]}  # the publishable key is not a finding
    secret = in_bundle[keys["secret"]]
    assert (secret.path, location(secret)) == (f"{out_dir}/app.js", where(bundle, keys["secret"]))
    assert secret.severity == "critical" and secret.extra["exposure"] == EXPOSED
    assert secret.extra["sourcemap"] == f"{out_dir}/app.js.map"
    literal = source_position(tmp_path / "src" / "config.js", f'"{keys["secret"]}"')
    assert (secret.extra["original_path"], secret.extra["original_line"], secret.extra["original_column"]) == (
        "src/config.js", *literal)
    restricted = in_bundle[keys["restricted"]]
    assert restricted.rule_id == "stripe.restricted-key"
    assert restricted.severity == "critical"  # high in a server, critical in front of every visitor
    assert restricted.extra["original_path"] == "src/app.js"
    assert restricted.extra["original_line"] == 2  # where process.env.NEXT_PUBLIC_STRIPE_RESTRICTED was read

    [from_map] = [f for f in report.findings if f.source == "sourcemap"]
    config_js = (tmp_path / "src" / "config.js").read_text()
    assert (from_map.path, from_map.secret, location(from_map)) == ("src/config.js", keys["secret"], where(config_js, keys["secret"]))
    assert from_map.extra["sourcemap"] == f"{out_dir}/app.js.map"


@pytest.mark.slow
@pytest.mark.external
def test_inline_source_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = write_app(tmp_path, random.Random(12))
    build(tmp_path, "src/app.js", "--sourcemap=inline", "--outfile=public/inline.js")
    bundle = (tmp_path / "public" / "inline.js").read_text()
    assert "sourceMappingURL=data:application/json;base64," in bundle
    monkeypatch.chdir(tmp_path)

    report = scan(["public"], stripe_scanner(config=Config(root=tmp_path)))

    by_source = {f.source: f for f in report.findings}
    assert sorted(f.source for f in report.findings) == ["bundle", "sourcemap"]
    in_bundle, in_map = by_source["bundle"], by_source["sourcemap"]
    assert (in_bundle.path, location(in_bundle)) == ("public/inline.js", where(bundle, keys["secret"]))
    assert in_bundle.extra["original_path"] == "src/config.js"
    assert in_bundle.extra["sourcemap"] == "public/inline.js (inline source map)"
    config_js = (tmp_path / "src" / "config.js").read_text()
    assert (in_map.path, location(in_map)) == ("src/config.js", where(config_js, keys["secret"]))
    assert in_map.extra["sourcemap"] == "public/inline.js (inline source map)"


@pytest.mark.slow
def test_ten_megabyte_single_line_bundle(tmp_path: Path) -> None:
    """Keys placed across every 1 MiB window cut of a 10 MB line: each found once, at its column,
    with a short snippet (never the line)."""
    rng = random.Random(13)
    names = [body(rng, 3) for _ in range(500)]
    filler = [rng.choice([f"function {n}(a,b){{return a*b+{rng.randint(0, 99)}}}", f'var {n}="{body(rng, 20)}";',
                          f"{n}.push({rng.randint(0, 9999)},{rng.randint(0, 9)});", f"if({n}){{{n}=!1}}"]) for n in names]
    pieces: list[str] = []
    length = 0
    placed: dict[str, int] = {}
    boundary = 1 << 20
    while length < 10_000_000:
        if length > boundary - 30:
            key = live_key(rng)
            piece = f'var k{len(placed)}="{key}";'
            placed[key] = length + piece.index(key)
            boundary += 1 << 20
        else:
            piece = rng.choice(filler)
        pieces.append(piece)
        length += len(piece)
    text = "".join(pieces)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "vendor.js").write_text(text)

    report = scan([tmp_path / "dist" / "vendor.js"], stripe_scanner(config=Config(root=tmp_path)))

    found = by_secret(report.findings)
    assert len(placed) >= 9 and set(found) == set(placed)
    for key, offset in placed.items():
        finding = found[key]
        assert (finding.source, finding.line, finding.column) == ("bundle", 1, offset + 1)
        assert (finding.end_line, finding.end_column) == (1, offset + 1 + len(key))
        assert len(finding.snippet) <= 2 * 60 + len(key)


def test_framework_inlined_variables_and_built_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(14)
    live, restricted, test, server = live_key(rng), "rk_live_" + body(rng), "sk_test_" + body(rng), live_key(rng)
    files = {
        "public/index.html": (
            '<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">'
            f'{{"props":{{"pageProps":{{"settings":{{"payments":{{"key":"{live}"}}}}}}}},"page":"/"}}</script></body></html>\n'
        ),
        "build/static/js/main.3f2a.js": f'(()=>{{var e={{REACT_APP_STRIPE_KEY:"{restricted}",NODE_ENV:"production"}};}})();\n',
        "dist/env.js": f'window.__ENV__ = {{"STRIPE_TEST_KEY": "{test}"}};\n',
        ".next/server/chunks/api.js": f'module.exports={{key:"{server}"}};\n',
    }
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    monkeypatch.chdir(tmp_path)

    found = by_secret(scan(["."], stripe_scanner(config=Config(root=tmp_path))).findings)

    for key, name in ((live, "public/index.html"), (restricted, "build/static/js/main.3f2a.js"),
                      (test, "dist/env.js"), (server, ".next/server/chunks/api.js")):
        assert (found[key].path, found[key].source, location(found[key])) == (name, "bundle", where(files[name], key))
    assert (found[live].severity, found[live].extra["inlined_env"]) == ("critical", "__NEXT_DATA__")
    assert "every visitor" in found[live].extra["exposure"] and "__NEXT_DATA__" in found[live].extra["exposure"]
    assert (found[restricted].severity, found[restricted].extra["inlined_env"]) == ("critical", "REACT_APP_STRIPE_KEY")
    assert (found[test].severity, found[test].extra["inlined_env"]) == ("low", "window.__ENV__")  # a test key stays low
    assert found[server].severity == "critical" and "exposure" not in found[server].extra  # server output is not shipped


def test_minified_files_outside_build_directories(tmp_path: Path) -> None:
    rng = random.Random(15)
    minified, plain = live_key(rng), live_key(rng)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "widget.js").write_text("!function(){" + ";".join(f"var a{i}={i}" for i in range(300)) + f';var k="{minified}"}}();\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "client.js").write_text(f'// development only\nconst key = "{plain}";\n')

    found = by_secret(scan([tmp_path], stripe_scanner(config=Config(root=tmp_path))).findings)

    assert found[minified].source == "bundle" and found[minified].extra["exposure"] == EXPOSED
    assert found[plain].source == "file" and "exposure" not in found[plain].extra


@pytest.mark.slow
def test_as_bundle_on_stdin_via_cli(tmp_path: Path) -> None:
    from conftest import run_keysweep

    key = live_key(random.Random(16))
    text = "var a=1;" * 2000 + f'var k="{key}";\n'
    result = run_keysweep("scan", "--format", "json", "--no-redact", "--as", "bundle", "-", stdin=text, cwd=tmp_path)
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["path"], finding["source"], finding["line"], finding["column"]) == ("-", "bundle", 1, text.index(key) + 1)
    assert finding["severity"] == "critical" and "every visitor" in finding["exposure"]
