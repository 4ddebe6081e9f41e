"""The README's CI recipes, run as CI would run them: the workflow is valid YAML, and each of its
keysweep steps does what it says on a repository with a pull-request branch and a merge."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from gitutil import GitRepo

PR_KEY = "sk_live_Lq8VxN3bKm6WtRc2PzHj9GsYd5Fa"


def readme_block(marker: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return next(block for block in blocks if marker in block)


@pytest.mark.slow
def test_github_workflow_steps_work(tmp_path: Path) -> None:
    workflow = yaml.safe_load(readme_block(".github/workflows/keysweep.yml"))
    assert set(workflow[True]) == {"pull_request", "push"}  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["keysweep"]["steps"]
    pr_step = next(s for s in steps if s.get("name") == "Scan the pull request's commits")
    push_step = next(s for s in steps if s.get("name") == "Scan the full history")
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)

    repo = GitRepo(tmp_path / "repo")
    base = repo.commit("base", {"app.py": "print(1)\n"})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("leak", {"pay.py": f"KEY = '{PR_KEY}'\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves", {"b.py": "x = 2\n"})
    repo.git("checkout", "-q", "pr")
    repo.tick()
    repo.git("merge", "-q", "--no-edit", "main")
    env = {**os.environ, "BASE": base, "HEAD": repo.rev("HEAD")}
    for step, expected in ((pr_step, 1), (push_step, 1)):
        result = subprocess.run(["sh", "-c", step["run"].replace("keysweep ", f"{shlex.quote(sys.executable)} -m scanner ", 1)],
                                cwd=repo.path, env=env, capture_output=True, text=True, check=False)
        assert result.returncode == expected, result.stderr
        results = json.loads((repo.path / "keysweep.sarif").read_text())["runs"][0]["results"]
        assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == ["pay.py"]


def test_gitlab_job_is_valid_yaml() -> None:
    job = yaml.safe_load(readme_block("CI_MERGE_REQUEST_DIFF_BASE_SHA"))["keysweep"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert any("keysweep git --range" in line for line in job["script"])
