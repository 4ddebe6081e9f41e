"""Which repositories a fleet run scans, and the local copy each is read from.

A REPO is a local path (a working copy or a bare repository) or a clone URL. Only network
transports a security team uses, plus local files, are accepted: `https://`, `ssh://`, scp-style
`git@host:path` and `file://`. Anything else (`ext::sh -c …`, `fd::`, `http://`, `git://`) is
refused: `ext::` runs a command, and a repository list is often assembled from an API's output.

A URL's credentials (`https://user:token@host/…`) never reach a report or a log: the name shown
drops them, git's error messages are scrubbed of them, and the mirror's config stores the URL
without them (each fetch is given the full URL after `--`, so no REPO can become an option).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from scanner.errors import UsageError

ALLOWED_SCHEMES = ("https", "ssh", "file")
ALLOWED_HELP = "accepted: https://, ssh://, git@host:path, file:// and local paths"
SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[^@/:\s]+):(?!//)(?P<path>.*)$")
TRANSPORT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")  # git's `<transport>::<address>`
COMMENT = re.compile(r"(?:^|\s)#")
CLONE_TIMEOUT_S = 3600
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # a nightly job must fail, not wait for a password
    "GIT_ALLOW_PROTOCOL": "https:ssh:file",  # git refuses anything else too (ext, fd, …)
}


@dataclass(frozen=True)
class RepoSource:
    """One repository of the fleet."""

    name: str  # as reported: the path or URL as given (credentials removed), or as found under --root
    location: str = field(repr=False)  # what git reads: a local path, or the clone URL (may hold credentials)
    url: bool = False
    refused: str | None = None  # why this URL is not cloned (its transport): a failed repository

    @property
    def key(self) -> str:
        """Identity in the state database: the real path, or the URL without credentials."""
        if self.refused:
            return "refused:" + self.name
        if self.url:
            return "url:" + redact_url(self.location)
        return "path:" + os.path.realpath(self.location)


def is_url(text: str) -> bool:
    """A clone URL (of any transport, allowed or not) rather than a local path."""
    if "://" in text or TRANSPORT_PREFIX.match(text):
        return True
    if os.path.exists(text):
        return False
    return SCP_LIKE.match(text) is not None and not text.startswith(("/", "./", "../"))


def check_url(url: str) -> str:
    """The URL if its transport is accepted, else a UsageError saying which are."""
    shown = redact_url(url)
    if any(ch in url for ch in "\0\n\r") or url != url.strip():
        raise UsageError(f"{shown!r}: not a clone URL (control characters or surrounding spaces)")
    if TRANSPORT_PREFIX.match(url):
        raise UsageError(f"{shown}: transport {url.split('::', 1)[0]!r} refused ({ALLOWED_HELP})")
    if "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise UsageError(f"{shown}: {scheme}:// refused ({ALLOWED_HELP})")
        if scheme != "file" and not parts.hostname:
            raise UsageError(f"{shown}: no host in the URL")
        if (parts.hostname or "").startswith("-") or (parts.username or "").startswith("-"):
            raise UsageError(f"{shown}: a host or user name may not start with '-'")
        return url
    match = SCP_LIKE.match(url)
    if match is None:
        raise UsageError(f"{shown}: not a clone URL ({ALLOWED_HELP})")
    if match["host"].startswith("-") or (match["user"] or "").startswith("-"):
        raise UsageError(f"{shown}: a host or user name may not start with '-'")
    return url


def redact_url(url: str) -> str:
    """The URL as it may be shown: no password, and no user name over https (tokens go there)."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        keep_user = parts.scheme.lower() != "https" and parts.username and parts.password is None
        netloc = f"{parts.username}@{host}" if keep_user else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    match = SCP_LIKE.match(url)
    if match and match["user"] and ":" in url.split("@", 1)[0]:
        return url.split("@", 1)[1]
    return url


