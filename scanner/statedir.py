"""Private state directories (the revoke outbox, the fleet's state): owned by the user, writable by
nobody else, and files in them opened without following symlinks. Another local user who could
write there could read queued keys or swap the database for a link to a file of theirs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from scanner.errors import ConfigError

HINT = "(use --state-dir or KEYSWEEP_STATE_DIR to name a private directory)"


def ensure_private_dir(directory: Path) -> Path:
    """Create the directory (0700) or check an existing one: a directory, owned by this user, not
    writable by group or others. ConfigError with a one-line reason otherwise."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(directory)
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot create the state directory: {exc.strerror} {HINT}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{directory}: the state directory is not a directory {HINT}")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(f"{directory}: the state directory belongs to another user (uid {info.st_uid}) {HINT}")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"{directory}: the state directory is writable by others "
                          f"(mode {stat.S_IMODE(info.st_mode):o}); make it private (chmod 700) {HINT}")
    return directory


def open_private_file(path: Path) -> None:
    """Create the file 0600 if missing, refusing a symlink or anything but a regular file of ours."""
    flags = os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        reason = "is a symbolic link" if os.path.islink(path) else exc.strerror
        raise ConfigError(f"{path}: cannot open: {reason} {HINT}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            raise ConfigError(f"{path}: not a regular file of this user {HINT}")
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
