"""`keysweep install-hooks`: copy the plain git hooks from hooks/ into a repository.

An existing hook is never replaced without --force: it may be someone's own, and chaining
hooks is a choice for its owner (or for the pre-commit framework, see .pre-commit-hooks.yaml).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from scanner.errors import UsageError
from scanner.sources.gitrepo import Repo

DEFAULT_COMMAND = "${KEYSWEEP:-keysweep}"


def hook_sources_dir() -> Path:
    """hooks/ ships inside the wheel as scanner/hooks; a source checkout keeps it at the top."""
    here = Path(__file__).resolve().parent
    packaged = here / "hooks"
    return packaged if packaged.is_dir() else here.parent / "hooks"


def keysweep_command() -> str:
    """The command the installed hook runs: this installation's keysweep when it is not on PATH,
    so a commit from an IDE without the virtualenv activated still finds it."""
    on_path = shutil.which("keysweep")
    if on_path:
        return DEFAULT_COMMAND
    return "${KEYSWEEP:-" + shlex.quote(sys.executable) + " -m scanner}"


def hook_text(name: str) -> str:
    source = hook_sources_dir() / name
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{source}: cannot read the bundled hook: {exc.strerror}") from None
    return text.replace(DEFAULT_COMMAND, keysweep_command())


def hooks_dir(repo: Repo) -> Path:
    """Where git runs hooks from (honours core.hooksPath)."""
    path = Path(repo.git("rev-parse", "--git-path", "hooks").decode().strip())
    return path if path.is_absolute() else repo.path / path


def install(repo_path: str, *, names: Iterable[str], force: bool) -> list[tuple[Path, str]]:
    """Write each hook; refuse (before writing any) if one exists with other content and not force."""
    repo = Repo(repo_path)
    directory = hooks_dir(repo)
    planned = [(directory / name, hook_text(name)) for name in names]
    for target, text in planned:
        if target.is_symlink() and not force:
            raise UsageError(f"{target}: is a symbolic link; keysweep will not write through it "
                             "(rerun with --force to replace the link itself)")
        if target.exists() and not force and _read(target) != text:
            raise UsageError(f"{target}: a hook is already installed there; keysweep left it alone "
                             "(rerun with --force to replace it, or call keysweep from your hook)")
    outcomes = []
    directory.mkdir(parents=True, exist_ok=True)
    for target, text in planned:
        if not target.is_symlink() and target.exists() and _read(target) == text:
            outcomes.append((target, "already installed"))
            continue
        replaced = os.path.lexists(target)
        _replace(target, text)
        outcomes.append((target, "replaced" if replaced else "installed"))
    return outcomes


def _replace(target: Path, text: str) -> None:
    """Write the hook beside its place and rename it there: a symlink at the place (even a dangling
    one) is replaced itself, never followed."""
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o755)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
