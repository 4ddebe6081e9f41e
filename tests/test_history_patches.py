"""History read by patches finds exactly what history read blob by blob finds.

`keysweep git` settles most modifications from their patch (scanner/sources/git_patches.py) and
reads a change whole only when a match touches its changed lines. These tests hold the two readings
side by side on real repositories: random histories of edits that add, move, change and remove
keys in large files, and the inputs a patch parser gets wrong (text that looks like a diff header,
CRLF, no final newline, non-UTF-8 bytes, files git calls binary, renames)."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from conftest import run_keysweep
from gitutil import GitRepo
from leaks import live_key
from scanner.assemble import build_scanner
from scanner.config import Config
from scanner.progress import Progress
from scanner.report import ScanStats
from scanner.sources.git_history import HistoryResult, scan_commits
from scanner.sources.git_patches import FilePatch, changed_spans, file_patches
from scanner.sources.git_revs import all_refs
from scanner.sources.gitrepo import Repo

BASE62 = string.ascii_letters + string.digits
WORDS = ["return", "value", "config", "request", "token_count", "password_hint", "résumé", "日本語", "key", "user"]


def noise_line(rng: random.Random) -> str:
    return "    " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))


def aws_pair(rng: random.Random) -> list[str]:
    key_id = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(rng.choice(BASE62 + "/+") for _ in range(40))
    return [f'aws_access_key_id = "{key_id}"', f'aws_secret_access_key = "{secret}"']


def pem_block(rng: random.Random) -> list[str]:
    body = ["".join(rng.choice(BASE62 + "/+") for _ in range(64)) for _ in range(8)]
    return ['KEY = """-----BEGIN RSA PRIVATE KEY-----', *body, '-----END RSA PRIVATE KEY-----"""']


def key_lines(rng: random.Random) -> list[str]:
    kind = rng.randrange(5)
    if kind == 0:
        return [f'STRIPE_SECRET_KEY = "{live_key(rng)}"']
    if kind == 1:
        return [f'headers = {{"Authorization": "Bearer {"".join(rng.choice(BASE62) for _ in range(40))}"}}']
    if kind == 2:
        return aws_pair(rng)
    if kind == 3:
        return pem_block(rng)
    return [f"slack = 'xoxb-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**11, 10**12)}-"
            f"{''.join(rng.choice(BASE62) for _ in range(24))}'"]


class History:
    """A random history of edits to a few large files, with keys coming, moving, changing and going.

    A file is a list of units: a noise line, or the lines of one key (a PEM block, an AWS pair), which
    edits move, copy and delete whole. What no history does, inserting a line of text into the middle
    of a PEM body, is the one change only `--whole-blobs` sees (git_patches.py)."""

    FILES = ["src/app.py", "src/util.py", "docs/guide.md", "src/crlf.py"]

    def __init__(self, repo: GitRepo, rng: random.Random) -> None:
        self.repo, self.rng = repo, rng
        self.files = {name: [[noise_line(rng)] for _ in range(rng.randint(80, 200))] for name in self.FILES}

    def edit(self) -> None:
        rng = self.rng
        units = self.files[rng.choice(sorted(self.files))]
        action = rng.randrange(8)
        at = rng.randrange(len(units) + 1)
        if action <= 1:
            units.insert(at, key_lines(rng))
        elif action == 2 and units:  # change one character of a line (a key there becomes another key)
            unit = rng.choice(units)
            i = rng.randrange(len(unit))
            if len(unit[i]) > 10:
                j = rng.randrange(4, len(unit[i]))
                unit[i] = unit[i][:j] + rng.choice(BASE62) + unit[i][j + 1:]
        elif action == 3 and len(units) > 10:  # move a run: the keys in it are not added again
            start = rng.randrange(len(units) - 5)
            run = units[start:start + rng.randint(1, 12)]
            del units[start:start + len(run)]
            at = rng.randrange(len(units) + 1)
            units[at:at] = run
        elif action == 4 and len(units) > 10:
            start = rng.randrange(len(units) - 3)
            del units[start:start + rng.randint(1, 6)]
        elif action == 5 and units:  # copy a unit to another file
            other = self.files[rng.choice(sorted(self.files))]
            other.insert(rng.randrange(len(other) + 1), list(rng.choice(units)))
        elif action == 6 and units:  # drop one line of a unit: a PEM body line, half an AWS pair
            unit = rng.choice(units)
            if len(unit) > 1:
                del unit[rng.randrange(len(unit))]
        else:
            units[at:at] = [[noise_line(rng)] for _ in range(rng.randint(1, 5))]

    def write(self) -> None:
        for name, units in self.files.items():
            text = "\n".join(line for unit in units for line in unit)
            text += "\n" if name != "src/util.py" else ""  # util.py: no final newline
            if name.endswith("crlf.py"):
                text = text.replace("\n", "\r\n")
            self.repo.write(name, text)

    def rename(self) -> None:
        old = self.rng.choice(sorted(self.files))
        if old.endswith("crlf.py"):
            return
        new = old.replace(".", f"_{len(self.files)}.", 1)
        self.repo.git("mv", old, new)
        self.files[new] = self.files.pop(old)


def both_readings(path: Path, *, keep_suppressed: bool = False) -> tuple[HistoryResult, HistoryResult]:
    repo = Repo(path)
    scanner = build_scanner(Config(root=path), keep_suppressed=keep_suppressed)
    return tuple(scan_commits(repo, all_refs(repo), scanner=scanner, stats=ScanStats(), progress=Progress(enabled=False),
                              whole_blobs=whole) for whole in (False, True))  # type: ignore[return-value]


def places(result: HistoryResult) -> set[tuple[str, str, str, str, int]]:
    return {(rule, secret, loc.commit.sha, loc.path, loc.finding.line)
            for (rule, secret), locs in result.locations.items() for loc in locs}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_random_histories_find_the_same_keys_by_patch_and_by_blob(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    repo = GitRepo(tmp_path / "repo")
    history = History(repo, rng)
    for number in range(40):
        for _ in range(rng.randint(1, 3)):
            history.edit()
        history.write()
        if number and rng.random() < 0.08:
            history.rename()
        repo.commit(f"change {number}")
    by_patch, by_blob = both_readings(repo.path, keep_suppressed=seed % 2 == 1)
    assert places(by_patch) == places(by_blob)
    assert by_patch.in_head == by_blob.in_head
    assert len(by_patch.locations) >= 5  # the histories do add keys
    assert by_patch.patches > 0 and by_patch.blobs < by_blob.blobs  # and most modifications were settled by patch


@pytest.mark.slow
def test_patch_reading_survives_what_a_diff_parser_gets_wrong(tmp_path: Path) -> None:
    rng = random.Random(7)
    repo = GitRepo(tmp_path / "repo")
    padding = "\n".join(noise_line(rng) for _ in range(60))
    ascii_padding = "\n".join(f"    value_{i} = {i}" for i in range(60))
    header_like = "diff --git a/x b/x\n@@ -1,3 +1,40 @@\n\x01deadbeef\nindex 0000..1111 100644\n+++ b/x\n"
    repo.commit("base", {
        "src/tricky.py": padding + "\n" + header_like + padding + "\n",
        "src/nul.py": "\0binary\n" + padding + "\n",
        "src/attr.py": padding + "\n",
        ".gitattributes": "src/attr.py -diff\n",
        "src/old name.py": padding + "\n",
    })
    (repo.path / "src" / "latin.py").write_bytes((ascii_padding + "\ncaf\xe9 = 1\n").encode("latin-1"))
    repo.commit("latin-1 bytes")
    keys = [live_key(rng) for _ in range(6)]
    repo.write("src/tricky.py", padding + "\n" + header_like + f'STRIPE_KEY = "{keys[0]}"\n' + header_like + padding + "\n")
    (repo.path / "src" / "latin.py").write_bytes((ascii_padding + f'\ncaf\xe9 = "{keys[1]}"\n').encode("latin-1"))
    repo.write("src/nul.py", "\0binary\n" + padding + f'\nSTRIPE_KEY = "{keys[2]}"\n')
    repo.write("src/attr.py", padding + f'\nSTRIPE_KEY = "{keys[3]}"\n')
    repo.git("mv", "src/old name.py", "src/new\tname.py")
    repo.write("src/new\tname.py", padding + f'\nSTRIPE_KEY = "{keys[4]}"\n')
    repo.commit("keys")
    by_patch, by_blob = both_readings(repo.path)
    assert places(by_patch) == places(by_blob)
    assert {secret for _, secret in by_patch.locations} >= {keys[0], keys[1], keys[3], keys[4]}


@pytest.mark.slow
def test_a_change_next_to_a_key_does_not_add_it_again(tmp_path: Path) -> None:
    rng = random.Random(8)
    repo = GitRepo(tmp_path / "repo")
    key = live_key(rng)
    lines = [noise_line(rng) for _ in range(50)]
    lines[25] = f'STRIPE_KEY = "{key}"'
    first = repo.commit("add", {"app.py": "\n".join(lines) + "\n"})
    lines[24] = "    # the key below is rotated monthly"
    lines[26] = noise_line(rng)
    repo.commit("edit around it", {"app.py": "\n".join(lines) + "\n"})
    by_patch, _ = both_readings(repo.path)
    [(commit, path)] = {(loc.commit.sha, loc.path) for locs in by_patch.locations.values() for loc in locs}
    assert (commit, path) == (first, "app.py")


@pytest.mark.slow
def test_the_cli_reads_patches_and_says_so(tmp_path: Path) -> None:
    rng = random.Random(9)
    repo = GitRepo(tmp_path / "repo")
    lines = [noise_line(rng) for _ in range(100)]
    repo.commit("base", {"app.py": "\n".join(lines) + "\n"})
    key = live_key(rng)
    lines.insert(60, f'STRIPE_KEY = "{key}"')
    added = repo.commit("key", {"app.py": "\n".join(lines) + "\n"})
    lines.insert(10, noise_line(rng))
    repo.commit("unrelated", {"app.py": "\n".join(lines) + "\n"})
    reports = {}
    for mode in ((), ("--whole-blobs",)):
        result = run_keysweep("git", str(repo.path), "--format", "json", *mode)
        assert result.returncode == 1, result.stderr
        reports[mode] = json.loads(result.stdout)
    [finding] = reports[()]["findings"]
    assert (finding["commit"], finding["line"], finding["in_head"]) == (added, 61, True)
    assert reports[()]["findings"] == reports[("--whole-blobs",)]["findings"]
    assert reports[()]["stats"]["patches_scanned"] == 2
    assert reports[("--whole-blobs",)]["stats"]["patches_scanned"] == 0


def test_added_lines_and_the_places_they_changed() -> None:
    body = (b"@@ -2 +2 @@ def f():\n-old\n+new two\n"
            b"@@ -5,2 +4,0 @@\n-gone\n-gone too\n"
            b"@@ -9,0 +8,2 @@\n+-looks removed\n++looks like a header\n\\ No newline at end of file\n")
    patch = FilePatch(("c" * 40, "a" * 40, "b" * 40), "f.py", body)
    assert patch.added == b"new two\n-looks removed\n+looks like a header\n"
    text = "l1\nnew two\nl3\nl4\nl5\nl6\nl7\n-looks removed\n+looks like a header"
    spans = changed_spans(text, body)
    assert [text[start:end] for start, end in spans] == ["new two", "", "-looks removed\n+looks like a header"]
    assert spans[1][0] == text.index("l5")  # lines were removed after line 4


def test_file_patches_are_named_by_their_blobs_and_binary_ones_have_no_hunks() -> None:
    old, new, other = "a" * 40, "b" * 40, "c" * 40
    output = (f"\x01{'1' * 40}\n\ndiff --git a/x b/x\nindex {old}..{new} 100644\n--- a/x\n+++ b/x\n"
              f"@@ -1 +1 @@\n-one\n+diff --git a/y b/y\n"
              f"diff --git a/bin b/bin\nindex {new}..{other} 100644\nBinary files a/bin and b/bin differ\n").encode()
    patches = list(file_patches(output))
    assert [key for key, _ in patches] == [("1" * 40, old, new), ("1" * 40, new, other)]
    assert patches[0][1] == b"@@ -1 +1 @@\n-one\n+diff --git a/y b/y"
    assert patches[1][1] is None
