"""Private-key rules on keys made by the real tools (openssl, ssh-keygen, gpg): each key is found
once, as its whole BEGIN…END block, also when the block sits in a JSON string; public material
and truncated blocks are not findings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.rules import load_rules

SCANNER = Scanner(engine=Engine(load_rules()), config=Config())
BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S)

OPENSSL_KEYS = {
    "pkcs8-rsa": (["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], "private-key.pem"),
    "pkcs1-rsa-4096": (["genrsa", "-traditional", "4096"], "private-key.pem"),
    "sec1-ec": (["ecparam", "-genkey", "-name", "prime256v1", "-noout"], "private-key.pem"),
    "pkcs8-encrypted": (
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:horse-battery"],
        "private-key.pem-encrypted",
    ),
    "pkcs1-proc-type-encrypted": (
        ["genrsa", "-traditional", "-aes128", "-passout", "pass:horse-battery", "2048"],
        "private-key.pem-encrypted",
    ),
}


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def scan(text: str, path: str = "key.pem") -> list[Finding]:
    return SCANNER.scan(Chunk(text=text, path=path))


def key_findings(text: str, path: str = "key.pem") -> list[Finding]:
    return [f for f in scan(text, path) if f.rule_id.startswith("private-key.")]


def ssh_key(tmp_path: Path, name: str, *args: str) -> str:
    need("ssh-keygen")
    run("ssh-keygen", "-q", "-N", "", "-C", f"{name}@ci", "-f", str(tmp_path / name), *args)
    return (tmp_path / name).read_text()


@pytest.mark.slow
@pytest.mark.external
@pytest.mark.parametrize("kind", sorted(OPENSSL_KEYS))
def test_openssl_key_is_found_as_its_whole_block(kind: str) -> None:
    args, rule_id = OPENSSL_KEYS[kind]
    pem = run(need("openssl"), *args)
    found = scan(pem)
    assert [f.rule_id for f in found] == [rule_id]
    assert found[0].secret == BLOCK.search(pem).group(0)  # type: ignore[union-attr]


@pytest.mark.external
@pytest.mark.parametrize("kind", ["pkcs8-rsa", "pkcs1-proc-type-encrypted"])
def test_key_in_a_json_string_is_found_with_its_escapes(kind: str) -> None:
    args, rule_id = OPENSSL_KEYS[kind]
    pem = run(need("openssl"), *args)
    document = json.dumps({"name": "deploy", "private": pem}, indent=2)
    found = scan(document, "deploy.json")
    assert [f.rule_id for f in found] == [rule_id]
    assert found[0].secret == BLOCK.search(pem).group(0).replace("\n", "\\n")  # type: ignore[union-attr]


@pytest.mark.external
@pytest.mark.parametrize("args", [("-t", "ed25519"), ("-t", "rsa", "-b", "3072"), ("-t", "ecdsa")])
def test_openssh_key_is_found(tmp_path: Path, args: tuple[str, ...]) -> None:
    key = ssh_key(tmp_path, "id_test", *args)
    found = scan(key, "id_test")
    assert [f.rule_id for f in found] == ["private-key.openssh"]
    assert found[0].secret == key.strip()
    assert key_findings((tmp_path / "id_test.pub").read_text(), "id_test.pub") == []


@pytest.mark.external
def test_two_keys_in_one_file_are_two_findings_with_their_own_fingerprints(tmp_path: Path) -> None:
    text = ssh_key(tmp_path, "a", "-t", "ed25519") + "\n" + ssh_key(tmp_path, "b", "-t", "ed25519")
    found = key_findings(text, "keys.txt")
    assert [f.rule_id for f in found] == ["private-key.openssh"] * 2
    assert found[0].fingerprint != found[1].fingerprint
    assert (found[0].line, found[1].line) == (1, text.splitlines().index("-----BEGIN OPENSSH PRIVATE KEY-----", 1) + 1)


@pytest.mark.external
def test_truncated_key_and_public_material_are_not_findings(tmp_path: Path) -> None:
    openssl = need("openssl")
    pem = run(openssl, *OPENSSL_KEYS["pkcs8-rsa"][0])
    (tmp_path / "key.pem").write_text(pem)
    public = run(openssl, "pkey", "-in", str(tmp_path / "key.pem"), "-pubout")
    cert = run(openssl, "req", "-x509", "-new", "-key", str(tmp_path / "key.pem"), "-subj", "/CN=keysweep test", "-days", "1")
    truncated = pem.split("-----END")[0]
    for text in (public, cert, truncated):
        assert key_findings(text) == []


@pytest.mark.external
def test_pgp_secret_key_block_is_found(tmp_path: Path) -> None:
    gpg = need("gpg")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    common = ("--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "")
    run(gpg, *common, "--quick-gen-key", "Ada Tester <ada@example.test>", "ed25519", "sign", "never")
    armored = run(gpg, *common, "--armor", "--export-secret-keys", "ada@example.test")
    public = run(gpg, "--homedir", str(home), "--armor", "--export", "ada@example.test")
    found = scan(armored, "release.asc")
    assert [f.rule_id for f in found] == ["private-key.pgp"]
    assert found[0].secret == BLOCK.search(armored).group(0)  # type: ignore[union-attr]
    assert key_findings(public, "release.pub.asc") == []
