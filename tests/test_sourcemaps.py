"""Source maps: the VLQ decoder, position lookups checked against a real esbuild map, source names,
index maps, and maps that are broken."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from bundler import build
from leaks import by_secret, live_key, location, scan, stripe_scanner, where

from scanner.config import Config
from scanner.sources.sourcemaps import decode_vlq, parse_sourcemap, source_name


@pytest.mark.parametrize(("segment", "values"), [
    ("A", [0]), ("C", [1]), ("D", [-1]), ("gB", [16]), ("hB", [-16]), ("2H", [123]),
    ("AAgBC", [0, 0, 16, 1]), ("SAAS", [9, 0, 0, 9]), ("+/B", [1023]), ("//B", [-1023]),
])
def test_decode_vlq(segment: str, values: list[int]) -> None:
    assert decode_vlq(segment) == values


def test_decode_vlq_rejects_truncated_values() -> None:
    with pytest.raises(ValueError):
        decode_vlq("g")


@pytest.mark.slow
@pytest.mark.external
def test_lookups_agree_with_a_real_esbuild_map(tmp_path: Path) -> None:
    """Every string literal of the sources, found in the minified bundle, maps back to where it was written."""
    (tmp_path / "src").mkdir()
    markers = [f"marker-{n}-{random.Random(n).randint(1000, 9999)}" for n in range(12)]
    for n in range(3):
        lines = [f"export function f{n}_{i}(x) {{\n  return x + \"{markers[n * 4 + i]}\";\n}}\n" for i in range(4)]
        (tmp_path / "src" / f"m{n}.js").write_text("// module\n" + "\n".join(lines))
    (tmp_path / "src" / "main.js").write_text(
        "".join(f"import * as m{n} from './m{n}.js';\n" for n in range(3))
        + "window.all = [" + ", ".join(f"m{n}.f{n}_{i}" for n in range(3) for i in range(4)) + "];\n"
    )
    build(tmp_path, "src/main.js", "--sourcemap", "--outfile=dist/main.js")
    bundle = (tmp_path / "dist" / "main.js").read_text()
    source_map = parse_sourcemap((tmp_path / "dist" / "main.js.map").read_text(), map_path="dist/main.js.map")

    for n, marker in enumerate(markers):
        line, column, _, _ = where(bundle, f'"{marker}"')
        original = source_map.original(line - 1, column - 1)
        assert original is not None
        module = tmp_path / "src" / f"m{n // 4}.js"
        assert (original.source, original.line, original.column) == (
            f"src/m{n // 4}.js", *where(module.read_text(), f'"{marker}"')[:2])


@pytest.mark.parametrize(("source", "root", "directory", "name"), [
    ("../src/a.js", "", "dist", "src/a.js"),
    ("webpack:///./src/a.js", "", "dist", "src/a.js"),
    ("webpack://app/./src/b.ts", "", ".next/static/chunks", "app/src/b.ts"),
    ("a.ts", "../lib/", "dist", "lib/a.ts"),
    ("/abs/path/c.js", "", "dist", "/abs/path/c.js"),
    ("c.js", "", "site.zip!dist", "site.zip!dist/c.js"),
])
def test_source_names(source: str, root: str, directory: str, name: str) -> None:
    assert source_name(source, root, directory) == name


def test_index_map_sections_and_sources_content(tmp_path: Path) -> None:
    rng = random.Random(21)
    first, second = live_key(rng), live_key(rng)
    first_src = f'const a = 1;\nconst key = "{first}";\n'
    second_src = f'\n\nlet k = "{second}";\n'
    index_map = {"version": 3, "file": "all.js", "sections": [
        {"offset": {"line": 0, "column": 0},
         "map": {"version": 3, "sources": ["a.js"], "sourcesContent": [first_src], "names": [], "mappings": "AAAA;AACA"}},
        {"offset": {"line": 2, "column": 0},
         "map": {"version": 3, "sources": ["b.js"], "sourcesContent": [second_src], "names": [], "mappings": "AAEA"}},
    ]}
    (tmp_path / "all.js.map").write_text(json.dumps(index_map))

    found = by_secret(scan([tmp_path / "all.js.map"], stripe_scanner(config=Config(root=tmp_path))).findings)

    assert found[first].path == str(tmp_path / "a.js") and location(found[first]) == where(first_src, first)
    assert found[second].path == str(tmp_path / "b.js") and location(found[second]) == where(second_src, second)
    assert {f.extra["sourcemap"] for f in found.values()} == {str(tmp_path / "all.js.map")}
    source_map = parse_sourcemap(json.dumps(index_map), map_path="all.js.map")
    assert (source_map.original(1, 4).source, source_map.original(1, 4).line) == ("a.js", 2)
    assert (source_map.original(2, 0).source, source_map.original(2, 0).line) == ("b.js", 3)


def test_a_broken_map_is_scanned_as_text_with_a_warning(tmp_path: Path) -> None:
    key = live_key(random.Random(22))
    text = '{"version": 3, "sources": ["a.js"], "mappings": "AAAA", "sourcesContent": ["' + key + '"'  # cut short
    (tmp_path / "app.js.map").write_text(text)

    report = scan([tmp_path / "app.js.map"], stripe_scanner(config=Config(root=tmp_path)))

    [finding] = report.findings
    assert (finding.path, finding.source, location(finding)) == (str(tmp_path / "app.js.map"), "file", where(text, key))
    assert any("not a usable source map" in w for w in report.stats.warnings)


def test_map_detected_by_content_under_a_json_name(tmp_path: Path) -> None:
    key = live_key(random.Random(23))
    content = f'export default "{key}";\n'
    data = {"version": 3, "sources": ["webpack:///./src/secret.js"], "sourcesContent": [content], "mappings": "AAAA"}
    (tmp_path / "stats.json").write_text(json.dumps(data))

    [finding] = scan([tmp_path / "stats.json"], stripe_scanner(config=Config(root=tmp_path))).findings

    assert (finding.path, finding.source, location(finding)) == ("src/secret.js", "sourcemap", where(content, key))
    assert re.search(r"stats\.json$", finding.extra["sourcemap"])
