"""The end of every scanning command: report-time filters, warnings, reports written, exit status.

It imports no command-line machinery, so the pre-commit hook's fast path (scanner/entry.py) runs
it directly; cli_common.py turns options into an OutputOptions for it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from scanner.errors import ExitCode, KeysweepError

MAX_WARNINGS_SHOWN = 20


def say(line: str) -> None:
    """One line on stderr."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class OutputOptions:
    """The options every scanning command shares (see `scan_options`)."""

    fmt: str  # what standard output gets: --format, else text
    outputs: tuple[tuple[str, Path], ...]  # (format, file) for each -o; empty: the report goes to stdout
    redact: bool
    config: Path | None
    rules: tuple[Path, ...]
    exit_code: int
    jobs: int | None
    show_suppressed: bool
    baseline: Path | None = None  # accepted findings (scanner/filters/baseline.py)
    ignore_file: Path | None = None
    report_unused_ignores: bool = False
    rulesets: tuple[str, ...] = ()  # built-in rulesets to run; empty: the config's, else `default`


def emit(report: Any, opts: OutputOptions, *, root: Path | None = None, post: Any = None,
         apply_accepted: bool = True) -> ExitCode | int:
    """Run the report-time filters (baseline, ignore file; --only-verified after --verify), print
    warnings, write the report, and choose the exit status.

    root is the directory report paths are relative to (a repository's root for git findings).
    post (from `LiveOptions.prepare`) verifies keys before the report and revokes them after it.
    apply_accepted=False: the caller applied baseline and ignore files itself (`fleet`: per repository).
    """
    from datetime import datetime, timezone

    from scanner.filters.stage import filter_report
    from scanner.output import printable, use_color, write_report
    from scanner.reporters import render

    if apply_accepted:
        report = apply_accepted_findings(report, opts, root=Path.cwd() if root is None else root)
    if post is not None:
        report = post.verify(report)
        if post.only_verified:
            from scanner.filters.verified import ONLY_VERIFIED

            report = filter_report(report, [ONLY_VERIFIED], keep_suppressed=opts.show_suppressed)
    warnings = report.stats.warnings
    for warning in warnings[:MAX_WARNINGS_SHOWN]:
        say(f"keysweep: warning: {printable(warning)}")
    if len(warnings) > MAX_WARNINGS_SHOWN:
        say(f"keysweep: warning: … and {len(warnings) - MAX_WARNINGS_SHOWN} more")
    finished_at = datetime.now(timezone.utc)
    target = str(root if root is not None else Path.cwd())
    to_stdout = not opts.outputs or any(str(path) == "-" for _, path in opts.outputs)
    for fmt, path in opts.outputs or ((opts.fmt, Path("-")),):
        color = fmt == "text" and str(path) == "-" and use_color()
        write_report(render(report, fmt, redact=opts.redact, color=color, finished_at=finished_at, target=target),
                     None if str(path) == "-" else path)
    if not to_stdout:  # every report went to a file: the terminal still hears how the scan went
        from scanner.reporters.text import summary

        written = ", ".join(f"{path} ({fmt})" for fmt, path in opts.outputs)
        say(f"keysweep: {summary(report)}; report{'s' if len(opts.outputs) > 1 else ''}: {written}")
    if post is not None:
        revocation = post.after_output(report, root=root)  # never changes the exit status
        html = [(fmt, path) for fmt, path in opts.outputs if fmt == "html" and str(path) != "-"]
        if revocation and html:  # the audit page shows what revocation did: written again, atomically
            with_outcomes = dataclasses.replace(report, extra_stats={**report.extra_stats, "revocation": revocation})
            for fmt, path in html:
                write_report(render(with_outcomes, fmt, redact=opts.redact, finished_at=finished_at, target=target), path)
    return opts.exit_code if report.findings else ExitCode.CLEAN


def report_targets(outputs: tuple[Path, ...], fmt: str | None) -> tuple[tuple[str, Path], ...]:
    """Each -o file with its format: --format if given, else what the file's extension names
    (scanner/reporters: EXTENSIONS), else text for a name with no extension (`-`, /dev/null).
    A file named twice is written once."""
    if not outputs:
        return ()
    from scanner.reporters import format_for_path

    targets: dict[Path, str] = {}
    for path in outputs:
        targets.setdefault(path, fmt or ("text" if str(path) == "-" else format_for_path(path) or "text"))
    return tuple((chosen, path) for path, chosen in targets.items())


def show_notices(notices: tuple[str, ...] | list[str]) -> None:
    """What was ignored for safety (scanner/config.py), said before the scan starts."""
    from scanner.output import printable

    for notice in notices:
        say(f"keysweep: warning: {printable(notice)}")


def apply_accepted_findings(report: Any, opts: OutputOptions, *, root: Path) -> Any:
    """Filters 6 and 7 (baseline, .keysweepignore), matched the same way for every command."""
    from scanner.filters.baseline import IGNORE_FILE, AcceptedFilters, load_accepted
    from scanner.filters.stage import filter_report

    if opts.baseline is None and opts.ignore_file is None and not (root / IGNORE_FILE).is_file():
        return report
    accepted = load_accepted(baseline=opts.baseline, ignore_file=opts.ignore_file, root=root)
    assert accepted is not None
    filters = AcceptedFilters(accepted, root=root)
    report = filter_report(report, filters.filters, keep_suppressed=opts.show_suppressed)
    filters.note_suppressed(report.suppressed)
    if opts.report_unused_ignores:
        report.stats.warnings.extend(f"{accepted.ignore_source}:{i.line}: ignore matched no finding"
                                     for i in filters.unused())
    return report


def fail(exc: BaseException) -> NoReturn:
    """One error line on stderr and a meaningful exit status, whatever went wrong."""
    from scanner.output import printable

    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, KeysweepError):
        say(f"keysweep: error: {printable(str(exc))}")
        sys.exit(int(exc.exit_code))
    if isinstance(exc, KeyboardInterrupt):
        say("keysweep: error: interrupted")
        sys.exit(130)
    if isinstance(exc, BrokenPipeError):
        sys.exit(int(ExitCode.CLEAN))
    if os.environ.get("KEYSWEEP_DEBUG"):  # a bug, not bad input: the traceback on request
        raise exc
    say(f"keysweep: error: internal error: {type(exc).__name__} (set KEYSWEEP_DEBUG=1 for a traceback)")
    sys.exit(int(ExitCode.INCOMPLETE))
