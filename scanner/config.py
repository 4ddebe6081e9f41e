"""Configuration: `.keysweep.toml`, or `[tool.keysweep]` in `pyproject.toml`, found upward from the scan path.

    [scan]
    max_file_size = "10MB"        # larger files are skipped with a warning
    exclude = ["vendor/**"]       # never read

    [rules]
    rulesets = ["default"]        # built-in rulesets: default (precise rules), all, a family, a provider
    disable = ["generic.high-entropy-assignment"]
    extra = ["ci/keysweep-rules"] # more rule files, relative to the config file

    [[allowlist]]                 # or a single [allowlist] table
    description = "fixtures"
    rules = ["stripe.secret-key"] # optional: only these rules
    paths = ["tests/fixtures/**"]
    regexes = ['^sk_test_']       # matched against regex_target
    regex_target = "secret"       # secret | match | line
    stopwords = ["example"]

Sections for later stages (`revoke`, `verify`, `git`) are kept raw for the modules that own them.

Who may say where data goes (docs/security.md): a config passed with `--config`, or the user's own
`$XDG_CONFIG_HOME/keysweep/config.toml`, is trusted. A config *found* from the scanned path upward
may come from the code being scanned (a pull request, a third-party repository): it tunes detection
only. Its `[revoke]` table is ignored and the rules it adds through `rules.extra` lose their `verify`
blocks, each with a notice on stderr, so it can never send a found key anywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re

from scanner.errors import ConfigError

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
CONFIG_FILE = ".keysweep.toml"
USER_CONFIG = "config.toml"  # in $XDG_CONFIG_HOME/keysweep: trusted, outside any scanned tree
SENDING_SECTIONS = ("revoke",)  # what only a trusted config may set
SECTIONS = {"scan", "rules", "allowlist", "revoke", "verify", "git", "baseline"}
REGEX_TARGETS = ("secret", "match", "line")
SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "K": 1024, "MB": 1024**2, "M": 1024**2, "GB": 1024**3, "G": 1024**3}


@dataclass(frozen=True)
class Allowlist:
    description: str = ""
    rules: tuple[str, ...] = ()  # empty: applies to every rule
    paths: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()
    regex_target: str = "secret"
    stopwords: tuple[str, ...] = ()

    @functools.cached_property
    def compiled(self) -> tuple[Any, ...]:
        import regex  # loaded on first use: most runs have no allowlist regex

        return tuple(regex.compile(r) for r in self.regexes)

    @property
    def is_path_only(self) -> bool:
        """A global path-only allowlist lets sources skip the file before reading it."""
        return bool(self.paths) and not (self.rules or self.regexes or self.stopwords)


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)  # config globs are relative to this directory
    source: str | None = None  # the file it came from, None for defaults
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: tuple[str, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    rulesets: tuple[str, ...] = ()  # built-in rulesets to run (empty: `default`, every precise rule)
    extra_rules: tuple[Path, ...] = ()
    allowlists: tuple[Allowlist, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    force_kind: str | None = None  # `scan --as`: read every input as log, bundle, sourcemap or har
    trusted: bool = True  # from --config or the user's config dir: its rules may verify, [revoke] may send
    revoke_source: str | None = None  # the trusted file the [revoke] table came from
    notices: tuple[str, ...] = ()  # what was ignored for safety, shown on stderr

    @functools.cached_property
    def skip_globs(self) -> tuple[str, ...]:
        """Paths never read: excludes, and allowlists that name only paths (nothing in them could count)."""
        return self.exclude + tuple(glob for a in self.allowlists if a.is_path_only for glob in a.paths)

    def relative(self, fs_path: str) -> str:
        """A filesystem path as config globs see it: relative to the config's directory."""
        absolute = os.path.abspath(fs_path)
        try:
            return Path(absolute).relative_to(self.root).as_posix()
        except ValueError:
            return Path(fs_path).as_posix()


