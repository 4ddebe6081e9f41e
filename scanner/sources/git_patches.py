"""History by patches: a commit that modifies a file is read as its patch, not as two whole blobs.

Most of a history is small edits to large files (fastapi: 13,000 modifications hold 561 MB of blobs
and 8 MB of added lines). A key can only be *added* by a change where a match of its rule touches a
changed line (or the place a line was removed). Each modification is read as `git log -p -U0` shows
it, in three steps, each on far fewer changes than the one before:

1. Its added lines are scanned (in one pass over a worker's batch). A change is a *suspect* when a
   rule matches there, when they name a keyword of a rule whose matches span lines (the rest of such a
   match may lie on unchanged lines), when they hold a base64 payload marker, or when a '+' or '-'
   line may be the inside of a key block (a bare base64 run, as in a PEM body).
2. A suspect's new version is scanned whole and *flagged* if a match there touches a changed line.
3. A flagged change is read exactly as before: both versions whole, through the dispatcher
   (git_blobs.py), and compared.

The rest are settled by their patch. Step 1 only reads what git reports as changed: `-U0` lets git
skip the common tail of two versions, which halves its work against any context. It misses one kind
of change, which `keysweep git --whole-blobs` reads: a match that runs from a keyword on an unchanged
line to a changed line that names no keyword (a `curl \\` line above an added `-u user:pass` line).

Files whose matches reach far are always read whole, as are new files, merges and anything git shows
as binary: names read by their own reader (logs, bundles, archives, …) or sniffed for one (`.txt`,
`.json`, no extension), names a path-scoped rule applies to (`.env`, `.npmrc`, `settings.xml`, …),
and structured files whose matches span blocks (YAML, Terraform/HCL, PEM and key files).
"""

from __future__ import annotations

import bisect
import itertools
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.pipeline import Scanner
from scanner.report import ScanStats
from scanner.rules import Rule
from scanner.sources.blob import BINARY_SUFFIXES, decode, is_binary
from scanner.sources.decoders import SECRET_KIND, payload_markers
from scanner.sources.dispatch import SNIFF_SUFFIXES, kind_by_name
from scanner.sources.git_blobs import BlobWork
from scanner.sources.gitrepo import Change, Commit, Repo

PATCH_BATCH = 1024  # file changes per worker task (one git process each: ~10 ms to start)
REGULAR_MODES = ("100644", "100755")
# Matches here reach across blocks (a Kubernetes Secret's `kind:` 40 lines above its data, a Terraform
# provider block, a PEM body), further than a change: such files are always read whole.
WHOLE_SUFFIXES = (".yaml", ".yml", ".tf", ".tfvars", ".hcl", ".pem", ".key", ".ppk", ".asc", ".p8", ".crt")
# `git log` settings a user's or the repository's config could change; the parser needs git's defaults.
GIT_SETTINGS = ("diff.noprefix=false", "diff.mnemonicPrefix=false", "diff.suppressBlankEmpty=false",
                "diff.relative=false", "log.showSignature=false", "color.ui=false")
INDEX_LINE = re.compile(rb"^index ([0-9a-f]{40,64})\.\.([0-9a-f]{40,64})", re.MULTILINE)
HUNK_HEADER = re.compile(rb"\n@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")  # on "\n" + body
NOT_ADDED = re.compile(rb"\n[-@\\][^\n]*")  # removed lines, hunk headers, "\ No newline at end of file"
# A line that is nothing but a long base64 run may be the inside of a key block (PEM, PGP, PuTTY)
# whose BEGIN line is further up than the change: a change of one is looked at closely.
# (A leading newline, not `^`: the regex engine then jumps from newline to newline.)
KEY_BLOCK_LINE = re.compile(rb"""\n[-+][ \t]*["']?[A-Za-z0-9+/]{40,}={0,2}(?:\\n)?["']?[ \t]*[,+\\]?[ \t]*\r?(?=\n|$)""")

PatchKey = tuple[str, str, str]  # commit, old blob, new blob: as a patch names itself (`index old..new`)
PatchItem = tuple[str, str, str]  # old blob, new blob, path
CommitPatches = tuple[str, list[PatchItem]]


@dataclass(frozen=True)
class FilePatch:
    key: PatchKey
    path: str
    body: bytes  # from the first hunk header on

    @property
    def added(self) -> bytes:
        """The added lines, joined (hunks run together: only a suspect's whole new version decides)."""
        return NOT_ADDED.sub(b"", b"\n" + self.body).replace(b"\n+", b"\n")[1:]


