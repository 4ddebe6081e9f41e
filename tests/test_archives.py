"""Archives: nested zips, tarballs, jars and wheels named `outer!inner!path`; zip bombs, deep
nesting and oversized members refused with a warning, never expanded."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import zipfile
from pathlib import Path

import pytest
from leaks import by_secret, live_key, location, scan, stripe_scanner, where

from scanner.config import Config
from scanner.sources.archives import MAX_DEPTH


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_nested_archives_name_every_member(tmp_path: Path) -> None:
    rng = random.Random(51)
    keys = [live_key(rng) for _ in range(5)]
    settings = f"DEBUG = False\nSTRIPE_KEY = '{keys[0]}'\n"
    log = f"2024-05-01T00:00:00Z INFO boot\n2024-05-01T00:00:01Z ERROR bad key {keys[1]}\n"
    properties = f"# prod\nstripe.key={keys[2]}\n"
    env = f"A=1\nSTRIPE={keys[3]}\n"
    bundle = "var a=1;" * 200 + f'var k="{keys[4]}";'
    inner_jar = zip_bytes({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "config/app.properties": properties.encode()})
    inner_tgz = tar_bytes({"deploy/.env": env.encode()}, "w:gz")
    inner_zip = zip_bytes({"settings.py": settings.encode(), "lib/app.jar": inner_jar, "logs/app.log.1.gz": gzip.compress(log.encode())})
    outer = zip_bytes({"release/inner.zip": inner_zip, "release/deploy.tgz": inner_tgz, "dist/app.js": bundle.encode(),
                       "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary"})
    (tmp_path / "release.zip").write_bytes(outer)

    report = scan([tmp_path / "release.zip"], stripe_scanner(config=Config(root=tmp_path)))

    found = by_secret(report.findings)
    top = str(tmp_path / "release.zip")
    expected = {
        keys[0]: (f"{top}!release/inner.zip!settings.py", "file", settings),
        keys[1]: (f"{top}!release/inner.zip!logs/app.log.1.gz", "log", log),
        keys[2]: (f"{top}!release/inner.zip!lib/app.jar!config/app.properties", "file", properties),
        keys[3]: (f"{top}!release/deploy.tgz!deploy/.env", "file", env),
        keys[4]: (f"{top}!dist/app.js", "bundle", bundle),
    }
    assert set(found) == set(expected)
    for key, (path, source, text) in expected.items():
        assert (found[key].path, found[key].source, location(found[key])) == (path, source, where(text, key))
    assert report.stats.files_scanned == 6  # the text members (the jar manifest too); archives and the PNG are not text


@pytest.mark.parametrize(("name", "mode"), [("bundle.tar", "w"), ("bundle.tar.gz", "w:gz"), ("bundle.tgz", "w:gz"),
                                            ("bundle.tar.bz2", "w:bz2"), ("bundle.tar.xz", "w:xz")])
def test_tarballs(tmp_path: Path, name: str, mode: str) -> None:
    key = live_key(random.Random(52))
    text = f"token: {key}\n"
    (tmp_path / name).write_bytes(tar_bytes({"etc/app.yaml": text.encode()}, mode))

    [finding] = scan([tmp_path / name], stripe_scanner(config=Config(root=tmp_path))).findings

    assert (finding.path, location(finding)) == (f"{tmp_path / name}!etc/app.yaml", where(text, key))


def test_wheel_is_a_zip(tmp_path: Path) -> None:
    key = live_key(random.Random(53))
    text = f'API_KEY = "{key}"\n'
    (tmp_path / "pkg-1.0-py3-none-any.whl").write_bytes(zip_bytes({"pkg/settings.py": text.encode()}))

    [finding] = scan([tmp_path], stripe_scanner(config=Config(root=tmp_path))).findings

    assert finding.path == f"{tmp_path / 'pkg-1.0-py3-none-any.whl'}!pkg/settings.py"


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    """A member that inflates far past the limit is never expanded; nor are members past the total."""
    key = live_key(random.Random(54))
    config = Config(root=tmp_path, max_file_size=1 << 20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("readme.txt", f"key {key}\n")
        with archive.open("bomb.txt", "w") as member:
            zeros = b"0" * (1 << 20)
            for _ in range(64):  # 64 MiB of zeros, deflated to ~64 KB
                member.write(zeros)
    (tmp_path / "bomb.zip").write_bytes(buffer.getvalue())
    assert (tmp_path / "bomb.zip").stat().st_size < 1 << 20

    report = scan([tmp_path / "bomb.zip"], stripe_scanner(config=config))

    assert [f.secret for f in report.findings] == [key]
    assert any("bomb.txt: skipped" in w and "over the 1048576-byte limit" in w for w in report.stats.warnings)


def test_overlapping_member_bomb_stops_at_the_total(tmp_path: Path) -> None:
    config = Config(root=tmp_path, max_file_size=1 << 16)  # 64 KiB per member, 2 MiB per archive
    members = {f"part{n:03d}.txt": b"a" * 60_000 for n in range(64)}  # ~3.8 MB expanded
    (tmp_path / "many.zip").write_bytes(zip_bytes(members))

    report = scan([tmp_path / "many.zip"], stripe_scanner(config=config))

    assert report.findings == []
    assert any("many.zip: refused: expands past 2097152 bytes in total" in w for w in report.stats.warnings)


def test_nesting_is_bounded(tmp_path: Path) -> None:
    key_at = {depth: live_key(random.Random(60 + depth)) for depth in range(1, MAX_DEPTH + 2)}
    data = b""
    for depth in range(MAX_DEPTH + 1, 0, -1):  # innermost first
        members = {f"level{depth}.txt": f"k={key_at[depth]}\n".encode()}
        if data:
            members[f"level{depth + 1}.zip"] = data
        data = zip_bytes(members)
    (tmp_path / "level1.zip").write_bytes(data)

    report = scan([tmp_path / "level1.zip"], stripe_scanner(config=Config(root=tmp_path)))

    assert {f.secret for f in report.findings} == {key_at[d] for d in range(1, MAX_DEPTH + 1)}
    assert any("nested deeper than 3" in w for w in report.stats.warnings)


def test_a_corrupt_archive_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    report = scan([tmp_path / "broken.zip"], stripe_scanner(config=Config(root=tmp_path)))
    assert report.findings == [] and any("broken.zip: cannot read archive" in w for w in report.stats.warnings)
