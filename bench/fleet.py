"""Fleet benchmark (issue 13): 200 generated repositories of mixed sizes, audited four ways.

    bench/setup_peers.sh            # once: gitleaks and Betterleaks in bench/.work/peers
    python bench/fleet.py [--repos 200] [--skip-peers] [--workers 2]

1. `keysweep fleet --root DIR` on its LocalCluster (--workers, default all cores), fresh state dir;
2. the same command again with nothing changed (the nightly rerun);
3. a shell loop running `keysweep git REPO` per repository (each with --jobs = all cores);
4. the same loop with gitleaks (`gitleaks git`) and Betterleaks (`betterleaks git`), no verification.

Repositories (bench/corpus.py `make_repo`, `git fast-import`, planted keys, two branches and a tag):
3 in 4 small (1 MB, 5-30 commits), 1 in 5 medium (2 MB, 100-300 commits), 1 in 20 large (6 MB,
1,500-3,000 commits: the largest are split into commit-range tasks). They live in
bench/.work/fleet-<n>/ and are reused between runs. Wall times, one run each (the loops take minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from compare import find_peers, prepare_keysweep  # noqa: E402
from corpus import make_repo  # noqa: E402

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"


def sizes(count: int, seed: int = 13) -> list[tuple[int, int]]:
    """(commits, MB) for each repository: mostly small, some medium, a few large."""
    rng = random.Random(seed)
    plan = []
    for n in range(count):
        if n % 20 == 0:
            plan.append((rng.randint(1500, 3000), 6))
        elif n % 5 == 0:
            plan.append((rng.randint(100, 300), 2))
        else:
            plan.append((rng.randint(5, 30), 1))
    return plan


def ensure_fleet(count: int) -> Path:
    root = WORK / f"fleet-{count}"
    marker = root / ".keysweep-bench"
    wanted = json.dumps(sizes(count))
    if marker.is_file() and marker.read_text() == wanted:
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.monotonic()
    for n, (commits, mb) in enumerate(sizes(count)):
        make_repo(root / f"repo{n:03d}", commits=commits, total_mb=mb, seed=n)
    marker.write_text(wanted)
    print(f"generated {count} repositories in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return root


def keysweep_script() -> str:
    script = Path(sys.executable).parent / "keysweep"
    return str(script) if script.exists() else f"{sys.executable} -m scanner"


def timed_shell(script: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(["bash", "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"failed ({result.returncode}): {script[:200]}\n{result.stderr.decode()[-2000:]}")
    return elapsed, result.returncode


def loop(repos: list[Path], command: str, out: Path) -> str:
    """`for r in …; do <command>; done` with $r the repository and $out a report file of its own."""
    names = " ".join(shlex.quote(str(r)) for r in repos)
    return f"set -u; out={shlex.quote(str(out))}; for r in {names}; do n=$(basename \"$r\"); {command}; done"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    root = ensure_fleet(args.repos)
    repos = sorted(p for p in root.iterdir() if p.is_dir())
    blob_mb = sum(int(subprocess.run(["git", "count-objects", "-v"], cwd=r, capture_output=True, text=True)
                      .stdout.split("size-pack: ")[1].split()[0]) for r in repos) / 1024
    keysweep = keysweep_script()
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="keysweep-fleet-bench-") as tmp:
        work = Path(tmp)
        prepare_keysweep(work)
        state = work / "state"
        fleet = (f"{keysweep} fleet --root {shlex.quote(str(root))} --workers {args.workers} "
                 f"--state-dir {shlex.quote(str(state))} --format json -o {shlex.quote(str(work / 'fleet.json'))}")
        first, _ = timed_shell(fleet)
        stats = json.loads((work / "fleet.json").read_text())["stats"]
        rows.append((f"keysweep fleet, LocalCluster of {args.workers} workers, first run", first,
                     f"{stats['repositories_scanned']} scanned, {stats['commits_scanned']} commits, "
                     f"{stats['findings']} findings, {stats['bytes_scanned'] / 1e6:.0f} MB"))
        reruns = []
        for _ in range(3):
            seconds, _ = timed_shell(fleet)
            reruns.append(seconds)
        again = json.loads((work / "fleet.json").read_text())["stats"]
        rerun = sorted(reruns)[1]
        rows.append(("keysweep fleet, rerun with nothing changed (median of 3)", rerun,
                     f"{again['repositories_unchanged']} unchanged, {again['commits_scanned']} commits, "
                     f"{again['findings']} findings; {rerun / first:.1%} of the first run"))
        out = work / "loop"
        out.mkdir()
        seconds, _ = timed_shell(loop(repos, f'{keysweep} git "$r" --format json -o "$out/$n.json" || [ $? -eq 1 ]', out))
        found = sum(len(json.loads(p.read_text())["findings"]) for p in out.glob("*.json"))
        rows.append(("shell loop: `keysweep git REPO` per repository", seconds, f"{found} findings; fleet is "
                     f"{seconds / first:.2f}x faster"))
        if not args.skip_peers:
            peers = find_peers(WORK / "peers")
            if "gitleaks" in peers:
                gitleaks = " ".join(map(shlex.quote, peers["gitleaks"]))
                seconds, _ = timed_shell(loop(repos, f'{gitleaks} git "$r" --report-path "$out/$n.gitleaks.json" '
                                               '--report-format json --no-banner --exit-code 0 --log-level error', out))
                found = sum(len(json.loads(p.read_text() or "[]")) for p in out.glob("*.gitleaks.json"))
                rows.append(("shell loop: `gitleaks git REPO` per repository", seconds,
                             f"{found} findings; fleet is {seconds / first:.2f}x faster"))
            if "betterleaks" in peers:
                betterleaks = " ".join(map(shlex.quote, peers["betterleaks"]))
                seconds, _ = timed_shell(loop(repos, f'env -u BETTERLEAKS_VALIDATE -u BETTERLEAKS_ANALYZE {betterleaks} git "$r" -o "$out/$n.betterleaks.json" '
                                               '--no-banner --exit-code 0 --log-level error', out))
                found = sum(len(json.loads(p.read_text() or "[]")) for p in out.glob("*.betterleaks.json"))
                rows.append(("shell loop: `betterleaks git REPO` per repository", seconds,
                             f"{found} findings; fleet is {seconds / first:.2f}x faster"))
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"{len(repos)} repositories, {blob_mb:.0f} MB packed, {machine}, load {os.getloadavg()[0]:.1f}\n")
    print("| run | wall s | notes |\n| --- | ---: | --- |")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.1f} | {note} |")


if __name__ == "__main__":
    main()
