"""History reads what a file scan reads: every input goes through one dispatcher, so a key hidden in
a Kubernetes Secret, a Basic header, a data URL, an archive member, a minified bundle and its map, a
JSON-lines log or a HAR capture is found by `keysweep git` once the file is deleted, exactly as
`keysweep scan` finds it in the working tree, and named for the commit that added it."""

from __future__ import annotations

import base64
import io
import json
import random
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import run_keysweep
from gitutil import GitRepo
from leaks import live_key


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_fixtures(root: Path, rng: random.Random) -> dict[str, str]:
    """One file per reader, each holding its own key; returns file -> key."""
    keys = {name: live_key(rng) for name in (
        "k8s", "basic", "data-url", "zip", "tar", "bundle", "bundle-map", "jsonl", "har")}
    files = {
        "deploy/secret.yaml": f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pay\ndata:\n"
                              f"  STRIPE_KEY: {b64(keys['k8s'])}\n",
        "scripts/charge.sh": f"curl https://api.example.test/charge -H 'Authorization: Basic {b64('api:' + keys['basic'])}'\n",
        "web/embed.html": f'<iframe src="data:text/plain;base64,{b64("STRIPE_KEY=" + keys["data-url"])}"></iframe>\n',
        "logs/app.jsonl": json.dumps({"level": "info", "msg": f'calling with {{"key": "{keys["jsonl"]}"}}'}) + "\n",
        "captures/checkout.har": json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [
            {"startedDateTime": "2024-01-01T00:00:00Z", "request": {"method": "POST", "url": "https://api.example.test/pay",
             "headers": [{"name": "Authorization", "value": f"Bearer {keys['har']}"}]}, "response": {"status": 200}}]}}),
    }
    source = f'export const stripe = "{keys["bundle-map"]}";\n'
    source_map = {"version": 3, "sources": ["../src/pay.js"], "sourcesContent": [source], "mappings": "AAAA", "names": []}
    padding = ";".join(f"var v{i}=function(a){{return a*{i}}}" for i in range(120))
    files["dist/app.js"] = (f'{padding};var k="{keys["bundle"]}";\n'
                            f"//# sourceMappingURL=data:application/json;base64,{b64(json.dumps(source_map))}\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "release").mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(root / "release" / "bundle.zip", "w") as archive:
        archive.writestr("config/.env", f"STRIPE_SECRET_KEY={keys['zip']}\n")
    data = f'STRIPE_KEY = "{keys["tar"]}"\n'.encode()
    with tarfile.open(root / "release" / "app.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("app/settings.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return keys


def found(stdout: str) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["secret_sha256"], f["path"]) for f in json.loads(stdout)["findings"]}


@pytest.mark.slow
def test_git_finds_in_history_what_scan_finds_in_the_tree(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    keys = write_fixtures(repo.path, random.Random(12))
    tree = run_keysweep("scan", ".", "--format", "json", cwd=repo.path)
    assert tree.returncode == 1, tree.stderr
    in_tree = found(tree.stdout)
    added = repo.commit("add fixtures")
    repo.commit("delete them", remove=tuple(str(p.relative_to(repo.path)) for p in repo.path.rglob("*")
                                             if p.is_file() and ".git" not in p.parts))
    history = run_keysweep("git", str(repo.path), "--format", "json")
    assert history.returncode == 1, history.stderr
    in_history = found(history.stdout)
    assert in_history == in_tree
    import hashlib

    # every planted key (the Basic header is also reported whole, as generic.authorization-basic)
    assert {sha for _, sha, _ in in_history} >= {hashlib.sha256(k.encode()).hexdigest() for k in keys.values()}
    findings = json.loads(history.stdout)["findings"]
    assert {f["commit"] for f in findings} == {added}
    assert not any(f["in_head"] for f in findings)
    paths = {f["path"] for f in findings}
    assert {"release/bundle.zip!config/.env", "release/app.tar.gz!app/settings.py", "src/pay.js"} <= paths


@pytest.mark.slow
def test_history_names_an_archive_member_at_every_path_the_blob_was_added(tmp_path: Path) -> None:
    """One zip blob committed at two paths: one finding, both locations, each with its member name."""
    repo = GitRepo(tmp_path / "repo")
    key = live_key(random.Random(3))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(".env", f"STRIPE_SECRET_KEY={key}\n")
    repo.commit("one", {"a/site.zip": ""})
    (repo.path / "a" / "site.zip").write_bytes(buffer.getvalue())
    (repo.path / "b").mkdir()
    (repo.path / "b" / "copy.zip").write_bytes(buffer.getvalue())
    repo.commit("two")
    result = run_keysweep("git", str(repo.path), "--format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert sorted(loc["path"] for loc in finding["locations"]) == ["a/site.zip!.env", "b/copy.zip!.env"]
