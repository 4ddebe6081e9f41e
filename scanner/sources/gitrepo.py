"""Git plumbing for the history source: short `git` commands, the log parser, and one persistent
`git cat-file --batch` stream for blob contents.

The plumbing is driven directly (no GitPython) so the pre-commit path pays for no import and
every output is read with `-z`, which keeps file names with spaces, newlines or non-UTF-8 bytes
intact.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scanner.errors import ScanIncomplete, UsageError

GITLINK_MODE = "160000"  # a submodule: the entry names a commit in another repository
SYMLINK_MODE = "120000"
RECORD = b"\x1e"
FIELD = b"\x1f"
# %B is the raw message; the first line is taken in Python so a wrapped subject is not joined.
LOG_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%aI%x1f%B%x1f"
READ_SIZE = 1 << 16


def fs_decode(raw: bytes) -> str:
    """A path for reports: undecodable bytes become `\\xNN` so every report stays valid UTF-8.

    Paths are only shown and matched against globs, never opened (blobs are read by sha)."""
    return raw.decode("utf-8", "backslashreplace")


def is_null_sha(sha: str) -> bool:
    return not sha.strip("0")


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    timestamp: int  # author date, seconds since the epoch
    date: str  # author date, ISO 8601 with the author's offset
    message: str  # first line
    order: int  # position in `git log --topo-order` output: higher is older


@dataclass(frozen=True)
class Change:
    """A file a commit (or the index) sets: its new blob and the blobs it had in each parent."""

    path: str
    blob: str
    mode: str
    old_blobs: tuple[str, ...] = ()


class Repo:
    """One repository, asked questions through short-lived `git` processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UsageError(f"{path}: no such directory")
        if not self.path.is_dir():
            raise UsageError(f"{path}: not a git repository (a directory is expected)")
        result = self._spawn(["rev-parse", "--absolute-git-dir", "--is-bare-repository",
                              "--is-shallow-repository", "--show-toplevel"])
        lines = result.stdout.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 3:
            reason = _first_line(result.stderr)
            detail = "" if reason.startswith("not a git repository") else f" ({reason})"
            raise UsageError(f"{path}: not a git repository{detail}")
        self.git_dir = Path(lines[0])
        self.bare = lines[1] == "true"
        self.shallow = lines[2] == "true"
        # --show-toplevel fails in a bare repository, after answering the other questions
        self.worktree = Path(lines[3]) if len(lines) > 3 and not self.bare else None

    @property
    def root(self) -> Path:
        """Where repository-level files (.keysweepignore, config) live."""
        return self.worktree or self.git_dir

    def _spawn(self, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", *args], cwd=self.path, input=stdin, capture_output=True, check=False)
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        result = self._spawn(list(args), stdin)
        if result.returncode != 0:
            raise UsageError(f"git {args[0]}: {_first_line(result.stderr) or f'exit status {result.returncode}'}")
        return result.stdout

    def rev_exists(self, rev: str) -> bool:
        return self._spawn(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"]).returncode == 0

    def resolve(self, rev: str) -> str:
        out = self._spawn(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"])
        if out.returncode != 0:
            raise UsageError(f"{rev}: unknown revision in {self.root}")
        return out.stdout.decode().strip()

    def head(self) -> str | None:
        out = self._spawn(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        return out.stdout.decode().strip() if out.returncode == 0 else None

    def stash_commits(self) -> list[str]:
        """Every stash entry (refs/stash names only the newest; the rest live in its reflog)."""
        out = self._spawn(["reflog", "show", "--format=%H", "refs/stash", "--"])
        return out.stdout.decode().split() if out.returncode == 0 else []

    def default_branch(self) -> str | None:
        """HEAD of the default branch: origin's HEAD, else a local main/master/init.defaultBranch, else HEAD."""
        out = self._spawn(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"])
        candidates = [out.stdout.decode().strip()] if out.returncode == 0 else []
        configured = self._spawn(["config", "init.defaultBranch"]).stdout.decode().strip()
        candidates += [f"refs/heads/{b}" for b in (configured, "main", "master") if b]
        for ref in candidates:
            if self.rev_exists(ref):
                return ref
        return "HEAD" if self.head() else None

    def tree_blobs(self, rev: str) -> dict[str, str]:
        """path -> blob sha of every file at rev."""
        return dict(_tree_entries(self.git("ls-tree", "-r", "-z", "--full-tree", rev)))

    def files_holding(self, rev: str, fragments: set[str]) -> set[str]:
        """Paths of the text files at rev that contain any of these strings (each one line)."""
        if not fragments:
            return set()
        patterns = "".join(f"{text}\n" for text in sorted(fragments)).encode("utf-8", "surrogateescape")
        result = self._spawn(["-c", "grep.patternType=fixed", "grep", "-l", "-z", "-I", "-F", "--no-textconv",
                              "-f", "-", rev, "--"], stdin=patterns)
        if result.returncode not in (0, 1):  # 1: nothing found
            raise UsageError(f"git grep: {_first_line(result.stderr) or f'exit status {result.returncode}'}")
        prefix = f"{rev}:".encode()
        return {fs_decode(entry.removeprefix(prefix)) for entry in result.stdout.split(b"\0") if entry}

    def staged_changes(self) -> list[Change]:
        """What the index adds relative to HEAD (or to nothing before the first commit).

        Renames are followed so a moved file is compared with its old self, not reported anew.
        """
        base = self.head() or self.git("hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()
        out = self.git("diff-index", "--cached", "--raw", "-z", "--no-abbrev", "-M", "--diff-filter=d",
                       "--ignore-submodules=none", base)
        changes = list(parse_raw(out))
        return self._with_merge_parents(changes) if changes else changes

    def _with_merge_parents(self, changes: list[Change]) -> list[Change]:
        """While a merge is being concluded, a file is also compared with the merged branch's version:
        keys the other branch already committed are not added by this commit."""
        try:
            merge_heads = (self.git_dir / "MERGE_HEAD").read_text().split()
        except OSError:
            return changes
        trees = [self.tree_blobs(head) for head in merge_heads]  # whole trees: merges are rare, names exact
        return [Change(c.path, c.blob, c.mode, c.old_blobs + tuple(t[c.path] for t in trees if c.path in t))
                for c in changes]

    def log(self, revs: list[str], *, extra: Iterable[str] = ()) -> Iterator[tuple[Commit, list[Change]]]:
        """Each commit reachable from revs with the files it changes; merges diffed against every parent.

        Merges come last, each with its place in the log order."""
        args = ["log", "--topo-order", "--root", "--raw", "-z", "--no-abbrev", "-M", "--no-ext-diff",
                "--no-textconv", "--no-color", f"--format={LOG_FORMAT}", *extra, *revs, "--"]
        merges: list[Commit] = []
        for commit, changes in self._stream_log(args):
            if len(commit.parents) > 1:
                merges.append(commit)
            else:
                yield commit, changes
        if merges:
            changes_by_merge = self._merge_changes([c.sha for c in merges])
            for commit in merges:
                yield commit, changes_by_merge.get(commit.sha, [])

    def _merge_changes(self, shas: list[str]) -> dict[str, list[Change]]:
        """What each merge changes against every parent (`-c`), without rename detection: `git log -c -M`
        over pip's 4,175 merges takes 1.15 s, this 0.16 s. A file one branch renamed is then compared
        with the other parent's version only (callers drop versions an ordinary commit made)."""
        return parse_diff_tree(self.git("diff-tree", "--stdin", "-c", "-r", "--raw", "-z", "--no-abbrev", "--no-ext-diff",
                                        "--no-textconv", "--no-color",
                                        stdin="".join(f"{sha}\n" for sha in shas).encode()))

    def _stream_log(self, args: list[str]) -> Iterator[tuple[Commit, list[Change]]]:
        try:
            process = subprocess.Popen(["git", *args], cwd=self.path, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None
        assert process.stdout is not None and process.stderr is not None
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
        drain.start()
        order = 0
        for record in _records(process.stdout):
            yield parse_commit(record, order)
            order += 1
        status = process.wait()
        drain.join()
        if status != 0:
            raise UsageError(f"git log: {_first_line(b''.join(errors)) or f'exit status {status}'}")


def _tree_entries(out: bytes) -> Iterator[tuple[str, str]]:
    """(path, blob sha) from `git ls-tree -z` output; trees and submodules are left out."""
    for entry in out.split(b"\0"):
        if entry:
            meta, _, path = entry.partition(b"\t")
            _mode, kind, sha = meta.split()
            if kind == b"blob":
                yield fs_decode(path), sha.decode()


def _records(stream: object) -> Iterator[bytes]:
    buffer = b""
    read = stream.read1 if hasattr(stream, "read1") else stream.read  # type: ignore[attr-defined]
    while True:
        data = read(READ_SIZE)
        if not data:
            break
        buffer += data
        parts = buffer.split(RECORD)
        buffer = parts.pop()
        yield from (p for p in parts if p)
    if buffer:
        yield buffer


def parse_commit(record: bytes, order: int) -> tuple[Commit, list[Change]]:
    sha, parents, name, email, timestamp, date, rest = record.split(FIELD, 6)
    message, _, raw = rest.partition(FIELD + b"\0")  # a message holds no NUL; a file name may hold \x1f
    commit = Commit(
        sha=sha.decode(),
        parents=tuple(parents.decode().split()),
        author=name.decode("utf-8", "replace"),
        email=email.decode("utf-8", "replace"),
        timestamp=int(timestamp or 0),
        date=date.decode(),
        message=message.decode("utf-8", "replace").strip().split("\n", 1)[0].strip(),
        order=order,
    )
    return commit, list(parse_raw(raw))


def parse_raw(raw: bytes) -> Iterator[Change]:
    """`--raw -z` entries: `:old new sha sha S\\0path\\0` (plus a second path for renames and copies),
    or `::m1 m2 mR sha1 sha2 shaR SS\\0path\\0` for a combined merge diff."""
    tokens = raw.lstrip(b"\n\0").split(b"\0")
    i = 0
    while i < len(tokens):
        if not tokens[i].strip(b"\n").startswith(b":"):
            i += 1
            continue
        change, i = _raw_entry(tokens, i)
        if change is not None:
            yield change


def parse_diff_tree(out: bytes) -> dict[str, list[Change]]:
    """`git diff-tree --stdin -z --raw` output: each commit's id, then its entries."""
    tokens = out.split(b"\0")
    found: dict[str, list[Change]] = {}
    changes: list[Change] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].strip(b"\n")
        if token.startswith(b":"):
            change, i = _raw_entry(tokens, i)
            if change is not None:
                changes.append(change)
            continue
        if token:  # a commit id: what follows is its (a path is always read with its entry, never here)
            changes = found.setdefault(token.decode(), [])
        i += 1
    return found


def _raw_entry(tokens: list[bytes], i: int) -> tuple[Change | None, int]:
    """The entry at tokens[i] (None: a deletion) and where the next one starts."""
    meta = tokens[i].strip(b"\n")
    colons = len(meta) - len(meta.lstrip(b":"))
    fields = meta[colons:].decode().split()
    parents = colons  # one colon per parent
    modes, shas, status = fields[: parents + 1], fields[parents + 1 : 2 * parents + 2], fields[-1]
    has_source_path = status[0] in "RC" and parents == 1
    path = tokens[i + 2] if has_source_path else tokens[i + 1]
    following = i + (3 if has_source_path else 2)
    new_sha = shas[-1]
    if is_null_sha(new_sha):
        return None, following  # deleted
    old = tuple(s for s in shas[:-1] if not is_null_sha(s))
    return Change(path=fs_decode(path), blob=new_sha, mode=modes[-1], old_blobs=old), following


class BlobReader:
    """Blob sizes and contents through two persistent `git cat-file` streams (--batch-check, --batch)."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._process: subprocess.Popen[bytes] | None = None  # --batch: contents
        self._checker: subprocess.Popen[bytes] | None = None  # --batch-check: sizes

    def sizes(self, shas: Iterable[str]) -> dict[str, int]:
        """Blob sizes through one persistent `--batch-check` stream (a history asks thousands of times)."""
        wanted = list(shas)
        if not wanted:
            return {}
        process = self._checker = self._checker or self._spawn_cat_file("--batch-check=%(objectname) %(objecttype) %(objectsize)")
        assert process.stdin is not None and process.stdout is not None
        stdin = process.stdin
        writer = threading.Thread(target=_write_lines, args=(stdin, wanted), daemon=True)
        writer.start()
        sizes = {}
        for _ in wanted:
            parts = process.stdout.readline().split()
            if not parts:
                raise ScanIncomplete("git cat-file stopped unexpectedly")
            if len(parts) == 3 and parts[1] == b"blob":  # else "<sha> missing" (a shallow or partial clone)
                sizes[parts[0].decode()] = int(parts[2])
        writer.join()
        return sizes

    def read_many(self, shas: list[str]) -> Iterator[tuple[str, bytes]]:
        """Contents of each blob, in order; requests are written by a thread so git never waits on us."""
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        stdin, stdout = process.stdin, process.stdout

        writer = threading.Thread(target=_write_lines, args=(stdin, shas), daemon=True)
        writer.start()
        for sha in shas:
            header = stdout.readline()
            parts = header.split()
            if len(parts) != 3:  # "<sha> missing" (a shallow or partial clone)
                if not header:
                    raise ScanIncomplete("git cat-file stopped unexpectedly")
                yield sha, b""
                continue
            size = int(parts[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline after each object
            yield sha, data
        writer.join()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            self._process = self._spawn_cat_file("--batch")
        return self._process

    def _spawn_cat_file(self, mode: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["git", "cat-file", mode], cwd=self.repo.path, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def close(self) -> None:
        for process in (self._process, self._checker):
            if process is not None:
                if process.stdin:
                    process.stdin.close()
                process.wait()
        self._process = self._checker = None

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_lines(stream: IO[bytes], shas: Iterable[str]) -> None:
    """Requests for a cat-file stream, written by a thread so git never waits on its reader."""
    try:
        for sha in shas:
            stream.write(f"{sha}\n".encode())
        stream.flush()
    except (BrokenPipeError, ValueError):
        pass


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return ""
