"""The `keysweep` command's entry point.

`keysweep git --staged`, what the pre-commit hook runs on every commit, goes straight to the scan
(scanner/git_command.py) without loading the command-line machinery: click's import alone is a
quarter of a ~100 ms hook. Any other command line, including the same command with any option,
goes through click in cli.py. Both report errors the same way (`emit.fail`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

HOOK_COMMAND_LINES = (["git", "--staged"], ["git", "--staged", "."], ["git", ".", "--staged"])


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    if args in HOOK_COMMAND_LINES:
        run(staged_hook)
    from scanner.cli import main as command_line

    command_line(args)
    raise AssertionError("cli.main exits")  # pragma: no cover


def staged_hook() -> int:
    from scanner.emit import OutputOptions
    from scanner.git_command import run_git
    from scanner.live import LiveOptions

    defaults = OutputOptions(fmt="text", outputs=(), redact=True, config=None, rules=(), exit_code=1, jobs=None,
                             show_suppressed=False)
    return run_git(defaults, LiveOptions(), ".", staged=True)


def run(call: Callable[[], int]) -> NoReturn:
    """Call, then exit with its status; expected errors become one line on stderr and their code."""
    try:
        status = call()
    except BaseException as exc:  # noqa: BLE001 - every outcome ends in one line and a status
        from scanner.emit import fail

        fail(exc)
    sys.exit(int(status))
