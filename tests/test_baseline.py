"""Baselines and .keysweepignore: content-keyed, secret-free, and matched the same in every mode."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import run_keysweep
from gitutil import GitRepo
from scanner.errors import ConfigError
from scanner.filters.baseline import load_ignores

OLD = "sk_live_Bq7WnX2kLm9RtVc4HzPj6DsYf3Ga"
NEW = "sk_live_Kp3XwM8qNb2LcRz7VtHj5GdYs6Fe"
NEW_AT_OLD_PLACE = "sk_live_Vn6QkT3wXm8RbLc2ZpHj9FsYd4Ge"


def sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.mark.parametrize(("line", "parsed"), [
    (f"stripe.secret-key:{sha(OLD)}", ("stripe.secret-key", sha(OLD), None)),
    (f"stripe.secret-key:{sha(OLD)}  # rotated in May", ("stripe.secret-key", sha(OLD), None)),
    (f"  stripe.secret-key:{sha(OLD)}:docs/a b#1.md # only there", ("stripe.secret-key", sha(OLD), "docs/a b#1.md")),
    ("# a comment line", None),
    ("", None),
], ids=["plain", "comment-after", "path-scoped", "comment-line", "blank"])
def test_ignore_lines(tmp_path: Path, line: str, parsed: tuple | None) -> None:
    path = tmp_path / ".keysweepignore"
    path.write_text(line + "\n")
    got = [(i.rule_id, i.secret_sha256, i.path) for i in load_ignores(path)]
    assert got == ([parsed] if parsed else [])


@pytest.mark.parametrize("line", ["stripe.secret-key", f"stripe:{sha(OLD)}", f"stripe.secret-key:{sha(OLD)[:12]}",
                                  OLD, f"stripe.secret-key:{sha(OLD).upper()}"],
                         ids=["no-hash", "bare-provider", "short-hash", "the-secret-itself", "upper-case-hash"])
def test_bad_ignore_lines_are_config_errors(tmp_path: Path, line: str) -> None:
    path = tmp_path / ".keysweepignore"
    path.write_text(f"# header\n{line}\n")
    with pytest.raises(ConfigError, match=r"\.keysweepignore:2: expected a fingerprint"):
        load_ignores(path)


@pytest.fixture()
def project(tmp_path: Path) -> GitRepo:
    """A repository whose history and working tree hold one old, accepted key."""
    repo = GitRepo(tmp_path / "project")
    repo.commit("old key", {"app/settings.py": f"DEBUG = 1\nKEY = '{OLD}'\n"})
    return repo


def keysweep(repo: GitRepo, *args: str) -> tuple[int, list[dict], str]:
    result = run_keysweep(*args, "--format", "json", cwd=repo.path)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["findings"], result.stderr


@pytest.mark.slow
def test_baseline_file_holds_no_secret_and_no_lines(project: GitRepo) -> None:
    result = run_keysweep("baseline", "create", "-o", ".keysweep-baseline.json", cwd=project.path)
    assert result.returncode == 0, result.stderr
    text = (project.path / ".keysweep-baseline.json").read_text()
    assert OLD not in text and OLD[:12] not in text
    assert json.loads(text)["findings"] == [{"rule_id": "stripe.secret-key", "secret_sha256": sha(OLD),
                                             "path": "app/settings.py"}]


@pytest.mark.slow
def test_baseline_survives_moved_code_and_reports_only_new_keys(project: GitRepo) -> None:
    run_keysweep("baseline", "create", "-o", "baseline.json", cwd=project.path)
    project.write("app/settings.py", f"import os\n\n\nDEBUG = 1\nKEY = '{OLD}'\n")
    assert keysweep(project, "scan", ".", "--baseline", "baseline.json")[:2] == (0, [])
    project.write("app/new.py", f"KEY = '{NEW}'\n")
    status, rows, _ = keysweep(project, "scan", ".", "--baseline", "baseline.json")
    assert status == 1 and [r["path"] for r in rows] == ["app/new.py"]
    # The same old key pasted at a new path is a new leak site.
    project.write("app/copy.py", f"KEY = '{OLD}'\n")
    _, rows, _ = keysweep(project, "scan", ".", "--baseline", "baseline.json")
    assert sorted(r["path"] for r in rows) == ["app/copy.py", "app/new.py"]


@pytest.mark.slow
def test_a_suppressed_finding_keeps_its_reason(project: GitRepo) -> None:
    run_keysweep("baseline", "create", "-o", "baseline.json", cwd=project.path)
    result = run_keysweep("scan", ".", "--baseline", "baseline.json", "--format", "json", "--show-suppressed",
                          cwd=project.path)
    document = json.loads(result.stdout)
    assert document["findings"] == []
    # (other rules' rejected candidates may be listed too; the Stripe key is there for the baseline)
    assert [r["suppressed"] for r in document["suppressed"] if r["secret_sha256"] == sha(OLD)] == [
        "in baseline baseline.json"
    ]


@pytest.mark.slow
def test_squash_merge_does_not_break_a_history_baseline(project: GitRepo) -> None:
    project.git("checkout", "-q", "-b", "work")
    project.commit("wip 1", {"lib/client.py": f"TOKEN = '{NEW}'\n"})
    project.commit("wip 2", {"lib/client.py": f"# client\nTOKEN = '{NEW}'\n"})
    assert run_keysweep("baseline", "create", "--git", "-o", "baseline.json", cwd=project.path).returncode == 0
    project.git("checkout", "-q", "main")
    project.git("merge", "-q", "--squash", "work")
    project.commit("Squashed work")
    project.git("branch", "-q", "-D", "work")
    assert keysweep(project, "git", "--baseline", "baseline.json")[:2] == (0, [])


MODES = {
    "scan": ("scan", "."),
    "git": ("git",),
    "staged": ("git", "--staged"),
    "range": ("git", "--range", "main~1..main"),
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_baseline_and_ignores_match_the_same_in_every_mode(project: GitRepo, mode: str) -> None:
    """One baseline and one ignore file; each mode sees the same three keys and keeps the same one."""
    accepted_elsewhere = "sk_live_Jr4VbN8xWq2KmLc6TzHd3PsYg9Fa"
    files = {
        "app/settings.py": f"DEBUG = 1\nKEY = '{OLD}'\n",
        "app/ignored.py": f"K = '{accepted_elsewhere}'\n",
        "app/fresh.py": f"K = '{NEW}'\n",
    }
    for name, text in files.items():
        project.write(name, text)
    (project.path / ".keysweepignore").write_text(f"stripe.secret-key:{sha(accepted_elsewhere)}  # test value\n")
    baseline = {"keysweep_baseline": 1, "findings": [
        {"rule_id": "stripe.secret-key", "secret_sha256": sha(OLD), "path": "app/settings.py"}]}
    (project.path / "baseline.json").write_text(json.dumps(baseline))
    if mode == "staged":
        # the index holds all three files; HEAD has none of them
        project.git("rm", "-q", "--cached", "app/settings.py")
        project.git("commit", "-q", "-m", "drop settings from the index")
        project.git("add", *files)
    elif mode in ("git", "range"):
        project.commit("three keys", author="Zed")
    status, rows, _ = keysweep(project, *MODES[mode], "--baseline", "baseline.json")
    assert status == 1
    assert [(r["path"], r["secret_sha256"]) for r in rows] == [("app/fresh.py", sha(NEW))]


@pytest.mark.slow
def test_an_ignore_never_hides_a_different_secret_at_the_same_place(project: GitRepo) -> None:
    (project.path / ".keysweepignore").write_text(f"stripe.secret-key:{sha(OLD)}:app/settings.py\n")
    assert keysweep(project, "scan", ".")[:2] == (0, [])
    project.write("app/settings.py", f"DEBUG = 1\nKEY = '{NEW_AT_OLD_PLACE}'\n")
    status, rows, _ = keysweep(project, "scan", ".")
    assert status == 1 and [r["secret_sha256"] for r in rows] == [sha(NEW_AT_OLD_PLACE)]
    # A path-scoped ignore does not cover the same key elsewhere either.
    project.write("app/settings.py", f"DEBUG = 1\nKEY = '{OLD}'\n")
    project.write("other.py", f"KEY = '{OLD}'\n")
    assert [r["path"] for r in keysweep(project, "scan", ".")[1]] == ["other.py"]


@pytest.mark.slow
def test_unused_ignores_are_reported_when_asked(project: GitRepo) -> None:
    (project.path / ".keysweepignore").write_text(
        f"stripe.secret-key:{sha(OLD)}\nstripe.secret-key:{sha(NEW)}  # stale\n")
    status, rows, stderr = keysweep(project, "scan", ".", "--report-unused-ignores")
    assert (status, rows) == (0, [])
    assert stderr == "keysweep: warning: .keysweepignore:2: ignore matched no finding\n"
    assert keysweep(project, "scan", ".")[2] == ""


@pytest.mark.slow
def test_bad_baseline_files_are_one_line_errors(project: GitRepo) -> None:
    result = run_keysweep("scan", ".", "--baseline", "missing.json", cwd=project.path)
    assert result.returncode == 2 and "baseline file not found" in result.stderr
    (project.path / "bad.json").write_text('{"findings": []}')
    result = run_keysweep("git", "--baseline", "bad.json", cwd=project.path)
    assert result.returncode == 3 and result.stderr.count("\n") == 1 and "not a keysweep baseline" in result.stderr
