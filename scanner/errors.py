"""The one expected-error type and the exit codes it maps to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    BAD_CONFIG = 3
    INCOMPLETE = 4


class KeysweepError(Exception):
    """An expected failure: its message is shown as one line on stderr."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(KeysweepError):
    exit_code = ExitCode.USAGE


class ConfigError(KeysweepError):
    exit_code = ExitCode.BAD_CONFIG


class RuleError(KeysweepError):
    exit_code = ExitCode.BAD_CONFIG


class ScanIncomplete(KeysweepError):
    exit_code = ExitCode.INCOMPLETE