@dataclass
class PatchOutcome:
    """What one batch settled: the changes read as text patches, and those to read whole."""

    seen: set[PatchKey] = field(default_factory=set)
    flagged: set[PatchKey] = field(default_factory=set)
    changes: int = 0
    suspects: int = 0
    stats: ScanStats = field(default_factory=ScanStats)


class PatchPlan:
    """Decides, from a change's path, modes and blob sizes, whether its patch can stand for it."""

    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        self.path_rules = [rule for rule in scanner.engine.rules if rule.path]
        self._by_path: dict[str, bool] = {}

    def shaped(self, commit: Commit, change: Change) -> bool:
        """Whether a patch can stand for this change, by its commit, modes and path: a file an
        ordinary commit modifies. (A new file is read whole: its patch would be all of it, and git
        would read it to write that; a merge's own changes are read whole too.)"""
        return (len(commit.parents) == 1 and len(change.old_blobs) == 1 and change.mode in REGULAR_MODES
                and self.path_allows(change.path))

    def sized(self, change: Change, sizes: dict[str, int]) -> bool:
        """…and by its blobs: present (a partial clone may lack one) and within the size limit."""
        limit = self.scanner.config.max_file_size
        return all((size := sizes.get(sha)) is not None and size <= limit for sha in (change.blob, *change.old_blobs))

    def path_allows(self, path: str) -> bool:
        allowed = self._by_path.get(path)
        if allowed is None:
            allowed = self._by_path[path] = self._decide(path)
        return allowed

    def _decide(self, path: str) -> bool:
        name = path[path.rfind("/") + 1 :]
        lowered = name.lower()
        if "." not in name or lowered.endswith(SNIFF_SUFFIXES) or lowered.endswith(WHOLE_SUFFIXES):
            return False
        if lowered[lowered.rfind(".") :] in BINARY_SUFFIXES or lowered.endswith(".keytab"):
            return False
        if self.scanner.config.force_kind or kind_by_name(path) is not None:
            return False
        return not any(rule.applies_to(path) for rule in self.path_rules)


def patch_key(commit: Commit, change: Change) -> PatchKey:
    return commit.sha, change.old_blobs[0], change.blob


def scan_patch_batch(work: BlobWork, batch: list[CommitPatches]) -> PatchOutcome:
    """One task: the batch's patches from git, scanned; flagged what may add a key."""
    outcome = PatchOutcome(changes=sum(len(items) for _, items in batch))
    wanted = {(sha, old, new): path for sha, items in batch for old, new, path in items}
    output = git_patches(work.repo, [sha for sha, _ in batch])
    if output is None:
        return outcome  # nothing seen: every change is read whole
    patches = []
    for key, body in file_patches(output):
        path = wanted.get(key)
        if path is not None and body is not None:
            outcome.seen.add(key)
            patches.append(FilePatch(key, path, body))
    suspects, flagged = suspect_patches(work.scanner, patches, outcome.stats)
    outcome.suspects = len(suspects)
    outcome.flagged = flagged | touching(work, suspects, outcome.stats)
    return outcome


def git_patches(repo: Repo, shas: list[str]) -> bytes | None:
    """`git log -p -U0` of these commits against their parents, or None if git fails (a missing object)."""
    settings = [arg for setting in GIT_SETTINGS for arg in ("-c", setting)]
    args = ["git", *settings, "log", "--no-walk=unsorted", "--stdin", "-p", "-U0", "-M", "--full-index",
            "--no-color", "--no-ext-diff", "--no-textconv", "--diff-filter=MR", "--format=%x01%H"]
    try:
        result = subprocess.run(args, cwd=repo.path, input="".join(f"{sha}\n" for sha in shas).encode(),
                                capture_output=True, check=False)
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def file_patches(output: bytes) -> Iterator[tuple[PatchKey, bytes | None]]:
    """(commit, old blob, new blob) and the hunks of each text file patch (None: binary, no hunks).

    Only headers start a line without a prefix: every line of content starts with ' ', '+', '-' or
    '\\', so a file's text can never pass for a header."""
    for section in (b"\n" + output).split(b"\n\x01"):  # a commit's line; content may hold \x01 too
        sha, _, diffs = section.partition(b"\n")
        if not sha:
            continue
        commit = sha.decode()
        for diff in diffs.split(b"\ndiff --git ")[1:]:
            hunks_at = diff.find(b"\n@@ ")
            header = diff if hunks_at < 0 else diff[:hunks_at]
            index = INDEX_LINE.search(header)
            if index is not None:
                body = None if hunks_at < 0 else diff[hunks_at + 1 :]
                yield (commit, index[1].decode(), index[2].decode()), body


