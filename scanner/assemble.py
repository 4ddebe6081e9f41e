"""The Scanner for a run: the rules its config and rulesets select, the engine over them, and what
was ignored on the way (notices). Every command builds its Scanner here."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from scanner.config import Config
from scanner.engine import Engine
from scanner.errors import ConfigError
from scanner.pipeline import Scanner
from scanner.rules import Rule, builtin_rules_dir, load_rules, select_rulesets


def select_rules(
    config: Config, extra_rules: Iterable[Path] = (), *, rulesets: Iterable[str] = (), notices: list[str] | None = None
) -> list[Rule]:
    """The built-in rules of the chosen rulesets (`--ruleset`, else the config's, else `default`), the
    config's `rules.extra` and `--rules` files (always), less the disabled ones.

    Rules that an untrusted config (one found in the scanned tree) adds lose their `verify` block:
    otherwise a pull request could point a rule matching real keys at its own host."""
    untrusted = () if config.trusted else config.extra_rules
    loaded = load_rules([*config.extra_rules, *extra_rules], lean=True)  # built-ins first; ids unique across all
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