def scrub(text: str, url: str) -> str:
    """A git message about url with its credentials taken out."""
    shown = redact_url(url)
    if shown == url:
        return text
    text = text.replace(url, shown)
    if "://" in url:
        parts = urlsplit(url)
        hidden = (parts.password, parts.username) if parts.scheme.lower() == "https" else (parts.password,)
        for secret in hidden:
            if secret and len(secret) >= 3:
                text = text.replace(secret, "***")
    return text


def parse_repo(text: str) -> RepoSource:
    """A REPO as given; a refused URL becomes a repository that fails with the reason, so that one bad
    line of a long list does not stop the audit of the rest."""
    if is_url(text):
        try:
            return RepoSource(redact_url(text), check_url(text), url=True)
        except UsageError as exc:
            return RepoSource(redact_url(text), "", url=True, refused=str(exc))
    return RepoSource(text, text)


def read_repos_file(path: Path) -> list[str]:
    """One REPO per line; `#` starts a comment at the line's start or after whitespace."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read repository list: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: repository list is not UTF-8 text") from None
    repos = []
    for raw in text.splitlines():
        line = COMMENT.split(raw, 1)[0].strip()
        if line:
            repos.append(line)
    return repos


def find_repos(root: Path) -> Iterator[str]:
    """Every git repository under root (working copies and bare ones), not looking inside one found,
    never following symbolic links; named as root joined with the path below it."""
    if not root.is_dir():
        raise UsageError(f"{root}: --root is not a directory")
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if ".git" in dirnames or ".git" in filenames or is_bare_repo(dirpath, dirnames, filenames):
            dirnames[:] = []
            yield dirpath
        else:
            dirnames.sort()


def is_bare_repo(path: str, dirnames: list[str], filenames: list[str]) -> bool:
    return "HEAD" in filenames and "objects" in dirnames and "refs" in dirnames and os.path.basename(path) != ".git"


def gather(repos: Iterable[str], *, root: Path | None = None, repos_file: Path | None = None) -> list[RepoSource]:
    """REPO arguments, then --repos-file lines, then what --root holds; each repository once."""
    texts = list(repos)
    if repos_file is not None:
        texts += read_repos_file(repos_file)
    if root is not None:
        texts += find_repos(root)
    sources: dict[str, RepoSource] = {}
    for text in texts:
        source = parse_repo(text)
        sources.setdefault(source.key, source)
    return list(sources.values())


# --- mirrors of clone URLs ------------------------------------------------------------------------


def mirror_dir(state_dir: Path, source: RepoSource) -> Path:
    shown = redact_url(source.location)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", shown.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])[:40].strip(".-")
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    return state_dir / "mirrors" / f"{slug or 'repo'}-{digest}.git"


class MirrorError(Exception):
    """A clone or fetch that failed; the message is already free of credentials."""


def update_mirror(state_dir: Path, source: RepoSource) -> Path:
    """`git clone --mirror` the URL into the state dir, or `git fetch --prune` the mirror already there."""
    url = source.location
    target = mirror_dir(state_dir, source)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, **GIT_ENV}
    if (target / "HEAD").is_file():
        _git(["fetch", "--prune", "--quiet", "--", url, "+refs/*:refs/*"], cwd=target, env=env, url=url)
        return target
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        _remove_tree(partial)
    _git(["clone", "--mirror", "--quiet", "--", url, str(partial)], cwd=target.parent, env=env, url=url)
    # The mirror's config keeps the URL without credentials; fetches are given the full URL.
    _git(["config", "remote.origin.url", redact_url(url)], cwd=partial, env=env, url=url)
    os.replace(partial, target)
    return target


def _git(args: list[str], *, cwd: Path, env: dict[str, str], url: str) -> None:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL,
                                timeout=CLONE_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise MirrorError(f"git {args[0]} timed out after {CLONE_TIMEOUT_S} s") from None
    if result.returncode != 0:
        lines = [ln.strip() for ln in result.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        message = lines[-1] if lines else f"exit status {result.returncode}"
        message = message.removeprefix("fatal: ").removeprefix("error: ")
        raise MirrorError(scrub(f"git {args[0]} failed: {message}", url))


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
