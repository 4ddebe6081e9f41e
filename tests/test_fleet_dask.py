"""keysweep fleet on real Dask: the command with its LocalCluster, and a `dask scheduler` with two
`dask worker` processes started here on 127.0.0.1, one of them killed with SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_keysweep
from gitutil import GitRepo

pytestmark = pytest.mark.slow
DASK = Path(sys.executable).parent / "dask"


def make_repos(root: Path, count: int, *, commits: int = 3, files: int = 1) -> dict[str, str]:
    """count repositories; repository n holds one key of its own. Returns name -> key."""
    keys = {}
    for n in range(count):
        repo = GitRepo(root / f"repo{n:02d}")
        for c in range(commits):
            repo.commit(f"change {c}", {f"src/m{f}.py": f"VALUE_{f} = {c}\n" + "x = 1\n" * 200 for f in range(files)})
        key = f"sk_live_{n:02d}Q3J7W2M9X4K8P1R5T0Zz9Yy8X"
        repo.commit("config", {"settings.py": f'STRIPE_KEY = "{key}"\n'})
        keys[str(repo.path)] = key
    return keys


def findings_by_repo(stdout: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in json.loads(stdout)["findings"]:
        found.setdefault(f["repository"], []).append(f["secret"])
    return found


def test_local_cluster_run_and_rerun(tmp_path: Path) -> None:
    keys = make_repos(tmp_path / "org", 4)
    (tmp_path / "org" / "notes").mkdir()  # not a repository: --root skips it
    state = tmp_path / "state"
    first = run_keysweep("fleet", "--root", str(tmp_path / "org"), "--workers", "2", "--state-dir", str(state),
                         "--format", "json", "--no-redact")
    assert first.returncode == 1, first.stderr
    assert findings_by_repo(first.stdout) == {name: [key] for name, key in keys.items()}
    stats = json.loads(first.stdout)["stats"]
    assert (stats["repositories"], stats["repositories_scanned"], stats["repositories_failed"],
            stats["commits_scanned"]) == (4, 4, 0, 16)
    again = run_keysweep("fleet", "--root", str(tmp_path / "org"), "--state-dir", str(state), "--format", "json",
                         "--no-redact")
    assert again.returncode == 1, again.stderr
    stats = json.loads(again.stdout)["stats"]
    assert (stats["repositories_unchanged"], stats["commits_scanned"]) == (4, 0)
    assert findings_by_repo(again.stdout) == findings_by_repo(first.stdout)
    text = run_keysweep("fleet", "--root", str(tmp_path / "org"), "--state-dir", str(state))
    headers = [line for line in text.stdout.splitlines() if line.startswith("== ")]
    assert headers == [f"== {name} ==" for name in sorted(keys)]


def test_a_corrupt_repository_exits_4_when_nothing_is_found(tmp_path: Path) -> None:
    good = GitRepo(tmp_path / "good")
    good.commit("clean", {"a.py": "x = 1\n"})
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / ".git").write_text("gitdir: /nonexistent\n")
    result = run_keysweep("fleet", str(good.path), str(bad), "--workers", "1", "--state-dir", str(tmp_path / "s"),
                          "--format", "json")
    assert result.returncode == 4, result.stderr
    assert f"keysweep: warning: {bad}: not scanned: " in result.stderr
    stats = json.loads(result.stdout)["stats"]
    assert (stats["repositories_scanned"], stats["repositories_failed"]) == (1, 1)


@pytest.fixture()
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """`dask scheduler` and two `dask worker` processes (no nanny: a killed worker stays dead)."""
    info = tmp_path / "scheduler.json"
    logs = open(tmp_path / "dask.log", "wb")
    common = ["--no-dashboard"]
    scheduler = subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--scheduler-file", str(info), *common], stdout=logs, stderr=logs)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 20
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        workers = [subprocess.Popen([str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                     "--no-nanny", *common], stdout=logs, stderr=logs) for _ in range(2)]
        from distributed import Client

        with Client(address, timeout=20) as client:
            client.wait_for_workers(2, timeout=20)
        yield address, workers
    finally:
        for process in (*workers, scheduler):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (*workers, scheduler):
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
        logs.close()


def test_existing_cluster_survives_a_killed_worker(tmp_path: Path,
                                                  dask_cluster: tuple[str, list[subprocess.Popen[bytes]]]) -> None:
    from distributed import Client

    address, workers = dask_cluster
    keys = make_repos(tmp_path / "org", 10, commits=30, files=4)
    command = [sys.executable, "-m", "scanner", "fleet", "--root", str(tmp_path / "org"), "--scheduler", address,
               "--state-dir", str(tmp_path / "state"), "--format", "json", "--no-redact"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    victim = workers[0]
    killed = False
    with Client(address, timeout=20) as client:
        pid_of = client.run(os.getpid)  # worker address -> its process id
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and run.poll() is None:
            busy = {worker for worker, tasks in client.processing().items() if tasks}
            if any(pid_of.get(w) == victim.pid for w in busy):
                os.kill(victim.pid, signal.SIGKILL)  # mid-task
                killed = True
                break
            time.sleep(0.02)
    stdout, stderr = run.communicate(timeout=60)
    assert killed, "the victim never ran a task"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert run.returncode == 1, stderr.decode()
    report = json.loads(stdout)
    assert findings_by_repo(stdout.decode()) == {name: [key] for name, key in keys.items()}  # each repository once
    assert report["stats"]["repositories_failed"] == 0
    assert report["stats"]["repositories_scanned"] == 10
    assert workers[1].poll() is None  # the cluster is left running
