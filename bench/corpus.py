"""Deterministic synthetic corpora for the benchmarks: a source tree, a log, a one-line bundle.

The text imitates real code (identifiers, strings, comments, config files, words like `token` and
`key` that make generic rules' keywords fire as they do on real code) with a few planted keys, so
every scanner does its real work, not a shortcut on empty input.
"""

from __future__ import annotations

import argparse
import random
import string
from pathlib import Path

WORDS = (
    "user account request response client server config value session cache index handler "
    "payload result error message status update create delete fetch retry timeout buffer stream parse "
    "render widget layout service api header query param order invoice customer item list name data"
).split()
# Words that make secret rules' keywords fire. Real code mentions them on a few lines in a hundred
# (measured on site-packages: 2.5% of lines), not on every line; auth-header lines below are rarer
# still (about 1% of lines), as in real code.
SECRET_WORDS = ("token", "key", "secret", "password", "auth")
SECRET_WORD_RATE = 0.008
ALNUM = string.ascii_letters + string.digits


def word(rng: random.Random) -> str:
    return rng.choice(SECRET_WORDS) if rng.random() < SECRET_WORD_RATE else rng.choice(WORDS)


def ident(rng: random.Random) -> str:
    return "_".join(word(rng) for _ in range(rng.randint(1, 3)))


