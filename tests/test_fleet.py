"""keysweep fleet, fast tier: discovery, the private state, and whole runs on real repositories with the
tasks run in this process (InlinePool); the Dask runs are in test_fleet_dask.py (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitutil import GitRepo, isolated_scanner
from scanner.errors import ConfigError, UsageError
from scanner.fleet.cluster import MISSING_DASK, InlinePool
from scanner.fleet.discovery import (
    RepoSource, check_url, find_repos, gather, is_url, parse_repo, read_repos_file, redact_url, scrub, update_mirror,
)
from scanner.fleet.run import FleetResult, run_fleet
from scanner.fleet.state import DB_NAME, FleetState
from scanner.fleet.tasks import FleetWork
from scanner.pipeline import Scanner
from scanner.sources.git import git_report
from scanner.sources.gitrepo import Repo

KEYS = {name: f"sk_live_{name}Q3J7W2M9X4K8P1R5T0Zz9Yy8Xx"[:40] for name in ("alpha", "beta", "gamma", "delta")}
NOW = 1_735_689_600.0  # 2025-01-01


def make_repo(path: Path, key: str | None, *, commits: int = 3) -> GitRepo:
    repo = GitRepo(path)
    for n in range(commits):
        repo.commit(f"change {n}", {"src/app.py": f"VALUE = {n}\n"})
    if key:
        repo.commit("add config", {"config/settings.py": f'STRIPE_KEY = "{key}"\n'}, author="Bea")
    return repo


def fleet(sources: list[RepoSource], scanner: Scanner, state_dir: Path, **kwargs: object) -> FleetResult:
    work = FleetWork(scanner, **kwargs)  # type: ignore[arg-type]
    with FleetState.open(state_dir) as state:
        return run_fleet(sources, scanner=scanner, state=state, state_dir=state_dir, now=NOW,
                         open_pool=lambda w: _inline(w), work=work)


class _inline:
    def __init__(self, work: FleetWork) -> None:
        self.pool = InlinePool(work)

    def __enter__(self) -> InlinePool:
        return self.pool

    def __exit__(self, *exc: object) -> None:
        return None


def by_repo(result: FleetResult) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in result.report.findings:
        found.setdefault(f.extra["repository"], []).append(f.secret)
    return {name: sorted(secrets) for name, secrets in found.items()}


@pytest.fixture()
def scanner(tmp_path: Path) -> Scanner:
    rules = tmp_path / "rules"
    rules.mkdir()
    return isolated_scanner(rules)


@pytest.fixture()
def fleet_dirs(tmp_path: Path) -> tuple[list[RepoSource], Path]:
    repos = [make_repo(tmp_path / "repos" / name, key) for name, key in
             (("one", KEYS["alpha"]), ("two", KEYS["beta"]), ("clean", None))]
    return [RepoSource(str(r.path), str(r.path)) for r in repos], tmp_path / "state"


# --- discovery -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "url"), [
    ("https://github.com/acme/api.git", True),
    ("git@github.com:acme/api.git", True),
    ("ssh://git@github.com/acme/api.git", True),
    ("file:///srv/git/api.git", True),
    ("ext::sh -c touch% /tmp/pwned", True),
    ("/srv/git/api.git", False),
    ("./api", False),
    ("--upload-pack=touch /tmp/pwned", False),
])
def test_is_url(text: str, url: bool) -> None:
    assert is_url(text) is url


@pytest.mark.parametrize("url", ["https://github.com/acme/api.git", "git@github.com:acme/api.git",
                                 "ssh://git@github.com:2222/acme/api.git", "file:///srv/git/api.git"])
def test_accepted_transports(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(("url", "reason"), [
    ("ext::sh -c touch% /tmp/pwned", "transport 'ext' refused"),
    ("fd::17", "transport 'fd' refused"),
    ("http://example.com/x.git", "http:// refused"),
    ("git://example.com/x.git", "git:// refused"),
    ("ssh://-oProxyCommand=touch%20x/repo", "may not start with '-'"),
    ("-oProxyCommand=x:repo", "may not start with '-'"),
    ("https://host/x.git\n", "control characters"),
])
def test_refused_transports(url: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        check_url(url)


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:hunter22@git.example.com/a.git", "https://git.example.com/a.git"),
    ("https://ghp_token123456@github.com/a.git", "https://github.com/a.git"),
    ("ssh://git:pw1234@host/a.git", "ssh://host/a.git"),
    ("ssh://git@host/a.git", "ssh://git@host/a.git"),
    ("git@host:a.git", "git@host:a.git"),
    ("https://github.com/a.git", "https://github.com/a.git"),
])
def test_credentials_never_shown(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert parse_repo(url).name == shown
    assert scrub(f"fatal: unable to access '{url}/': failed", url) == f"fatal: unable to access '{shown}/': failed"


def test_a_refused_url_is_a_failed_repository_not_a_usage_error() -> None:
    source = parse_repo("ext::sh -c touch% /tmp/pwned")
    assert source.refused and "refused" in source.refused


def test_repos_file_and_root_walk(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "org" / "work", None, commits=1)
    GitRepo(tmp_path / "org" / "team" / "bare.git", bare=True)
    make_repo(work.path / "vendor" / "nested", None, commits=1)  # inside a repository: not walked into
    (tmp_path / "org" / "plain").mkdir()
    found = list(find_repos(tmp_path / "org"))
    assert sorted(found) == [str(tmp_path / "org" / "team" / "bare.git"), str(tmp_path / "org" / "work")]
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# nightly\n{work.path}   # the service\n\nhttps://tok:x@example.com/a.git\n")
    assert read_repos_file(listing) == [str(work.path), "https://tok:x@example.com/a.git"]
    sources = gather([str(work.path)], root=tmp_path / "org", repos_file=listing)
    assert [s.name for s in sources] == [str(work.path), "https://example.com/a.git",
                                         str(tmp_path / "org" / "team" / "bare.git")]  # each repository once


# --- the private state ---------------------------------------------------------------------------


def test_state_dir_is_created_private(tmp_path: Path) -> None:
    FleetState.open(tmp_path / "deep" / "state").close()
    assert (os.stat(tmp_path / "deep" / "state").st_mode & 0o777) == 0o700
    assert (os.stat(tmp_path / "deep" / "state" / DB_NAME).st_mode & 0o777) == 0o600


def test_state_dir_writable_by_others_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ConfigError, match="writable by others"):
        FleetState.open(shared)


def test_state_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(theirs, 4242, 4242)
    else:
        theirs = Path("/")  # owned by root, not by this user
    with pytest.raises(ConfigError, match="belongs to another user"):
        FleetState.open(theirs)


def test_a_symlink_at_the_database_name_is_not_followed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.db"
    (state / DB_NAME).symlink_to(target)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        FleetState.open(state)
    assert not target.exists()


# --- whole runs ------------------------------------------------------------------------------------


def test_findings_name_their_repository_and_match_keysweep_git(fleet_dirs: tuple[list[RepoSource], Path],
                                                               scanner: Scanner) -> None:
    sources, state_dir = fleet_dirs
    result = fleet(sources, scanner, state_dir)
    assert by_repo(result) == {sources[0].name: [KEYS["alpha"]], sources[1].name: [KEYS["beta"]]}
    stats = result.report.stats_dict()
    assert {k: stats[k] for k in ("repositories", "repositories_scanned", "repositories_unchanged",
                                  "repositories_failed", "commits_scanned")} == {
        "repositories": 3, "repositories_scanned": 3, "repositories_unchanged": 0, "repositories_failed": 0,
        "commits_scanned": 11}
    alone = git_report(Repo(sources[0].location), scanner=scanner, now=NOW).findings
    fleet_one = [f for f in result.report.findings if f.extra["repository"] == sources[0].name]
    assert [f.replace(extra={k: v for k, v in f.extra.items() if k != "repository"}) for f in fleet_one] == alone


def test_a_corrupt_repository_among_good_ones(tmp_path: Path, fleet_dirs: tuple[list[RepoSource], Path],
                                              scanner: Scanner) -> None:
    sources, state_dir = fleet_dirs
    broken = make_repo(tmp_path / "repos" / "broken", KEYS["gamma"])
    head = broken.rev("HEAD")
    loose = broken.path / ".git" / "objects" / head[:2] / head[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    (tmp_path / "repos" / "plain").mkdir()
    more = [RepoSource("broken", str(broken.path)), RepoSource("plain", str(tmp_path / "repos" / "plain"))]
    result = fleet(sources[:1] + more + sources[1:], scanner, state_dir)
    assert by_repo(result) == {sources[0].name: [KEYS["alpha"]], sources[1].name: [KEYS["beta"]]}
    failed = {r.source.name: r.error for r in result.failed}
    assert set(failed) == {"broken", "plain"}
    assert str(failed["broken"]).startswith("git rev-list: ")  # git's own reason: `inflate: data stream error …`
    assert "not a git repository" in str(failed["plain"])
    assert result.report.extra_stats["repositories_failed"] == 2
    assert result.report.extra_stats["failed"][0]["repository"] == "broken"


def test_rerun_with_nothing_changed_scans_no_commit(fleet_dirs: tuple[list[RepoSource], Path], scanner: Scanner) -> None:
    sources, state_dir = fleet_dirs
    first = fleet(sources, scanner, state_dir)
    again = fleet(sources, scanner, state_dir)
    stats = again.report.extra_stats
    assert (stats["repositories_scanned"], stats["repositories_unchanged"], stats["commits_scanned"]) == (0, 3, 0)
    assert again.report.findings == first.report.findings


def test_rerun_scans_only_the_new_commit(fleet_dirs: tuple[list[RepoSource], Path], scanner: Scanner) -> None:
    sources, state_dir = fleet_dirs
    fleet(sources, scanner, state_dir)
    GitRepo(Path(sources[2].location), init=False).commit("oops", {"deploy.env": f"KEY={KEYS['delta']}\n"})
    again = fleet(sources, scanner, state_dir)
    stats = again.report.extra_stats
    assert (stats["repositories_scanned"], stats["repositories_unchanged"], stats["commits_scanned"]) == (1, 2, 1)
    assert by_repo(again) == {sources[0].name: [KEYS["alpha"]], sources[1].name: [KEYS["beta"]],
                              sources[2].name: [KEYS["delta"]]}
    # The union is what one full scan of each repository finds.
    fresh = fleet(sources, scanner, state_dir.parent / "fresh-state")
    assert again.report.findings == fresh.report.findings


def test_a_key_moved_to_a_second_file_joins_the_stored_finding(tmp_path: Path, scanner: Scanner) -> None:
    repo = make_repo(tmp_path / "r", KEYS["alpha"])
    sources, state_dir = [RepoSource("r", str(repo.path))], tmp_path / "state"
    fleet(sources, scanner, state_dir)
    repo.commit("copy it", {"docs/setup.md": f"export STRIPE_KEY={KEYS['alpha']}\n"}, author="Cy")
    again = fleet(sources, scanner, state_dir)
    fresh = fleet(sources, scanner, tmp_path / "fresh")
    [finding] = again.report.findings
    assert finding.extra["author"] == "Bea"  # named for the earliest commit, from the stored run
    assert [loc["path"] for loc in finding.extra["locations"]] == ["config/settings.py", "docs/setup.md"]
    assert again.report.findings == fresh.report.findings


def test_force_push_that_removes_a_key_drops_its_finding(tmp_path: Path, scanner: Scanner) -> None:
    repo = make_repo(tmp_path / "r", None)
    base = repo.rev("HEAD")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("wip", {"feature.py": f'KEY = "{KEYS["gamma"]}"\n'})
    repo.git("checkout", "-q", "main")
    sources, state_dir = [RepoSource("r", str(repo.path))], tmp_path / "state"
    assert by_repo(fleet(sources, scanner, state_dir)) == {"r": [KEYS["gamma"]]}
    # The branch is rewritten without the key, and what held it is collected.
    repo.git("checkout", "-q", "feature")
    repo.git("reset", "-q", "--hard", base)
    repo.commit("wip, without the key", {"feature.py": 'KEY = os.environ["KEY"]\n'})
    repo.git("checkout", "-q", "main")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    again = fleet(sources, scanner, state_dir)
    assert by_repo(again) == {}
    assert again.report.extra_stats["repositories_scanned"] == 1
    assert again.report.extra_stats["commits_scanned"] == 1


def test_force_push_before_gc_drops_the_unreachable_finding_too(tmp_path: Path, scanner: Scanner) -> None:
    repo = make_repo(tmp_path / "r", KEYS["alpha"])
    sources, state_dir = [RepoSource("r", str(repo.path))], tmp_path / "state"
    fleet(sources, scanner, state_dir)
    repo.git("reset", "-q", "--hard", "HEAD~1")  # the commit object is still there, no ref reaches it
    repo.commit("config from the environment", {"config/settings.py": 'STRIPE_KEY = os.environ["K"]\n'})
    assert by_repo(fleet(sources, scanner, state_dir)) == {}


def test_head_moving_updates_in_head_of_stored_keys(tmp_path: Path, scanner: Scanner) -> None:
    repo = make_repo(tmp_path / "r", KEYS["alpha"])
    sources, state_dir = [RepoSource("r", str(repo.path))], tmp_path / "state"
    [before] = fleet(sources, scanner, state_dir).report.findings
    assert before.extra["in_head"] is True
    repo.commit("remove the key", remove=("config/settings.py",))
    [after] = fleet(sources, scanner, state_dir).report.findings
    assert after.extra["in_head"] is False


def test_a_long_history_split_into_commit_ranges_matches_one_scan(tmp_path: Path, scanner: Scanner) -> None:
    repo = GitRepo(tmp_path / "big")
    for n in range(24):
        files = {"src/app.py": f"VALUE = {n}\n"}
        if n in (3, 11, 19):
            files[f"conf/{n}.env"] = f"STRIPE={KEYS['alpha']}\n"  # one key, three places
        if n == 15:
            files["conf/other.env"] = f"STRIPE={KEYS['beta']}\n"
        repo.commit(f"change {n}", files)
    sources = [RepoSource("big", str(repo.path))]
    split = fleet(sources, scanner, tmp_path / "s1", split_commits=5)
    whole = git_report(Repo(repo.path), scanner=scanner, now=NOW).findings
    assert [f.replace(extra={k: v for k, v in f.extra.items() if k != "repository"})
            for f in split.report.findings] == whole
    assert split.report.extra_stats["commits_scanned"] == 24


def test_a_changed_rule_set_scans_again(fleet_dirs: tuple[list[RepoSource], Path], scanner: Scanner,
                                        tmp_path: Path) -> None:
    sources, state_dir = fleet_dirs
    fleet(sources, scanner, state_dir)
    other = isolated_scanner(tmp_path / "rules", keep_suppressed=True)
    assert fleet(sources, other, state_dir).report.extra_stats["repositories_scanned"] == 3


def test_clone_urls_are_mirrored_and_fetched(tmp_path: Path, scanner: Scanner) -> None:
    origin = make_repo(tmp_path / "origin", KEYS["alpha"])
    url = f"file://{origin.path}"
    sources, state_dir = [parse_repo(url)], tmp_path / "state"
    assert by_repo(fleet(sources, scanner, state_dir)) == {url: [KEYS["alpha"]]}
    origin.commit("more", {"b.env": f"K={KEYS['beta']}\n"})
    again = fleet(sources, scanner, state_dir)
    assert by_repo(again) == {url: sorted([KEYS["alpha"], KEYS["beta"]])}
    assert again.report.extra_stats["commits_scanned"] == 1
    [mirror] = (state_dir / "mirrors").iterdir()
    assert subprocess.run(["git", "config", "remote.origin.url"], cwd=mirror, capture_output=True,
                          text=True).stdout.strip() == url


def test_a_failed_clone_names_the_url_without_its_credentials(tmp_path: Path, scanner: Scanner) -> None:
    url = "https://alice:s3cr3t-pass@127.0.0.1:9/acme/api.git"  # port 9 (discard): refused at once
    result = fleet([parse_repo(url)], scanner, tmp_path / "state")
    [failed] = result.failed
    assert failed.source.name == "https://127.0.0.1:9/acme/api.git"
    assert "s3cr3t" not in str(failed.error) and "alice" not in str(failed.error)
    assert "s3cr3t" not in json.dumps(result.report.extra_stats)


def test_a_repository_named_like_an_option_stays_a_path(tmp_path: Path, scanner: Scanner,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    result = fleet([parse_repo(f"--upload-pack=touch {marker}")], scanner, tmp_path / "state")
    assert result.failed and not marker.exists()
    with pytest.raises(Exception):
        update_mirror(tmp_path / "state", RepoSource("x", f"--upload-pack=touch {marker}", url=True))
    assert not marker.exists()


# --- the command -----------------------------------------------------------------------------------


def test_missing_dask_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.cli import cli

    repo = make_repo(tmp_path / "r", None, commits=1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    result = CliRunner().invoke(cli, ["fleet", str(repo.path), "--state-dir", str(tmp_path / "s")],
                                standalone_mode=False)
    assert isinstance(result.exception, UsageError)
    assert str(result.exception) == MISSING_DASK
    assert "pip install 'keysweep[fleet]'" in MISSING_DASK and "\n" not in MISSING_DASK


def test_no_repositories_is_a_usage_error(tmp_path: Path) -> None:
    from conftest import run_keysweep

    result = run_keysweep("fleet", "--root", str(tmp_path), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("keysweep: error: no repositories to scan: give REPO arguments, "
                                     "--root DIR or --repos-file FILE")


def test_progress_on_a_terminal(fleet_dirs: tuple[list[RepoSource], Path], scanner: Scanner) -> None:
    import io

    from scanner.progress import Progress

    sources, state_dir = fleet_dirs
    stream = io.StringIO()
    with FleetState.open(state_dir) as state:
        run_fleet(sources, scanner=scanner, state=state, state_dir=state_dir, now=NOW,
                  open_pool=lambda w: _inline(w), progress=Progress(stream, enabled=True))
    lines = [line.strip() for line in stream.getvalue().split("\r") if line.strip()]
    assert lines[0].startswith("keysweep: fleet: 0/3 repositories, 0 commits, ")
    assert lines[1].startswith("keysweep: fleet: 1/3 repositories, 4 commits, ") and "MB/s, ETA " in lines[1]
    assert lines[-1].startswith("keysweep: fleet: 3/3 repositories, 11 commits, ")


def test_ignore_files_apply_per_repository(fleet_dirs: tuple[list[RepoSource], Path], scanner: Scanner) -> None:
    from scanner.cli_common import OutputOptions
    from scanner.cli_fleet import accept_per_repository

    sources, state_dir = fleet_dirs
    result = fleet(sources, scanner, state_dir)
    [alpha] = [f for f in result.report.findings if f.secret == KEYS["alpha"]]
    # The first repository accepts its key; the same line in the second's ignore file accepts nothing there.
    Path(sources[0].location, ".keysweepignore").write_text(f"{alpha.fingerprint}  # rotated\n")
    Path(sources[1].location, ".keysweepignore").write_text(f"{alpha.fingerprint}:config/settings.py\n")
    opts = OutputOptions("json", (), True, None, (), 1, None, True, report_unused_ignores=True)
    report = accept_per_repository(result.report, opts, result.repos)
    assert [f.secret for f in report.findings] == [KEYS["beta"]]
    [(secret, reason)] = [(f.secret, f.suppressed) for f in report.suppressed]
    assert secret == KEYS["alpha"] and reason is not None
    assert reason.startswith("ignored by ") and reason.endswith("repos/one/.keysweepignore:1")
    unused = [w for w in report.stats.warnings if "ignore matched no finding" in w]
    assert len(unused) == 1 and unused[0].endswith("repos/two/.keysweepignore:1: ignore matched no finding")