def suspect_patches(scanner: Scanner, patches: list[FilePatch], stats: ScanStats
                    ) -> tuple[list[FilePatch], set[PatchKey]]:
    """Step 1, on the added lines: the suspects, and those flagged outright (a base64 payload's
    decoders need the whole file)."""
    texts = [patch.added.decode("utf-8", "replace") for patch in patches]
    joined = "\n".join(texts)
    stats.bytes_scanned += len(joined)
    timed_out: list[Rule] = []
    candidates = scanner.engine.find(joined, "", keep_rejected=True, on_timeout=timed_out.append)
    if timed_out:  # what the regex did not finish may be anywhere: read them all whole
        return [], {patch.key for patch in patches}
    starts = []
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    matched = {_owner(starts, c.match_start) for c in candidates} | {_owner(starts, c.match_end) for c in candidates}
    spanning = spanning_keywords(scanner)
    flagged: set[PatchKey] = set()
    suspects: list[FilePatch] = []
    for i, (patch, text) in enumerate(zip(patches, texts)):
        if holds_payload(text):
            flagged.add(patch.key)
        elif i in matched or KEY_BLOCK_LINE.search(patch.body) or scanner.engine.prefilter.hits(text) & spanning:
            suspects.append(patch)
    return suspects, flagged


def _owner(starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(starts, offset) - 1)


def spanning_keywords(scanner: Scanner) -> set[int]:
    """Prefilter ids of the keywords of rules whose matches may span lines (path-scoped rules aside:
    the files they apply to are read whole)."""
    keywords = scanner.engine.keywords
    wanted = {keyword for rule in scanner.engine.rules if rule.spans_lines and not rule.path
              for keyword in rule.keywords}
    return {i for i, keyword in enumerate(keywords) if keyword in wanted}


def holds_payload(text: str) -> bool:
    markers = payload_markers(text)
    return bool(markers.basic or markers.base64) or (markers.secret and SECRET_KIND.search(text) is not None)


def touching(work: BlobWork, suspects: list[FilePatch], stats: ScanStats) -> set[PatchKey]:
    """Step 2: the suspects whose new version has a match touching a changed line."""
    if not suspects:
        return set()
    flagged = set()
    contents = work.blob_reader().read_many([patch.key[2] for patch in suspects])
    for patch, (_, data) in zip(suspects, contents):
        if is_binary(data[:8192]) or touches_change(work.scanner, patch, decode(data), stats):
            flagged.add(patch.key)
    return flagged


def touches_change(scanner: Scanner, patch: FilePatch, text: str, stats: ScanStats) -> bool:
    stats.bytes_scanned += len(text)
    changed = changed_spans(text, patch.body)
    candidates = scanner.engine.find(text, patch.path, keep_rejected=True)
    keep = scanner.keep_suppressed
    return any(start <= c.match_end and c.match_start <= end
               for c in candidates if keep or c.rejected is None for start, end in changed)


def changed_spans(text: str, body: bytes) -> list[tuple[int, int]]:
    """Where the hunks changed the new version: the added lines' span, or the point where lines were
    removed (a hunk `+c,0` removes lines after line c)."""
    wanted = []
    for header in HUNK_HEADER.finditer(b"\n" + body):
        start, count = int(header[1]), int(header[2]) if header[2] is not None else 1
        wanted.append((start, count))
    line_starts = _line_starts(text, max((start + count for start, count in wanted), default=0) + 1)
    spans = []
    for start, count in wanted:
        if count == 0:
            point = line_starts[min(start, len(line_starts) - 1)]  # the start of line start+1
            spans.append((point, point))
        else:
            first = line_starts[min(start - 1, len(line_starts) - 1)]
            after = line_starts[min(start + count - 1, len(line_starts) - 1)]
            end = after - 1 if after > first and text[after - 1] == "\n" else after  # the last line's newline
            spans.append((first, end))
    return spans


def _line_starts(text: str, lines: int) -> list[int]:
    """Offsets where lines 1..lines begin (then the end of the text, for lines past it)."""
    parts = text.split("\n", lines)[:-1]  # git counts lines by "\n" alone (str.splitlines knows more breaks)
    return [*itertools.accumulate((len(part) + 1 for part in parts), initial=0), len(text)]
