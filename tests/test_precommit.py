"""The hooks for real: the pre-commit framework installs keysweep from a snapshot of this checkout
into its own virtualenv and runs it on `git commit` and `git push`; the plain hooks from
`keysweep install-hooks` do the same without the framework."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_keysweep
from gitutil import GitRepo

KEY = "sk_live_Wc5NqK8xTb3MzLr6VhPj2GdYs9Fe"
PUSH_KEY = "sk_live_Xd7RmQ2vNc8KbLt4WzHj6FsYg3Ea"
SNAPSHOT = ["pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "scanner", "rules", "hooks"]


def snapshot_checkout(target: Path) -> str:
    """A git repository holding this checkout's working tree (pre-commit installs from a commit)."""
    target.mkdir()
    for name in SNAPSHOT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, target / name)
    repo = GitRepo(target)
    return repo.commit("snapshot")


@pytest.fixture(scope="module")
def framework(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One snapshot and one pre-commit cache for the module: the hook's virtualenv is built once."""
    if shutil.which("pre-commit") is None and not (Path(sys.executable).parent / "pre-commit").exists():
        pytest.fail("pre-commit is not installed (pip install -e '.[test]')")
    base = tmp_path_factory.mktemp("precommit")
    snapshot = base / "keysweep-src"
    rev = snapshot_checkout(snapshot)
    return {"repo": str(snapshot), "rev": rev, "home": str(base / "cache")}


def pre_commit_bin() -> str:
    local = Path(sys.executable).parent / "pre-commit"
    return str(local) if local.exists() else "pre-commit"


def run(repo: GitRepo, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env, "GIT_AUTHOR_DATE": "@1704153600 +0000", "GIT_COMMITTER_DATE": "@1704153600 +0000"}
    return subprocess.run(list(args), cwd=repo.path, env=full_env, capture_output=True, text=True, check=False,
                          timeout=900)


def push_a_key_past_the_commit_hook(
    repo: GitRepo, tmp_path: Path, env: dict[str, str], name: str
) -> tuple[GitRepo, subprocess.CompletedProcess[str]]:
    """A clean push to a new remote, then a leaking commit made with --no-verify, pushed."""
    remote = GitRepo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(remote.path))
    assert run(repo, "git", "push", "-q", "origin", "main", env=env).returncode == 0
    repo.write(name, f"KEY = '{PUSH_KEY}'\n")
    repo.git("add", name)
    repo.git("commit", "-q", "--no-verify", "-m", "sneak a key past the commit hook")
    return remote, run(repo, "git", "push", "origin", "main", env=env)


@pytest.fixture()
def user_repo(tmp_path: Path, framework: dict[str, str]) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(tmp_path / "user")
    (repo.path / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {framework['repo']}\n"
        f"    rev: {framework['rev']}\n"
        "    hooks:\n"
        "      - id: keysweep\n"
        "      - id: keysweep-push\n"
    )
    repo.commit("config", {"README.md": "hello\n"})
    env = {"PRE_COMMIT_HOME": framework["home"]}
    installed = run(repo, pre_commit_bin(), "install", "--hook-type", "pre-commit", "--hook-type", "pre-push", env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return repo, env


@pytest.mark.slow
def test_framework_blocks_a_commit_that_adds_a_key(user_repo) -> None:
    repo, env = user_repo
    repo.write("app.py", f"import stripe\n\nstripe.api_key = '{KEY}'\n")
    repo.git("add", "app.py")
    result = run(repo, "git", "commit", "-m", "add payments", env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "app.py:3:" in output and "stripe.secret-key" in output
    assert KEY not in output and KEY[:6] + "…" in output  # redacted
    assert "commit blocked" in output
    assert repo.git("rev-list", "--count", "HEAD") == "1"  # nothing was committed


@pytest.mark.slow
def test_framework_passes_a_clean_commit_and_an_allowed_line(user_repo) -> None:
    repo, env = user_repo
    repo.write("app.py", "import os\n\nstripe.api_key = os.environ['STRIPE_KEY']\n")
    repo.git("add", "app.py")
    result = run(repo, "git", "commit", "-m", "clean", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    repo.write("tests/fixture.py", f"FAKE = '{KEY}'  # keysweep:allow test fixture\n")
    repo.git("add", "tests/fixture.py")
    result = run(repo, "git", "commit", "-m", "fixture", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo.git("rev-list", "--count", "HEAD") == "3"


@pytest.mark.slow
def test_framework_blocks_a_push_of_a_leaking_commit(user_repo, tmp_path: Path) -> None:
    repo, env = user_repo
    remote, result = push_a_key_past_the_commit_hook(repo, tmp_path, env, "deploy.py")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "deploy.py:1:" in output and PUSH_KEY not in output
    assert remote.git("rev-list", "--count", "main") == "1"


@pytest.mark.slow
def test_try_repo_runs_the_hook_on_staged_files(user_repo, framework) -> None:
    repo, env = user_repo
    repo.write("config.env", f"STRIPE={KEY}\n")
    repo.git("add", "config.env")
    result = run(repo, pre_commit_bin(), "try-repo", framework["repo"], "keysweep", "--ref", framework["rev"], env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "config.env:1:" in output and KEY not in output


# --- plain git hooks -------------------------------------------------------------------------------


@pytest.mark.slow
def test_install_hooks_blocks_leaks_and_refuses_to_overwrite(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "plain")
    repo.commit("first", {"a.txt": "a\n"})
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = run_keysweep("install-hooks", "--pre-push", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    hooks = repo.path / ".git" / "hooks"
    assert os.access(hooks / "pre-commit", os.X_OK) and os.access(hooks / "pre-push", os.X_OK)

    repo.write("leak.py", f"KEY = '{KEY}'\n")
    repo.git("add", "leak.py")
    blocked = run(repo, "git", "commit", "-m", "leak", env=env)
    output = blocked.stdout + blocked.stderr  # git sends a hook's output to stderr
    assert blocked.returncode == 1 and "leak.py:1:" in output and KEY not in output
    repo.git("reset", "-q")
    (repo.path / "leak.py").unlink()
    assert run(repo, "git", "commit", "--allow-empty", "-m", "clean", env=env).returncode == 0

    # A push of a commit that slipped past (--no-verify) is stopped by the pre-push hook.
    _, pushed = push_a_key_past_the_commit_hook(repo, tmp_path, env, "late.py")
    assert pushed.returncode != 0 and "late.py:1:" in pushed.stdout + pushed.stderr

    # Re-running is harmless; a foreign hook is never replaced without --force.
    assert "already installed" in run_keysweep("install-hooks", "--pre-push", cwd=repo.path).stdout
    (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    refused = run_keysweep("install-hooks", cwd=repo.path)
    assert refused.returncode == 2 and "--force" in refused.stderr and refused.stderr.count("\n") == 1
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\necho mine\n"
    forced = run_keysweep("install-hooks", "--force", cwd=repo.path)
    assert forced.returncode == 0 and "replaced" in forced.stdout
    assert " git --staged" in (hooks / "pre-commit").read_text()


def test_install_hooks_outside_a_repository(tmp_path: Path) -> None:
    result = run_keysweep("install-hooks", cwd=tmp_path)
    assert result.returncode == 2 and "not a git repository" in result.stderr
