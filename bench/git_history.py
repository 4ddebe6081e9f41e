"""Git benchmarks (issue 3): history-scan throughput and the pre-commit hook's wall time.

    python bench/git_history.py [--commits 5000] [--mb 50] [--runs 15] [--record]

1. History: a repository generated with `git fast-import` (bench/corpus.py `make_repo`: >= 5,000
   commits on two branches and a tag, with planted keys) is scanned by `keysweep git --format json`;
   throughput is MB of unique blobs scanned per second and commits per second, wall clock,
   including Python start-up and `git log`. It runs twice: with every built-in rule (what users
   get), and with Stripe's rules only, which leaves the git source's own cost.
2. Pre-commit: a repository with 10,000 files gets a 3-file staged change, and `keysweep git --staged`
   (the command both hooks run) is timed `--runs` times after one warm-up run; median and p90 wall
   time, Python start-up included. Target: median under 300 ms.

Generated repositories live in bench/.work/ (git-ignored) and are reused between runs.
`--record` writes the numbers under the "git" heading of bench/RESULTS.md, leaving other sections alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from corpus import make_repo

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "RESULTS.md"


def timed(command: list[str], **kwargs: object) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run command; return it with its wall time and CPU time (user + system, its git children included).

    The machine is shared, so CPU time is the steadier number when other jobs compete for the cores."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, wall, cpu


def keysweep_command() -> list[str]:
    script = Path(sys.executable).parent / "keysweep"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scanner"]


def ensure_repo(path: Path, **kwargs: int) -> Path:
    marker = path / ".git" / "keysweep-bench"
    wanted = json.dumps(kwargs, sort_keys=True)
    if marker.is_file() and marker.read_text() == wanted:
        return path
    shutil.rmtree(path, ignore_errors=True)
    started = time.monotonic()
    make_repo(path, **kwargs)
    marker.write_text(wanted)
    print(f"generated {path.name} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return path


def stripe_only_config() -> Path:
    """A config disabling every rule but Stripe's: what is left is the git source's own cost."""
    listing = subprocess.run([*keysweep_command(), "rules", "list"], capture_output=True, text=True, check=True)
    others = [line.split("\t")[0] for line in listing.stdout.splitlines() if not line.startswith("stripe.")]
    path = WORK / "stripe-only.toml"
    path.write_text("[rules]\ndisable = [" + ", ".join(json.dumps(r) for r in others) + "]\n")
    return path


def bench_history(commits: int, mb: int, *, config: Path | None = None) -> dict[str, float]:
    repo = ensure_repo(WORK / f"history-{commits}c-{mb}mb", commits=commits, total_mb=mb)
    extra = ["--config", str(config)] if config else []
    result, wall, cpu = timed([*keysweep_command(), "git", str(repo), "--format", "json", *extra])
    if result.returncode not in (0, 1):
        raise SystemExit(f"keysweep git failed: {result.stderr.strip()}")
    stats = json.loads(result.stdout)["stats"]
    return {
        "commits": stats["commits_scanned"],
        "blobs": stats["blobs_scanned"],
        "mb": stats["bytes_scanned"] / 1e6,
        "findings": stats["findings"],
        "rules": stats["rules"],
        "wall_s": wall,
        "cpu_s": cpu,
        "mb_per_s": stats["bytes_scanned"] / 1e6 / wall,
        "commits_per_s": stats["commits_scanned"] / wall,
        "mb_per_cpu_s": stats["bytes_scanned"] / 1e6 / cpu,
        "load": os.getloadavg()[0],
    }


def bench_staged(files: int, runs: int) -> dict[str, float]:
    repo = ensure_repo(WORK / f"worktree-{files}f", commits=3, total_mb=1, files=files)
    tracked = subprocess.run(["git", "ls-files", "tree/d7"], cwd=repo, capture_output=True, text=True,
                             check=True).stdout.split()[:3]
    for n, name in enumerate(tracked):  # a typical small change: a few lines in three files
        with open(repo / name, "a", encoding="utf-8") as handle:
            handle.write(f"\ndef added_{n}(value):\n    return value * {n + 2}\n")
    subprocess.run(["git", "add", *tracked], cwd=repo, check=True)
    command = [*keysweep_command(), "git", "--staged"]
    times, cpu_times = [], []
    for run in range(runs + 1):
        result, elapsed, cpu = timed(command, cwd=repo)
        if result.returncode != 0:
            raise SystemExit(f"keysweep git --staged failed: {result.stderr.strip()}")
        if run:  # the first run warms the OS cache and keysweep's prefilter cache
            times.append(elapsed)
            cpu_times.append(cpu)
    subprocess.run(["git", "checkout", "-q", "HEAD", "--", *tracked], cwd=repo, check=True)
    times.sort()
    return {
        "files": int(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True,
                                    check=True).stdout.count("\n")),
        "runs": runs,
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": times[min(len(times) - 1, int(len(times) * 0.9))] * 1000,
        "min_ms": times[0] * 1000,
        "cpu_median_ms": statistics.median(cpu_times) * 1000,
        "load": os.getloadavg()[0],
    }


def markdown(history: dict[str, float], source: dict[str, float], staged: dict[str, float]) -> str:
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return (
        "## git\n\n"
        f"`python bench/git_history.py` on {machine}. The machine is shared with other jobs: wall times\n"
        "depend on the load average shown; CPU time is the steadier measure of keysweep's own work.\n\n"
        "| benchmark | wall clock | CPU (user + system) | load average |\n| --- | --- | --- | --- |\n"
        f"| history scan, {history['commits']:.0f} commits, {history['blobs']:.0f} unique blobs, "
        f"{history['mb']:.1f} MB, {history['rules']:.0f} built-in rules ({history['findings']:.0f} findings) "
        f"| {history['wall_s']:.1f} s: **{history['mb_per_s']:.1f} MB/s**, **{history['commits_per_s']:.0f} commits/s** "
        f"| {history['cpu_s']:.1f} s: {history['mb_per_cpu_s']:.1f} MB per CPU-second | {history['load']:.1f} |\n"
        f"| same, Stripe rules only (the git source's own cost: git log, cat-file, decode, prefilter) "
        f"| {source['wall_s']:.1f} s: **{source['mb_per_s']:.1f} MB/s**, **{source['commits_per_s']:.0f} commits/s** "
        f"| {source['cpu_s']:.1f} s: {source['mb_per_cpu_s']:.1f} MB per CPU-second | {source['load']:.1f} |\n"
        f"| `keysweep git --staged`, 3-file change in a {staged['files']:.0f}-file repo, {staged['runs']:.0f} runs "
        f"(target: median < 300 ms, Python start-up included) "
        f"| median **{staged['median_ms']:.0f} ms**, p90 {staged['p90_ms']:.0f} ms, min {staged['min_ms']:.0f} ms "
        f"| median {staged['cpu_median_ms']:.0f} ms | {staged['load']:.1f} |\n"
    )


def record(section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(r"^## git\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--mb", type=int, default=50, help="total size of the history's unique blobs")
    parser.add_argument("--files", type=int, default=10_000, help="files in the pre-commit repository")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--record", action="store_true", help="write the results into bench/RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    history = bench_history(args.commits, args.mb)
    source = bench_history(args.commits, args.mb, config=stripe_only_config())
    staged = bench_staged(args.files, args.runs)
    section = markdown(history, source, staged)
    print(section)
    if args.record:
        record(section)


if __name__ == "__main__":
    main()
