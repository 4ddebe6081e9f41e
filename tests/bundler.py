"""A real bundler for the bundle and source-map tests: esbuild from npm, pinned in tests/js.

Tests skip only when node itself is missing; with node present, esbuild must be installed
(`npm ci --prefix tests/js`, which .ci/run does) or the tests fail saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"


def esbuild() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the bundle tests build with esbuild")
    binary = JS_DIR / "node_modules" / ".bin" / "esbuild"
    if not binary.exists():
        pytest.fail(f"esbuild is not installed: run `npm ci --prefix {JS_DIR}`")
    return binary


def build(project: Path, entry: str, *args: str) -> None:
    """Bundle and minify project/entry with esbuild, run in project (so map sources are relative)."""
    result = subprocess.run([str(esbuild()), entry, "--bundle", "--minify", *args], cwd=project,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
