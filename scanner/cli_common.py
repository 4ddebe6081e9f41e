"""The options every scanning command shares, gathered into one OutputOptions for `emit`
(scanner/emit.py). Both cli.py and cli_git.py import this module; neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scanner.emit import OutputOptions, emit, report_targets, show_notices

__all__ = ["FORMATS", "OutputOptions", "emit", "scan_options", "show_notices"]

FORMATS = ("text", "json", "jsonl", "sarif", "csv", "html", "junit", "gitlab")


def scan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every scanning command, gathered into one OutputOptions argument."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Report format (default: text; for -o files, the one each file's extension names)."),
        click.option("--output", "-o", "outputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
                     help="Write a report here (created with 0600 permissions) instead of stdout; repeatable, "
                          "the format taken from each extension: .sarif .json .jsonl .csv .html .xml (JUnit) "
                          ".gitlab.json .txt."),
        click.option("--no-redact", is_flag=True, help="Show secrets in full (redacted to a prefix by default)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Config file (default: .keysweep.toml or [tool.keysweep] in pyproject.toml, "
                          "found from the scanned path upward)."),
        click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
                     help="Extra rule file or directory (repeatable)."),
        click.option("--ruleset", "rulesets", multiple=True, metavar="NAME",
                     help="Run the built-in rules of this ruleset (repeatable): default (every precise rule), all, "
                          "a family (cloud, ai, payments …) or a provider. Extra rule files always run."),
        click.option("--exit-code", type=click.IntRange(0, 255), default=1, show_default=True,
                     help="Exit status when findings remain."),
        click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes (default: all cores)."),
        click.option("--show-suppressed", is_flag=True,
                     help="Also list candidates that filters suppressed, with the reason."),
        click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
                     help="Report only findings not in this baseline (see `keysweep baseline create`)."),
        click.option("--ignore-file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Fingerprints to ignore (default: .keysweepignore in the project root, if any)."),
        click.option("--report-unused-ignores", is_flag=True,
                     help="Warn about ignore-file entries that matched no finding."),
    ]
    for option in reversed(options):
        command = option(command)

    def wrapper(fmt: str | None, outputs: tuple[Path, ...], no_redact: bool, config_path: Path | None,
                extra_rules: tuple[Path, ...], exit_code: int, jobs: int | None, show_suppressed: bool,
                **kwargs: Any) -> Any:
        targets = report_targets(outputs, fmt)  # an unknown extension is an error now, not after the scan
        opts = OutputOptions(fmt or "text", targets, not no_redact, config_path, extra_rules, exit_code, jobs,
                             show_suppressed,
                             baseline=kwargs.pop("baseline"), ignore_file=kwargs.pop("ignore_file"),
                             report_unused_ignores=kwargs.pop("report_unused_ignores"),
                             rulesets=kwargs.pop("rulesets"))
        return command(opts=opts, **kwargs)

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    wrapper.__click_params__ = command.__click_params__  # type: ignore[attr-defined]
    return wrapper
