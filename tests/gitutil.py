"""Build real git repositories in tmp dirs for the git tests (identity comes from conftest's env)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from scanner.config import Config
from scanner.engine import Engine
from scanner.pipeline import Scanner
from scanner.rules import builtin_rules_dir, load_rules

DATA = Path(__file__).resolve().parent / "data"

# An AWS-style pair: the key id on one line, its secret on the next. The rule needs both lines,
# which is what a diff-based history scan loses when a commit changes only one of them.
PAIR_RULES = '''
[[rules]]
id = "testcorp.key-pair"
name = "Testcorp key pair"
description = "A Testcorp access key id with its secret on the next line."
pattern = \'\'\'(?m)^TESTCORP_KEY_ID\\s*=\\s*TCK[A-Z0-9]{16}[ \\t]*\\r?\\n[ \\t]*TESTCORP_SECRET\\s*=\\s*([A-Za-z0-9/+]{40})\'\'\'
keywords = ["testcorp_secret"]
severity = "high"
confidence = "high"
examples = ["TESTCORP_KEY_ID = TCKQ3J7W2M9X4K8P1R5T\\nTESTCORP_SECRET = QBDnTGzRnDhqDOdT30DKh74VC3bXylxOb3rnZPc3"]
'''


def pair_rules_file(directory: Path) -> Path:
    path = directory / "pair-rules.toml"
    path.write_text(PAIR_RULES, encoding="utf-8")
    return path


def isolated_scanner(directory: Path, config: Config | None = None, *, keep_suppressed: bool = False) -> Scanner:
    """Stripe's rules plus the pair rule and nothing else, so team-mates' rule files can't change results."""
    rules = load_rules([builtin_rules_dir() / "payments" / "stripe.toml", pair_rules_file(directory)], builtin=False)
    return Scanner(engine=Engine(rules), config=config or Config(root=directory), keep_suppressed=keep_suppressed)


class GitRepo:
    """A repository driven through the real git command line."""

    def __init__(self, path: Path, *, init: bool = True, bare: bool = False) -> None:
        self.path = path
        self.clock = 1_704_067_200  # 2024-01-01T00:00:00Z; each commit is one day later
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main", *(["--bare"] if bare else []))

    def env(self, author: str | None) -> dict[str, str]:
        env = dict(os.environ)
        stamp = f"@{self.clock} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        if author:
            env.update(GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=f"{author.lower()}@example.test")
        return env

    def git(self, *args: str, author: str | None = None, stdin: str | bytes | None = None) -> str:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        result = subprocess.run(["git", *args], cwd=self.path, env=self.env(author), input=data,
                                capture_output=True, check=False)
        if result.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
        return result.stdout.decode(errors="replace").strip()

    def write(self, name: str | bytes, text: str | bytes) -> Path:
        path = os.path.join(os.fsencode(self.path), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
        return Path(os.fsdecode(path))

    def commit(self, message: str, files: dict[str, str] | None = None, *, author: str = "Ada",
               remove: tuple[str, ...] = ()) -> str:
        """Write files, stage everything, commit one day after the previous commit; return the sha."""
        for name, text in (files or {}).items():
            self.write(name, text)
        for name in remove:
            self.git("rm", "-q", "--", name)
        self.git("add", "-A")
        self.clock += 86400
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author)
        return self.rev("HEAD")

    def rev(self, name: str) -> str:
        return self.git("rev-parse", name)

    def tick(self) -> None:
        self.clock += 86400
