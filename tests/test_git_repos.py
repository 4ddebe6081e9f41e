"""Repository shapes and CI modes: bare, shallow, submodules, detached HEAD, huge blobs, not a repo,
`--range` with SARIF end to end, `--since-commit`, and `--pre-push` as git and pre-commit call it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import DATA, run_keysweep
from gitutil import GitRepo, isolated_scanner
from scanner.config import parse_config
from scanner.sources.git import git_report
from scanner.sources.git_revs import pre_push_revs
from scanner.sources.gitrepo import Repo

BASE_KEY = "sk_live_Zx4KdN9qWm2RtPb7LcVh5JsYf8Ge"
PR_KEY = "sk_live_Tr5MwQ8nXb3KcLz6VgHd2PjYs9Fa"
MAIN_KEY = "sk_live_Ne7VbK2xQw9LmRc4TzHj6PdYs3Ga"
SUB_KEY = "sk_live_Ha8PqL3vWn6XcRt2MbZk9JsYd5Fe"
NULL = "0" * 40


def secrets_in(path: Path | str, tmp_path: Path, **kwargs) -> set[tuple[str, str | None, str]]:
    report = git_report(Repo(path), scanner=isolated_scanner(tmp_path), **kwargs)
    return {(f.secret, f.commit, f.path) for f in report.findings}


@pytest.fixture()
def pr_repo(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    """main with an old key; a PR branch that adds a key, edits the old key's file, and merges main in."""
    repo = GitRepo(tmp_path / "pr")
    c = {"base": repo.commit("base", {"old.py": f"KEY = '{BASE_KEY}'\n", "app.py": "print(1)\n"})}
    repo.git("checkout", "-q", "-b", "pr")
    c["pr1"] = repo.commit("PR: payments", {"src/pay.py": f"import stripe\nstripe.api_key = '{PR_KEY}'\n"})
    c["pr2"] = repo.commit("PR: touch the old file", {"old.py": f"# old\nKEY = '{BASE_KEY}'\n"})
    repo.git("checkout", "-q", "main")
    c["main2"] = repo.commit("main: unrelated key", {"main.py": f"K = '{MAIN_KEY}'\n"})
    repo.git("checkout", "-q", "pr")
    repo.tick()
    repo.git("merge", "-q", "--no-edit", "main")
    c["merge"] = repo.rev("HEAD")
    return repo, c


