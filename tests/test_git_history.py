"""History scans of a real repository: every ref, whole-file context, provenance for every finding.

The repository is built once per module with pinned dates (one day per commit from 2024-01-01)
and authors; every key in it is a random string made for this test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_keysweep
from gitutil import GitRepo, isolated_scanner, pair_rules_file
from scanner.sources.git import git_report
from scanner.sources.gitrepo import Repo

K_REMOVED = "sk_live_LuSYohDYTEvIfsBtpJsemhaowTRb"
K_UNMERGED = "sk_live_DZSJwznzbed2baEWzSEHa7PopwT5"
K_MERGED = "sk_live_G7azIy4Kza4NFdTr2O2iRaGX6xcB"
K_EVIL_MERGE = "sk_live_fqJ2qeGWSyAmAv7vxALBGFOaGo4N"
K_TAG_ONLY = "sk_live_Bb2RMV7sA7cizLPHltOdmO4zmHxe"
K_STASH = "sk_live_wEf8laEjUAKLvA6tItN7NkvQR7Qv"
K_NOTE = "sk_live_WaJGi0TcQtXTiVXYXshSGIgiEB1T"
K_ODD_NAME = "sk_live_VrZtr0h1I1KcgvGBXVFHZNWGDOnq"
PAIR_ID, PAIR_ID_ROTATED = "TCK1CQPOLWA9Q4OH7XN", "TCKVFSI1XTTM3R701IV"
PAIR_SECRET = "fksF6vnlSwJl+PwEju/RkuUTvcwRmotVBsFH/Ay6"
DAY = 86400
JAN = {n: 1_704_067_200 + n * DAY for n in range(40)}  # JAN[n]: n days after 2024-01-01


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build the repository; return the sha of each interesting commit (and its path as 'path')."""
    repo = GitRepo(tmp_path_factory.mktemp("history") / "repo")
    c: dict[str, str] = {"path": str(repo.path)}
    c["added"] = repo.commit("Add config", {
        "README.md": "# demo\n",
        "app/config.py": f'DEBUG = False\n\nSTRIPE_KEY = "{K_REMOVED}"\n',
    }, author="Ada")
    c["removed"] = repo.commit("Read the key from the environment\n\nLonger body.", {
        "app/config.py": 'import os\n\nSTRIPE_KEY = os.environ["STRIPE_KEY"]\n',
        "deploy/creds.env": f"TESTCORP_KEY_ID = {PAIR_ID}\nTESTCORP_SECRET = <set me>\n",
    }, author="Bob")
    # Only the secret line changes: the rule needs the id line above it, which this commit did not touch.
    c["pair"] = repo.commit("Fill in the deploy secret", {
        "deploy/creds.env": f"TESTCORP_KEY_ID = {PAIR_ID}\nTESTCORP_SECRET = {PAIR_SECRET}\n",
    }, author="Cy")
    repo.git("checkout", "-q", "-b", "feature")
    c["unmerged"] = repo.commit("Feature work", {"feature.py": f"\n\n\n\nKEY = '{K_UNMERGED}'\n"}, author="Dee")
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "topic")
    c["topic"] = repo.commit("Topic work", {"topic.txt": f"key: {K_MERGED}\n"}, author="Eve")
    repo.git("checkout", "-q", "main")
    c["main_side"] = repo.commit("Main moves on", {"CHANGES.md": "- nothing secret\n"})
    repo.tick()
    repo.git("merge", "-q", "--no-ff", "--no-commit", "topic", author="Fay")
    repo.write("merge.txt", f"resolved with {K_EVIL_MERGE}\n")
    repo.git("add", "merge.txt")
    repo.git("commit", "-q", "-m", "Merge topic", author="Fay")
    c["merge"] = repo.rev("HEAD")
    # A rename carries the key along without adding it; the same key pasted in a second file does add it.
    (repo.path / "docs").mkdir()
    repo.git("mv", "topic.txt", "docs/topic.txt")
    c["rename"] = repo.commit("Move topic notes; copy the key", {"docs/notes.md": f"intro\nsee {K_MERGED}\n"})
    # Only the id line changes now: the secret was already there, so nothing new is added.
    c["rotate_id"] = repo.commit("Rotate key id", {
        "deploy/creds.env": f"TESTCORP_KEY_ID = {PAIR_ID_ROTATED}\nTESTCORP_SECRET = {PAIR_SECRET}\n",
    })
    odd = b"odd dir/na\xefve name\nwith newline.txt"
    repo.write(odd, f"{K_ODD_NAME}\n")
    c["odd"] = repo.commit("Odd file name")
    repo.git("rm", "-r", "-q", "--", "odd dir")
    c["odd_gone"] = repo.commit("Remove odd file")
    # A commit reachable from a tag only.
    repo.git("checkout", "-q", "--detach")
    c["tag_only"] = repo.commit("Release candidate", {"tagged.txt": f"x\n{K_TAG_ONLY}\n"}, author="Gus")
    repo.git("tag", "-a", "-m", "rc", "v1.0-rc")
    repo.git("checkout", "-q", "main")
    # A stash holding an uncommitted key, and a note holding one.
    repo.tick()
    repo.write("app/config.py", f'import os\n\nSTRIPE_KEY = os.environ["STRIPE_KEY"]\nFALLBACK = "{K_STASH}"\n')
    repo.git("stash", "-q", author="Hal")
    c["stash"] = repo.rev("refs/stash")
    repo.tick()
    repo.git("notes", "add", "-m", f"rotated {K_NOTE}", c["added"], author="Ida")
    c["note"] = repo.rev("refs/notes/commits")
    return c


