"""Kerberos keytabs are binary: keysweep reads each entry's key into a line the keytab rule matches,
in a working tree and in history, and leaves files that only claim the name alone."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from conftest import run_keysweep
from gitutil import GitRepo

from scanner.sources.keytab import NotAKeytab, keytab_lines


def counted(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def keytab(*entries: tuple[list[bytes], bytes, int, int, bytes], version: int = 2) -> bytes:
    out = bytes([5, version])
    for components, realm, kvno, enctype, key in entries:
        count = len(components) + (1 if version == 1 else 0)
        body = (struct.pack(">H", count) + counted(realm) + b"".join(counted(c) for c in components)
                + (struct.pack(">I", 1) if version == 2 else b"") + struct.pack(">I", 1714560000)
                + bytes([kvno]) + struct.pack(">H", enctype) + counted(key))
        out += struct.pack(">i", len(body)) + body
    return out


KEY_A, KEY_B = os.urandom(32), os.urandom(16)
TWO_ENTRIES = keytab(([b"HTTP", b"web.acme.test"], b"ACME.TEST", 3, 18, KEY_A), ([b"svc"], b"ACME.TEST", 2, 17, KEY_B))


def test_entries_become_lines() -> None:
    assert keytab_lines(TWO_ENTRIES) == [
        f"kerberos keytab entry: principal=HTTP/web.acme.test@ACME.TEST kvno=3 enctype=18 key={KEY_A.hex()}",
        f"kerberos keytab entry: principal=svc@ACME.TEST kvno=2 enctype=17 key={KEY_B.hex()}",
    ]
    version1 = keytab(([b"svc"], b"ACME.TEST", 2, 17, KEY_B), version=1)
    assert keytab_lines(version1) == [f"kerberos keytab entry: principal=svc@ACME.TEST kvno=2 enctype=17 key={KEY_B.hex()}"]


@pytest.mark.parametrize("data", [b"", b"\x00\x01binary", TWO_ENTRIES[:-5], b"\x05\x02\x00\x00\x00\x40short"])
def test_what_is_not_a_whole_keytab_is_refused(data: bytes) -> None:
    with pytest.raises(NotAKeytab):
        keytab_lines(data)


@pytest.mark.slow
def test_a_keytab_in_the_tree_and_in_history(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    (repo.path / "deploy").mkdir()
    (repo.path / "deploy" / "http.keytab").write_bytes(TWO_ENTRIES)
    (repo.path / "deploy" / "fake.keytab").write_bytes(b"\x00\x00not a keytab")
    tree = run_keysweep("scan", ".", "--format", "json", cwd=repo.path)
    assert tree.returncode == 1
    found = json.loads(tree.stdout)["findings"]
    assert [(f["rule_id"], f["path"], f["line"]) for f in found] == [
        ("kerberos.keytab-key", "deploy/http.keytab", 1), ("kerberos.keytab-key", "deploy/http.keytab", 2)]
    added = repo.commit("add keytab")
    repo.commit("remove it", remove=("deploy/http.keytab", "deploy/fake.keytab"))
    history = json.loads(run_keysweep("git", str(repo.path), "--format", "json").stdout)["findings"]
    assert {(f["rule_id"], f["commit"]) for f in history} == {("kerberos.keytab-key", added)}
    assert len(history) == 2
