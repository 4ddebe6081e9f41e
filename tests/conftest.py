from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def _compiled_databases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The built-in rules' Hyperscan databases, compiled once per session (~0.7 s each time)."""
    from scanner.engine import Engine
    from scanner.rules import load_rules

    cache = tmp_path_factory.mktemp("session-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        engine = Engine(load_rules())
        engine.candidates, engine.prefilter.positions("warm both keyword databases")
    return sorted((cache / "keysweep").glob("*.hsdb")) + sorted((cache / "keysweep").glob("candidates-*.json"))


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, _compiled_databases: list[Path]
) -> None:
    """Pinned git identity, no user config, and a private cache so tests never touch $HOME.

    The private cache starts with links to the session's compiled databases (keyed by content,
    replaced rather than written through when a test rebuilds them)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    (home / ".cache" / "keysweep").mkdir(parents=True)
    for database in _compiled_databases:
        (home / ".cache" / "keysweep" / database.name).symlink_to(database)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in {
        "GIT_AUTHOR_NAME": "Ada Tester", "GIT_AUTHOR_EMAIL": "ada@example.test",
        "GIT_COMMITTER_NAME": "Ada Tester", "GIT_COMMITTER_EMAIL": "ada@example.test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_COLOR", raising=False)


def run_keysweep(*args: str, cwd: Path | None = None, stdin: str | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args], cwd=cwd, input=stdin, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, check=False,
    )


def write_user_config(text: str) -> Path:
    """The user's own config ($XDG_CONFIG_HOME/keysweep/config.toml): trusted, unlike one in a scanned tree."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "keysweep" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
