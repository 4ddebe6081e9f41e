"""Logs and bundles: MB/s and peak memory of `keysweep scan` on a 10 MB one-line bundle and a 1 GB log.

The inputs are generated into a temporary directory (deleted afterwards) with synthetic keys at
known places; each scan runs as `python -m scanner scan` in its own child process, timed by wall
clock, its peak RSS read from wait4(). The scan must find exactly the keys placed.

    python bench/logs_bundles.py                 # 10 MB bundle, 1 GB log
    python bench/logs_bundles.py --log-mb 200    # a quicker run
    python bench/logs_bundles.py --gzip          # also a gzip-rotated copy of the log
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE62 = string.ascii_letters + string.digits
MB = 1_000_000


def token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(BASE62) for _ in range(length))


def live_key(rng: random.Random) -> str:
    return "sk_live_" + token(rng, 32)  # the shape of rules/payments/stripe.toml's stripe.secret-key; random, not real


def log_block(rng: random.Random, lines: int) -> str:
    """A mix of the log styles keysweep reads: plain, JSON with escaped JSON inside, access logs."""
    out = []
    for n in range(lines):
        stamp = f"2024-05-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z"
        style = n % 3
        if style == 0:
            out.append(f"{stamp} INFO worker-{n % 8} handled GET /api/v1/items/{rng.randint(1, 10**6)} in {rng.randint(1, 900)}ms")
        elif style == 1:
            headers = json.dumps({"Accept": "application/json", "X-Request-Id": token(rng, 16)})
            out.append(json.dumps({"time": stamp, "level": "debug", "msg": "outbound call", "headers": headers}))
        else:
            out.append(f'10.0.{n % 256}.{rng.randint(1, 254)} - - [01/May/2024:12:{n // 60 % 60:02d}:{n % 60:02d} +0000] '
                       f'"GET /search?q=%22{token(rng, 6)}%22&page={n % 9} HTTP/1.1" 200 {rng.randint(100, 9999)}')
    return "\n".join(out) + "\n"


def write_log(path: Path, size: int, rng: random.Random, keys: int) -> list[str]:
    """About `size` bytes of log, with `keys` keys spread through it."""
    blocks = [log_block(rng, 8000) for _ in range(8)]
    placed: list[str] = []
    every = max(1, size // max(keys, 1))
    written, next_key = 0, every // 2
    with open(path, "w", encoding="utf-8") as handle:
        while written < size:
            block = blocks[len(placed) % len(blocks)] if written else blocks[0]
            handle.write(block)
            written += len(block)
            if written >= next_key and len(placed) < keys:
                key = live_key(rng)
                line = json.dumps({"time": "2024-05-01T12:00:00Z", "level": "warn", "msg": "retry",
                                   "headers": json.dumps({"Authorization": f"Bearer {key}"})}) + "\n"
                handle.write(line)
                written += len(line)
                placed.append(key)
                next_key += every
    return placed


def write_bundle(path: Path, size: int, rng: random.Random, keys: int) -> list[str]:
    """A single minified line of about `size` bytes with keys inlined as a bundler does."""
    names = [token(rng, 3) for _ in range(800)]
    filler = [rng.choice([f"function {n}(a,b){{return a*b+{rng.randint(0, 99)}}}", f'var {n}="{token(rng, 24)}";',
                          f"{n}.push({rng.randint(0, 9999)},{rng.randint(0, 9)});", f"if({n}){{{n}=!1}}"]) for n in names]
    pieces: list[str] = []
    placed: list[str] = []
    length, every = 0, size // max(keys, 1)
    while length < size:
        if length >= (len(placed) + 0.5) * every and len(placed) < keys:
            key = live_key(rng)
            piece = f'var e={{NEXT_PUBLIC_STRIPE_KEY:"{key}"}};'
            placed.append(key)
        else:
            piece = rng.choice(filler)
        pieces.append(piece)
        length += len(piece)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(pieces))
    return placed


def stripe_only_config(work: Path) -> Path:
    """A config disabling every rule but Stripe's: what the readers cost, apart from the rule library."""
    listing = subprocess.run([sys.executable, "-m", "scanner", "rules", "list", "--format", "json"],
                             capture_output=True, text=True, check=True)
    others = [rule["id"] for rule in json.loads(listing.stdout) if not rule["id"].startswith("stripe.")]
    path = work / "stripe-only.toml"
    path.write_text("[rules]\ndisable = " + json.dumps(others) + "\n")
    return path


def run_scan(target: Path, cwd: Path, config: Path | None) -> dict[str, float]:
    """Scan target in a child process: wall seconds, peak RSS, and the findings' secrets."""
    out = cwd / "report.json"
    started = time.monotonic()
    options = ["--config", str(config)] if config else []
    child = subprocess.Popen([sys.executable, "-m", "scanner", "scan", "--format", "json", "--no-redact", "-o", str(out),
                              "--jobs", "1", *options, str(target)], cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"scan of {target} failed with exit status {child.returncode}")
    findings = json.loads(out.read_text())["findings"]
    out.unlink()
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "secrets": [f["secret"] for f in findings]}  # type: ignore[dict-item]


def measure(name: str, target: Path, cwd: Path, placed: list[str], size: int, configs: dict[str, Path | None]) -> None:
    for rules, config in configs.items():
        result = run_scan(target, cwd, config)
        found = sorted(set(result.pop("secrets")) & set(placed))  # type: ignore[arg-type]
        if found != sorted(placed):
            raise SystemExit(f"{name}: expected {len(placed)} keys, found {len(found)}")
        row = {"input": name, "rules": rules, "mb": round(size / MB, 1), "seconds": round(result["seconds"], 2),
               "mb_per_s": round(size / MB / result["seconds"], 1), "cpu_seconds": round(result["cpu_seconds"], 2),
               "mb_per_cpu_s": round(size / MB / result["cpu_seconds"], 1), "peak_rss_mb": round(result["peak_rss_mb"], 1),
               "keys": len(placed), "load_average": round(os.getloadavg()[0], 1)}
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle-mb", type=float, default=10)
    parser.add_argument("--log-mb", type=float, default=1000)
    parser.add_argument("--gzip", action="store_true", help="also scan a gzip-compressed copy of the log")
    args = parser.parse_args()
    rng = random.Random(2024)
    work = Path(tempfile.mkdtemp(prefix="keysweep-bench-"))
    try:
        configs = {"stripe only": stripe_only_config(work), "all built-in": None}
        bundle = work / "dist" / "app.js"
        placed = write_bundle(bundle, int(args.bundle_mb * MB), rng, keys=10)
        measure("one-line bundle", bundle, work, placed, bundle.stat().st_size, configs)
        log = work / "logs" / "app.log"
        log.parent.mkdir()
        placed = write_log(log, int(args.log_mb * MB), rng, keys=16)
        measure("log", log, work, placed, log.stat().st_size, configs)
        if args.gzip:
            rotated = log.with_name("app.log.1.gz")
            with open(log, "rb") as source, gzip.open(rotated, "wb", compresslevel=1) as target:
                shutil.copyfileobj(source, target, 1 << 20)
            log.unlink()
            measure("gzip log (MB uncompressed)", rotated, work, placed, int(args.log_mb * MB), {"stripe only": configs["stripe only"]})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