def find_config(start: Path) -> Path | None:
    """The nearest .keysweep.toml, or pyproject.toml with [tool.keysweep], from start upward."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        return b"[tool.keysweep" in pyproject.read_bytes()
    except OSError:
        return False


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "keysweep" / USER_CONFIG


def load_config(explicit: Path | None, *, start: Path) -> Config:
    """The explicit config (trusted), else the one found from start upward (detection only) with the
    user's own config supplying what sends data; defaults when there is neither."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        return _parse_file(explicit, trusted=True)
    user_path = user_config_path()
    user = _parse_file(user_path, trusted=True) if user_path.is_file() else None
    found = find_config(start)
    if found is None:
        return user or Config()
    project = _parse_file(found, trusted=False)
    if user is None or "revoke" not in user.raw:
        return project
    return dataclasses.replace(project, raw={**project.raw, "revoke": user.raw["revoke"]}, revoke_source=user.source)


def _parse_file(path: Path, *, trusted: bool) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("keysweep", {})
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [tool.keysweep] must be a table")
    return parse_config(data, root=path.resolve().parent, source=str(path), trusted=trusted)


def parse_config(data: dict[str, Any], *, root: Path, source: str, trusted: bool = True) -> Config:
    unknown = set(data) - SECTIONS
    if unknown:
        raise ConfigError(f"{source}: unknown section(s): {', '.join(sorted(unknown))}; expected {', '.join(sorted(SECTIONS))}")
    notices = []
    if not trusted:
        data = dict(data)
        for section in SENDING_SECTIONS:
            if data.pop(section, None) is not None:
                notices.append(
                    f"{source}: [{section}] ignored: a config found in the scanned tree may tune detection but "
                    f"not send data; pass it with --config, or put it in {user_config_path()}"
                )
    scan = _table(data, "scan", source, {"max_file_size", "exclude"})
    rules = _table(data, "rules", source, {"disable", "extra", "rulesets"})
    return Config(
        root=root,
        source=source,
        max_file_size=parse_size(scan.get("max_file_size", DEFAULT_MAX_FILE_SIZE), f"{source}: scan.max_file_size"),
        exclude=_strings(scan.get("exclude", []), f"{source}: scan.exclude"),
        disabled_rules=_strings(rules.get("disable", []), f"{source}: rules.disable"),
        rulesets=_strings(rules.get("rulesets", []), f"{source}: rules.rulesets"),
        extra_rules=tuple(root / p for p in _strings(rules.get("extra", []), f"{source}: rules.extra")),
        allowlists=_allowlists(data.get("allowlist", []), source),
        raw=data,
        trusted=trusted,
        revoke_source=source if trusted and "revoke" in data else None,
        notices=tuple(notices),
    )


def _table(data: dict[str, Any], name: str, source: str, keys: set[str]) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    unknown = set(table) - keys
    if unknown:
        raise ConfigError(f"{source}: [{name}] has unknown key(s): {', '.join(sorted(unknown))}")
    return table


def _allowlists(value: Any, source: str) -> tuple[Allowlist, ...]:
    entries = [value] if isinstance(value, dict) else value
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: allowlist must be a table or an array of tables")
    allowlists = []
    for n, entry in enumerate(entries, 1):
        where = f"{source}: allowlist #{n}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        unknown = set(entry) - {"description", "rules", "paths", "regexes", "regex_target", "stopwords"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
        target = entry.get("regex_target", "secret")
        if target not in REGEX_TARGETS:
            raise ConfigError(f"{where}: regex_target must be one of {', '.join(REGEX_TARGETS)}")
        allowlist = Allowlist(
            description=str(entry.get("description", "")),
            rules=_strings(entry.get("rules", []), f"{where}: rules"),
            paths=_strings(entry.get("paths", []), f"{where}: paths"),
            regexes=_strings(entry.get("regexes", []), f"{where}: regexes"),
            regex_target=target,
            stopwords=tuple(s.lower() for s in _strings(entry.get("stopwords", []), f"{where}: stopwords")),
        )
        for pattern in allowlist.regexes:
            import regex

            try:
                regex.compile(pattern)
            except regex.error as exc:
                raise ConfigError(f"{where}: regex {pattern!r} does not compile: {exc}") from None
        allowlists.append(allowlist)
    return tuple(allowlists)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: must be a list of strings")
    return tuple(value)


def parse_size(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", value.upper())
        if match:
            return int(float(match.group(1)) * SIZE_UNITS[match.group(2)])
    raise ConfigError(f"{where}: expected a positive size such as 10485760 or \"10MB\", got {value!r}")