@pytest.mark.slow
def test_range_with_sarif_end_to_end(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    out = tmp_path / "keysweep.sarif"
    result = run_keysweep("git", "--range", f"{c['main2']}..pr", "--format", "sarif", "-o", str(out), cwd=repo.path)
    assert result.returncode == 1, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    document = json.loads(out.read_text())
    jsonschema.validate(document, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
    results = document["runs"][0]["results"]
    # Only the PR's own key: not the base key it edited around, not main's key it merged in.
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"], r["properties"]["commit"])
            for r in results] == [("stripe.secret-key", "src/pay.py", 2, c["pr1"])]
    assert PR_KEY not in out.read_text()


def test_range_errors_are_one_line(pr_repo) -> None:
    repo, _ = pr_repo
    for spec, message in (("nope..pr", "nope: unknown revision"), ("main", "expected A..B")):
        result = run_keysweep("git", "--range", spec, cwd=repo.path)
        assert result.returncode == 2
        assert message in result.stderr and result.stderr.count("\n") == 1


def test_modes_cannot_be_combined(pr_repo) -> None:
    repo, _ = pr_repo
    result = run_keysweep("git", "--staged", "--range", "main..pr", cwd=repo.path)
    assert result.returncode == 2 and "cannot be combined" in result.stderr


@pytest.mark.slow
def test_since_commit(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    assert secrets_in(repo.path, tmp_path, revs=[repo.rev("HEAD"), f"^{c['pr1']}"]) == {
        (MAIN_KEY, c["main2"], "main.py")
    }
    result = run_keysweep("git", "--since-commit", c["pr1"], "--format", "json", cwd=repo.path)
    assert [row["commit"] for row in json.loads(result.stdout)["findings"]] == [c["main2"]]


@pytest.mark.slow
def test_pre_push_reads_git_refs_from_stdin(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    remote = GitRepo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(remote.path))
    repo.git("push", "-q", "origin", f"{c['base']}:refs/heads/main")
    repo.git("fetch", "-q", "origin")
    git_repo = Repo(repo.path)
    # Updating main from base to main2 sends main2 only.
    line = f"refs/heads/main {c['main2']} refs/heads/main {c['base']}"
    revs = pre_push_revs(git_repo, [line], remote="origin", environ={})
    assert secrets_in(repo.path, tmp_path, revs=revs) == {(MAIN_KEY, c["main2"], "main.py")}
    # A new branch sends what no remote-tracking ref has; a deletion sends nothing.
    line = f"refs/heads/pr {c['merge']} refs/heads/pr {NULL}"
    revs = pre_push_revs(git_repo, [line, f"(delete) {NULL} refs/heads/gone {c['base']}"], remote="origin", environ={})
    assert secrets_in(repo.path, tmp_path, revs=revs) == {(PR_KEY, c["pr1"], "src/pay.py"),
                                                         (MAIN_KEY, c["main2"], "main.py")}
    assert pre_push_revs(git_repo, [f"(delete) {NULL} refs/heads/gone {c['base']}"], remote="origin", environ={}) == []
    # Through the CLI, refs on standard input as the hook receives them.
    result = run_keysweep("git", "--pre-push", "--remote", "origin", "--format", "json", cwd=repo.path,
                          stdin=f"refs/heads/main {c['main2']} refs/heads/main {c['base']}\n")
    assert result.returncode == 1
    assert [r["path"] for r in json.loads(result.stdout)["findings"]] == ["main.py"]


def test_pre_push_under_the_pre_commit_framework(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    environ = {"PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": c["base"], "PRE_COMMIT_TO_REF": c["pr2"]}
    revs = pre_push_revs(Repo(repo.path), [], remote=None, environ=environ)
    assert secrets_in(repo.path, tmp_path, revs=revs) == {(PR_KEY, c["pr1"], "src/pay.py")}


def test_not_a_repository_is_a_one_line_error(tmp_path: Path) -> None:
    for target in (tmp_path, tmp_path / "missing"):
        result = run_keysweep("git", str(target))
        assert result.returncode == 2
        assert result.stderr.startswith("keysweep: error: ") and result.stderr.count("\n") == 1
        assert result.stdout == ""


def test_bare_repository(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    assert secrets_in(bare, tmp_path) == {(BASE_KEY, c["base"], "old.py"), (PR_KEY, c["pr1"], "src/pay.py"),
                                          (MAIN_KEY, c["main2"], "main.py")}


def test_detached_head(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    repo.git("checkout", "-q", "--detach", c["pr1"])
    repo.git("branch", "-q", "-D", "pr")
    found = git_report(Repo(repo.path), scanner=isolated_scanner(tmp_path)).findings
    assert {f.secret for f in found} == {BASE_KEY, PR_KEY, MAIN_KEY}
    # The default branch is main, where the PR key never landed.
    assert {f.secret: f.extra["in_head"] for f in found} == {BASE_KEY: True, PR_KEY: False, MAIN_KEY: True}


def test_shallow_clone_scans_what_is_there_and_says_so(pr_repo, tmp_path: Path) -> None:
    repo, c = pr_repo
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "1", "--branch", "main", f"file://{repo.path}", str(clone))
    report = git_report(Repo(clone), scanner=isolated_scanner(tmp_path))
    assert {(f.secret, f.commit) for f in report.findings} == {(BASE_KEY, c["main2"]), (MAIN_KEY, c["main2"])}
    assert any(w.startswith("shallow clone") for w in report.stats.warnings)
    assert report.extra_stats["shallow"] is True


def test_submodules_are_skipped_and_named(tmp_path: Path) -> None:
    sub = GitRepo(tmp_path / "sub")
    sub.commit("sub", {"s.txt": f"{SUB_KEY}\n"})
    repo = GitRepo(tmp_path / "super")
    repo.commit("first", {"a.txt": "a\n"})
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendor/sub")
    repo.commit("add submodule")
    report = git_report(Repo(repo.path), scanner=isolated_scanner(tmp_path))
    assert report.findings == []
    assert report.stats.skipped["submodule"] == 1
    assert report.stats.warnings == ["vendor/sub: submodule skipped; scan its repository separately"]


def test_huge_blob_in_history_is_skipped_by_size(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "huge")
    repo.commit("dump", {"dump.sql": "x" * 5000 + f"\n{BASE_KEY}\n", "small.txt": f"{MAIN_KEY}\n"})
    config = parse_config({"scan": {"max_file_size": 4096}}, root=repo.path, source="test")
    report = git_report(Repo(repo.path), scanner=isolated_scanner(tmp_path, config))
    assert [f.secret for f in report.findings] == [MAIN_KEY]
    assert report.stats.skipped["too large"] == 1
    assert any("dump.sql" in w and "4096-byte limit" in w for w in report.stats.warnings)


@pytest.mark.slow
def test_empty_repository_is_clean(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")
    result = run_keysweep("git", cwd=repo.path)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_progress_goes_to_stderr_only_on_a_terminal(pr_repo) -> None:
    import os
    import pty
    import subprocess
    import sys

    repo, _ = pr_repo
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "scanner", "git", "--format", "json"], cwd=repo.path,
                               stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        shown += data
    stdout = process.communicate()[0]
    os.close(leader)
    assert b"commits" in shown and b"MB/s" in shown
    assert b"MB/s" not in stdout and json.loads(stdout)["findings"]
    # Not a terminal: silent (the other tests capture stderr and see nothing).
    assert run_keysweep("git", "--format", "json", cwd=repo.path).stderr == ""


def test_every_stash_entry_is_scanned_not_only_the_newest(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "stashes")
    repo.commit("base", {"a.py": "A = 1\n"})
    repo.write("a.py", f"A = '{BASE_KEY}'\n")
    repo.git("stash", "-q")
    repo.write("a.py", f"A = '{MAIN_KEY}'\n")
    repo.git("add", "a.py")  # staged when stashed: it lives in the stash's index commit too
    repo.git("stash", "-q")
    found = {f.secret: f for f in git_report(Repo(repo.path), scanner=isolated_scanner(tmp_path)).findings}
    assert set(found) == {BASE_KEY, MAIN_KEY}
    assert found[BASE_KEY].commit == repo.rev("stash@{1}")
    assert found[MAIN_KEY].extra["message"].startswith("index on main")
