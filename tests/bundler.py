"""A real bundler for the bundle and source-map tests: esbuild from npm, pinned in tests/js.

Tests skip only when node itself is missing; with node present, the pinned esbuild is installed on
first use (`npm ci --prefix tests/js`), and a failed install fails the tests saying so.
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
        # First run on a fresh checkout: install the pinned esbuild from the lock file.
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0 or not binary.exists():
            pytest.fail(f"cannot install esbuild (`npm ci --prefix {JS_DIR}`): {result.stderr.strip()[-300:]}")
    return binary


def build(project: Path, entry: str, *args: str) -> None:
    """Bundle and minify project/entry with esbuild, run in project (so map sources are relative)."""
    result = subprocess.run([str(esbuild()), entry, "--bundle", "--minify", *args], cwd=project,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
