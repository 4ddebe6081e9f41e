"""Kerberos keytabs: binary files of (principal, key) entries that authenticate as a service or user
without a password. Each entry becomes one text line a rule can read:

    kerberos keytab entry: principal=HTTP/web.acme.test@ACME.TEST kvno=3 enctype=18 key=<hex>

Format (versions 0x0501 and 0x0502):
https://web.mit.edu/kerberos/krb5-latest/doc/formats/keytab_file_format.html
"""

from __future__ import annotations

MAGIC = (b"\x05\x01", b"\x05\x02")
MAX_ENTRIES = 1000


class NotAKeytab(ValueError):
    """The bytes do not parse as a keytab."""


def is_keytab(data: bytes) -> bool:
    return data[:2] in MAGIC


def keytab_lines(data: bytes) -> list[str]:
    """One line per key entry; NotAKeytab when the bytes are not a keytab."""
    if not is_keytab(data):
        raise NotAKeytab("no keytab magic")
    version = data[1]
    reader = _Reader(data, 2)
    lines: list[str] = []
    while reader.left() >= 4 and len(lines) < MAX_ENTRIES:
        size = reader.int(4, signed=True)
        if size < 0:  # a hole left by a deleted entry
            reader.skip(-size)
            continue
        entry = _Reader(reader.take(size), 0)
        lines.append(_entry_line(entry, version))
    return lines


def _entry_line(entry: _Reader, version: int) -> str:
    components = entry.int(2) - (1 if version == 1 else 0)  # version 1 counts the realm too
    realm = entry.text()
    names = [entry.text() for _ in range(components)]
    if version == 2:
        entry.skip(4)  # name type
    entry.skip(4)  # timestamp
    kvno = entry.int(1)
    enctype = entry.int(2)
    key = entry.take(entry.int(2))
    return f"kerberos keytab entry: principal={'/'.join(names)}@{realm} kvno={kvno} enctype={enctype} key={key.hex()}"


class _Reader:
    def __init__(self, data: bytes, position: int) -> None:
        self.data = data
        self.position = position

    def left(self) -> int:
        return len(self.data) - self.position

    def take(self, count: int) -> bytes:
        if count < 0 or count > self.left():
            raise NotAKeytab("entry runs past the end")
        piece = self.data[self.position : self.position + count]
        self.position += count
        return piece

    def skip(self, count: int) -> None:
        self.take(count)

    def int(self, size: int, *, signed: bool = False) -> int:
        return int.from_bytes(self.take(size), "big", signed=signed)

    def text(self) -> str:
        raw = self.take(self.int(2))
        return "".join(c if c.isprintable() and c not in " =" else "?" for c in raw.decode("utf-8", "replace"))