def camel(rng: random.Random) -> str:
    parts = [word(rng) for _ in range(rng.randint(1, 3))]
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def python_line(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return f"    {ident(rng)} = {ident(rng)}({ident(rng)}, {rng.randint(0, 999)})"
    if kind < 0.4:
        return f"    # {' '.join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))}"
    if kind < 0.55:
        return f'    {ident(rng)} = "{" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))}"'
    if kind < 0.65:
        return f"def {ident(rng)}({ident(rng)}: str, {ident(rng)}: int = {rng.randint(0, 9)}) -> dict:"
    if kind < 0.75:
        return f"    if {ident(rng)}.{ident(rng)} is None:\n        raise ValueError(\"{ident(rng)} missing\")"
    if kind < 0.985:
        return f"    return {{'{ident(rng)}': {ident(rng)}, '{ident(rng)}': self.{ident(rng)}}}"
    return f"    log.debug(\"%s %s\", {ident(rng)}, headers.get(\"{rng.choice(['X-Request-Id', 'Accept', 'Authorization'])}\"))"


def js_line(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return f"  const {camel(rng)} = await {camel(rng)}({camel(rng)}, {{ {camel(rng)}: {rng.randint(0, 99)} }});"
    if kind < 0.45:
        return f"  // {' '.join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))}"
    if kind < 0.6:
        return f"  {camel(rng)}.{camel(rng)} = '{rand(rng, rng.randint(4, 16), string.ascii_lowercase)}';"
    if kind < 0.7:
        return f"export function {camel(rng)}({camel(rng)}, {camel(rng)}) {{"
    if kind < 0.99:
        return f"  if (!{camel(rng)}) {{ throw new Error('{ident(rng)}'); }}"
    return f"  headers: {{ 'Content-Type': 'application/json', Authorization: `Bearer ${{{camel(rng)}}}` }},"


def yaml_line(rng: random.Random) -> str:
    return f"{'  ' * rng.randint(0, 3)}{ident(rng)}: {rng.choice([str(rng.randint(0, 9999)), ident(rng), 'true', '${' + ident(rng).upper() + '}'])}"


LANGS = {".py": python_line, ".js": js_line, ".ts": js_line, ".yaml": yaml_line, ".go": js_line, ".java": js_line}


def planted_key(rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return f'STRIPE_SECRET_KEY = "sk_live_{rand(rng, 32)}"'
    if choice == 1:
        return f'aws_access_key_id = "AKIA{rand(rng, 16, string.ascii_uppercase + "234567")}"'
    if choice == 2:
        return f'SLACK_TOKEN = "xoxb-{rng.randint(10**11, 10**12)}-{rng.randint(10**11, 10**12)}-{rand(rng, 24)}"'
    return f'headers = {{"Authorization": "Bearer {rand(rng, 40)}"}}'


def source_file(rng: random.Random, size: int, suffix: str) -> str:
    make_line = LANGS[suffix]
    lines, total = [], 0
    while total < size:
        line = make_line(rng)
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def make_tree(root: Path, total_mb: int, *, seed: int = 1, keys: int = 25) -> Path:
    """A source tree of about total_mb MB in files of 1-40 KB across nested packages."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    budget, n = total_mb * 1024 * 1024, 0
    key_files = set(rng.sample(range(max(keys * 40, 1000)), keys))
    while budget > 0:
        suffix = rng.choice(list(LANGS))
        size = rng.randint(1024, 40 * 1024)
        directory = root / f"pkg{n % 97}" / f"mod{n % 13}"
        directory.mkdir(parents=True, exist_ok=True)
        text = source_file(rng, size, suffix)
        if n in key_files:
            text += planted_key(rng) + "\n"
        (directory / f"{ident(rng)}_{n}{suffix}").write_text(text)
        budget -= len(text)
        n += 1
    return root


def make_log(path: Path, total_mb: int, *, seed: int = 2) -> Path:
    rng = random.Random(seed)
    budget = total_mb * 1024 * 1024
    with path.open("w") as out:
        block: list[str] = []
        while budget > 0:
            for _ in range(2000):
                line = (
                    f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z INFO "
                    f"{ident(rng)} GET /api/v1/{ident(rng)}?id={rng.randint(1, 10**6)} status={rng.choice([200, 201, 404, 500])} "
                    f"ms={rng.randint(1, 900)} user={rand(rng, 8, string.ascii_lowercase)}"
                )
                if rng.random() < 0.00002:
                    line += f" Authorization: Bearer sk_live_{rand(rng, 32)}"
                block.append(line)
            text = "\n".join(block) + "\n"
            block.clear()
            out.write(text)
            budget -= len(text)
    return path


def make_bundle(path: Path, total_mb: int, *, seed: int = 3) -> Path:
    rng = random.Random(seed)
    parts, size = [], 0
    while size < total_mb * 1024 * 1024:
        piece = (
            f'function {rand(rng, 2, string.ascii_lowercase)}(e,t){{return e.{camel(rng)}("{ident(rng)}",t)}}'
            f'var {rand(rng, 2, string.ascii_lowercase)}={{{camel(rng)}:"{rand(rng, 12)}",{camel(rng)}:{rng.randint(0, 9999)}}};'
        )
        if rng.random() < 0.0005:
            piece += f'var k="sk_live_{rand(rng, 32)}";'
        parts.append(piece)
        size += len(piece)
    path.write_text("".join(parts))
    return path



def make_repo(root: Path, *, commits: int = 5000, total_mb: int = 500, seed: int = 4, files: int = 0) -> Path:
    """A git repository built with `git fast-import`: `commits` commits adding about total_mb MB of
    unique blobs in all, editing files across a tree, on two branches and a tag, with a few keys
    that are later deleted. With files > 0 the first commit also creates that many small files
    (the pre-commit benchmark's large working tree)."""
    import subprocess

    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    per_commit = total_mb * 1024 * 1024 // commits
    paths = [f"src/pkg{n % 53}/{ident(rng)}_{n}.py" for n in range(max(400, commits // 10))]
    process = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert process.stdin is not None
    write = process.stdin.write
    when = 1_700_000_000
    for n in range(1, commits + 1):
        changes: list[tuple[str, bytes]] = []
        if n == 1 and files:
            changes += [(f"tree/d{i % 100}/f{i}.py", source_file(rng, 300, ".py").encode()) for i in range(files)]
        budget = per_commit
        while budget > 0:
            text = source_file(rng, min(budget, rng.randint(2048, 24 * 1024)), ".py")
            if rng.random() < 0.002:
                text += planted_key(rng) + "\n"
            changes.append((rng.choice(paths), text.encode()))
            budget -= len(text)
        branch = "refs/heads/feature" if n % 10 == 0 else "refs/heads/main"
        write(f"commit {branch}\nmark :{n}\n".encode())
        write(f"author Dev {n % 7} <dev{n % 7}@example.test> {when + n * 60} +0000\n".encode())
        write(f"committer Dev {n % 7} <dev{n % 7}@example.test> {when + n * 60} +0000\n".encode())
        message = f"change {n}: {ident(rng)}".encode()
        write(b"data %d\n%s\n" % (len(message), message))
        if n > 1:
            write(f"from :{n - 1}\n".encode())
        for path, data in changes:
            write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        write(b"\n")
    write(f"reset refs/tags/v1\nfrom :{commits // 2}\n\n".encode())
    write(f"reset refs/heads/main\nfrom :{commits}\n\n".encode())
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True)
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("tree", "log", "bundle", "repo"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    if args.kind == "repo":
        make_repo(args.path, total_mb=args.mb)
    else:
        {"tree": make_tree, "log": make_log, "bundle": make_bundle}[args.kind](args.path, args.mb)