@pytest.fixture(scope="module")
def findings(history: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    scanner = isolated_scanner(tmp_path_factory.mktemp("rules"))
    report = git_report(Repo(history["path"]), scanner=scanner, now=JAN[20])
    assert report.stats.warnings == []
    return {f.secret: {**f.extra, "commit": f.commit, "path": f.path, "line": f.line, "rule": f.rule_id,
                       "source": f.source} for f in report.findings}


def test_every_key_in_history_is_found_once(findings: dict[str, dict]) -> None:
    assert sorted(findings) == sorted([K_REMOVED, K_UNMERGED, K_MERGED, K_EVIL_MERGE, K_TAG_ONLY, K_STASH, K_NOTE,
                                       K_ODD_NAME, PAIR_SECRET])


EXPECTED = [
    # secret, commit, path, line, author, in_head
    (K_REMOVED, "added", "app/config.py", 3, "Ada", False),
    (PAIR_SECRET, "pair", "deploy/creds.env", 2, "Cy", True),
    (K_UNMERGED, "unmerged", "feature.py", 5, "Dee", False),
    (K_MERGED, "topic", "topic.txt", 1, "Eve", True),
    (K_EVIL_MERGE, "merge", "merge.txt", 1, "Fay", True),
    (K_ODD_NAME, "odd", "odd dir/na\\xefve name\nwith newline.txt", 1, "Ada", False),
    (K_TAG_ONLY, "tag_only", "tagged.txt", 2, "Gus", False),
    (K_STASH, "stash", "app/config.py", 4, "Hal", False),
]


@pytest.mark.parametrize(("secret", "commit", "path", "line", "author", "in_head"), EXPECTED,
                         ids=[row[1] for row in EXPECTED])
def test_provenance(findings, history, secret, commit, path, line, author, in_head) -> None:
    found = findings[secret]
    assert (found["commit"], found["path"], found["line"]) == (history[commit], path, line)
    assert (found["author"], found["email"]) == (author, f"{author.lower()}@example.test")
    assert found["in_head"] is in_head
    assert found["source"] == "git"


def test_note_is_scanned_at_its_notes_path(findings, history) -> None:
    found = findings[K_NOTE]
    assert found["commit"] == history["note"]
    assert found["path"] == history["added"]  # notes are stored under the annotated commit's sha
    assert (found["author"], found["in_head"]) == ("Ida", False)


def test_two_line_rule_fires_on_the_commit_that_changed_one_line(findings, history) -> None:
    found = findings[PAIR_SECRET]
    assert found["rule"] == "testcorp.key-pair"
    # the later commit that rotated only the id line adds nothing new
    assert found["locations"] == [{"commit": history["pair"], "path": "deploy/creds.env", "line": 2}]
    assert found["message"] == "Fill in the deploy secret"


def test_a_key_in_two_files_is_one_finding_with_both_locations(findings, history) -> None:
    # the rename of topic.txt adds nothing; the paste into docs/notes.md does
    assert findings[K_MERGED]["locations"] == [
        {"commit": history["topic"], "path": "topic.txt", "line": 1},
        {"commit": history["rename"], "path": "docs/notes.md", "line": 2},
    ]


def test_dates_age_and_overdue(findings) -> None:
    removed = findings[K_REMOVED]
    assert removed["date"] == removed["first_seen"] == "2024-01-02T00:00:00+00:00"
    assert (removed["age_days"], removed["overdue"]) == (19, False)  # now = 2024-01-21
    assert findings[K_REMOVED]["message"] == "Add config"
    assert findings[K_EVIL_MERGE]["message"] == "Merge topic"


def test_max_age_flags_old_keys(history, tmp_path: Path) -> None:
    scanner = isolated_scanner(tmp_path)
    report = git_report(Repo(history["path"]), scanner=scanner, now=JAN[20], max_age_days=10)
    overdue = {f.secret for f in report.findings if f.extra["overdue"]}
    assert K_REMOVED in overdue and K_NOTE not in overdue


def test_range_scans_only_what_those_commits_add(history, tmp_path: Path) -> None:
    scanner = isolated_scanner(tmp_path)
    repo = Repo(history["path"])
    from scanner.sources.git_revs import range_revs

    report = git_report(repo, scanner=scanner, revs=range_revs(repo, f"{history['pair']}..main"), now=JAN[20])
    got = {(f.secret, f.commit, f.path, f.line) for f in report.findings}
    assert got == {
        (K_MERGED, history["topic"], "topic.txt", 1),
        (K_EVIL_MERGE, history["merge"], "merge.txt", 1),
        (K_ODD_NAME, history["odd"], "odd dir/na\\xefve name\nwith newline.txt", 1),
    }


@pytest.mark.slow
def test_cli_json_carries_the_git_fields(history, tmp_path: Path) -> None:
    result = run_keysweep("git", history["path"], "--format", "json", "--rules", str(pair_rules_file(tmp_path)))
    assert result.returncode == 1, result.stderr
    rows = {row["secret_sha256"]: row for row in json.loads(result.stdout)["findings"]}
    import hashlib

    row = rows[hashlib.sha256(K_EVIL_MERGE.encode()).hexdigest()]
    assert row["source"] == "git" and row["commit"] == history["merge"]
    assert {"author", "email", "date", "message", "in_head", "first_seen", "locations", "age_days", "overdue"} <= set(row)
    assert row["secret"] != K_EVIL_MERGE and K_EVIL_MERGE not in result.stdout  # redacted by default
    assert result.stderr == ""  # not a terminal: no progress


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_processes_find_the_same(history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    import scanner.sources.git_blobs as blobs_module

    monkeypatch.setattr(blobs_module, "PARALLEL_MIN_BLOBS", 1)
    monkeypatch.setattr(blobs_module, "BATCH_BYTES", 64)  # several blobs per task, several tasks
    monkeypatch.setenv("KEYSWEEP_START_METHOD", method)

    def rows(jobs: int) -> list[tuple]:
        report = git_report(Repo(history["path"]), scanner=isolated_scanner(tmp_path), now=JAN[20], jobs=jobs)
        return [(f.secret, f.commit, f.path, f.line, f.extra["in_head"], f.extra["locations"]) for f in report.findings]

    assert rows(2) == rows(1)
