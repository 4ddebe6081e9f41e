"""Run a scan of files: build the engine once, feed it chunks (in worker processes for big trees), collect a Report."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.errors import ConfigError
from scanner.finding import Finding
from scanner.pipeline import Scanner
from scanner.execution import run_parallel
from scanner.report import Report, ScanStats, build_report
from scanner.rules import Rule, builtin_rules_dir, load_rules, select_rulesets
from scanner.sources.files import FileEntry, file_chunks, stdin_chunks, walk

PARALLEL_MIN_FILES = 64  # below this, forking workers costs more than it saves
BATCH_FILES = 32


def select_rules(
    config: Config, extra_rules: Iterable[Path] = (), *, rulesets: Iterable[str] = (), notices: list[str] | None = None
) -> list[Rule]:
    """The built-in rules of the chosen rulesets (`--ruleset`, else the config's, else `default`), the
    config's `rules.extra` and `--rules` files (always), less the disabled ones.

    Rules that an untrusted config (one found in the scanned tree) adds lose their `verify` block:
    otherwise a pull request could point a rule matching real keys at its own host."""
    untrusted = () if config.trusted else config.extra_rules
    loaded = load_rules([*config.extra_rules, *extra_rules])  # built-ins first; ids unique across all
    builtin_dir = str(builtin_rules_dir())
    chosen = {rule.id for rule in select_rulesets(loaded, list(rulesets) or list(config.rulesets))}
    rules = [rule for rule in loaded if rule.id in chosen or not rule.origin.startswith(builtin_dir)]
    if untrusted:
        rules = [_without_verify(rule, untrusted, notices) for rule in rules]
    known = {rule.id for rule in loaded}
    unknown = [r for r in config.disabled_rules if r not in known]
    if unknown:
        raise ConfigError(f"{config.source}: rules.disable names unknown rule(s): {', '.join(unknown)}")
    return [rule for rule in rules if rule.id not in config.disabled_rules]


def _without_verify(rule: Rule, untrusted: Iterable[Path], notices: list[str] | None) -> Rule:
    if rule.verify is None or not any(_within(rule.origin, path) for path in untrusted):
        return rule
    if notices is not None:
        notices.append(f"{rule.origin}: rule '{rule.id}': verify ignored: rules from a config found in the scanned "
                       "tree may not send keys anywhere; pass the rule file with --rules to trust it")
    return dataclasses.replace(rule, verify=None)


def _within(origin: str, path: Path) -> bool:
    origin_path, base = Path(origin).resolve(), Path(path).resolve()
    return origin_path == base or base in origin_path.parents


def build_scanner(
    config: Config, *, extra_rules: Iterable[Path] = (), rulesets: Iterable[str] = (), keep_suppressed: bool = False
) -> Scanner:
    notices = list(config.notices)
    rules = select_rules(config, extra_rules, rulesets=rulesets, notices=notices)
    return Scanner(engine=Engine(rules), config=config, keep_suppressed=keep_suppressed, notices=tuple(notices))


def collect(scanner: Scanner, chunks: Iterable[Chunk], stats: ScanStats | None = None) -> list[Finding]:
    return [finding for chunk in chunks for finding in scanner.scan(chunk, stats)]


def scan_paths(
    paths: list[str], *, scanner: Scanner, jobs: int = 1, read_stdin: Callable[[], BinaryIO] | None = None,
    method: str | None = None,
) -> Report:
    """Scan files and directories ('-' is standard input, read with read_stdin)."""
    started = time.monotonic()
    stats = ScanStats()
    findings: list[Finding] = []
    walk_stats = ScanStats()  # the walk goes on in the pool's feeder thread: merged at the end
    entries = walk([p for p in paths if p != "-"], config=scanner.config, stats=walk_stats)
    if "-" in paths and read_stdin is not None:
        findings.extend(collect(scanner, stdin_chunks(read_stdin(), stats=stats, config=scanner.config), stats))
    first = list(itertools.islice(entries, PARALLEL_MIN_FILES))
    parallel = jobs > 1 and len(first) == PARALLEL_MIN_FILES
    if parallel:
        scanner.engine.prepare()  # compiled once here, then loaded by (or inherited into) the workers
    # Workers start on the first batches while the rest of the tree is still being walked.
    for found, batch_stats in run_parallel(scan_file_batch, _batches(itertools.chain(first, entries)),
                                           state=scanner, jobs=jobs if parallel else 1, method=method):
        findings.extend(found)
        stats.merge(batch_stats)
    stats.merge(walk_stats)
    return build_report(scanner.engine.rules, findings, stats, started)


def scan_file_batch(scanner: Scanner, batch: list[FileEntry]) -> tuple[list[Finding], ScanStats]:
    """One task: a few files, scanned in a worker (or in-process)."""
    stats = ScanStats()
    found = []
    for entry in batch:
        found.extend(collect(scanner, file_chunks(entry, config=scanner.config, stats=stats), stats))
    return found, stats


def _batches(entries: Iterable[FileEntry]) -> Iterator[list[FileEntry]]:
    iterator = iter(entries)
    while batch := list(itertools.islice(iterator, BATCH_FILES)):
        yield batch
