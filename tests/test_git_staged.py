"""`keysweep git --staged`: only what the index adds relative to HEAD, lines as in the staged file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_keysweep
from gitutil import GitRepo, isolated_scanner
from scanner.config import parse_config
from scanner.sources.git import git_report
from scanner.sources.gitrepo import Repo

OLD_KEY = "sk_live_Ow2gLqBkV9AtfNw7zRmJcpX4YsE1"
NEW_KEY = "sk_live_h3JqTn8CkWp5VzLr2MxBfG7sYdUe"
OTHER_KEY = "sk_live_Qm6RbT2wLc9XjHn4VpKsZ8dFgA3e"


def staged(repo: GitRepo, tmp_path: Path, config_text: str | None = None) -> list[tuple[str, int, str]]:
    config = None
    if config_text is not None:
        import tomllib

        config = parse_config(tomllib.loads(config_text), root=repo.path, source="test")
    report = git_report(Repo(repo.path), scanner=isolated_scanner(tmp_path, config), staged=True)
    return sorted((f.path, f.line, f.secret) for f in report.findings)


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("base", {"settings.py": f"A = 1\nKEY = '{OLD_KEY}'\n", "clean.txt": "nothing\n"})
    return repo


def test_key_already_committed_is_not_reported_again(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("settings.py", f"# a comment\nA = 1\nKEY = '{OLD_KEY}'\nB = 2\n")
    repo.git("add", "settings.py")
    assert staged(repo, tmp_path) == []


def test_line_numbers_are_the_staged_files(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("settings.py", f"A = 1\nKEY = '{OLD_KEY}'\n\nNEW = '{NEW_KEY}'\n")
    repo.git("add", "settings.py")
    # Unstaged edits above the key shift the working tree's lines, not the staged file's.
    repo.write("settings.py", f"\n\n\n\nA = 1\nKEY = '{OLD_KEY}'\n\nNEW = '{NEW_KEY}'\n")
    assert staged(repo, tmp_path) == [("settings.py", 4, NEW_KEY)]


def test_unstaged_key_is_not_scanned(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("clean.txt", f"{NEW_KEY}\n")
    assert staged(repo, tmp_path) == []


def test_a_renamed_file_is_compared_with_its_old_self(repo: GitRepo, tmp_path: Path) -> None:
    (repo.path / "config").mkdir()
    repo.git("mv", "settings.py", "config/settings.py")
    assert staged(repo, tmp_path) == []


def test_new_file_with_unusual_name(repo: GitRepo, tmp_path: Path) -> None:
    repo.write(b"dir with space/caf\xe9 \xff.env", f"X=1\nSTRIPE={NEW_KEY}\n")
    repo.git("add", "-A")
    assert staged(repo, tmp_path) == [("dir with space/caf\\xe9 \\xff.env", 2, NEW_KEY)]


def test_first_commit_has_no_head_to_compare_with(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "fresh")
    repo.write("a.txt", f"{NEW_KEY}\n")
    repo.git("add", "a.txt")
    assert staged(repo, tmp_path) == [("a.txt", 1, NEW_KEY)]


def test_deleting_a_file_with_a_key_is_clean(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("rm", "-q", "settings.py")
    assert staged(repo, tmp_path) == []


def test_binary_and_oversized_files_are_skipped_by_size_and_name(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("logo.png", f"{NEW_KEY}\n")
    repo.write("blob.dat", b"\0\1\2" + NEW_KEY.encode())
    repo.write("big.txt", "x" * 2000 + f"\n{OTHER_KEY}\n")
    repo.git("add", "-A")
    config = isolated_scanner(tmp_path, parse_config({"scan": {"max_file_size": 1000}}, root=repo.path, source="t"))
    report = git_report(Repo(repo.path), scanner=config, staged=True)
    assert report.findings == []
    assert report.stats.skipped == {"binary": 2, "too large": 1}
    assert any("big.txt" in w and "over the 1000-byte limit" in w for w in report.stats.warnings)


def test_allowed_line_and_excluded_path(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("fixture.py", f"KEY = '{NEW_KEY}'  # keysweep:allow\n")
    repo.write("vendor/lib.js", f"k='{OTHER_KEY}'\n")
    repo.git("add", "-A")
    assert staged(repo, tmp_path, '[scan]\nexclude = ["vendor/**"]\n') == []


@pytest.mark.slow
def test_cli_blocks_with_a_readable_redacted_message(repo: GitRepo) -> None:
    repo.write("app.py", f"import x\n\nstripe.api_key = '{NEW_KEY}'\n")
    repo.git("add", "app.py")
    result = run_keysweep("git", "--staged", cwd=repo.path)
    assert result.returncode == 1
    assert "app.py:3:" in result.stdout and "stripe.secret-key" in result.stdout
    assert NEW_KEY not in result.stdout + result.stderr
    assert "commit blocked" in result.stderr
    rows = json.loads(run_keysweep("git", "--staged", "--format", "json", cwd=repo.path).stdout)["findings"]
    assert [(r["path"], r["line"], r["source"], r["commit"], r["staged"]) for r in rows] == [
        ("app.py", 3, "git", None, True)
    ]


@pytest.mark.slow
def test_cli_clean_index_exits_zero(repo: GitRepo) -> None:
    repo.write("clean.txt", "still nothing\n")
    repo.git("add", "clean.txt")
    result = run_keysweep("git", "--staged", cwd=repo.path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_concluding_a_merge_does_not_report_the_other_branchs_keys(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side adds a key", {"side.py": f"K = '{OTHER_KEY}'\n", "settings.py": f"A = 2\nKEY = '{OLD_KEY}'\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main edits", {"settings.py": f"A = 1\nKEY = '{OLD_KEY}'\nB = 3\n"})
    repo.git("merge", "-q", "--no-commit", "side", author="Ada")
    repo.write("resolution.py", f"R = '{NEW_KEY}'\n")
    repo.git("add", "resolution.py")
    # side.py arrives from the merged branch, already committed there; only the resolution adds a key.
    assert staged(repo, tmp_path) == [("resolution.py", 1, NEW_KEY)]
