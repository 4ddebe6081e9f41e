"""The package stays type-clean (STYLE.md habit 7): mypy over scanner/ as part of the suite."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_mypy_finds_no_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "scanner", "--ignore-missing-imports", "--cache-dir", "/tmp/keysweep-mypy-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
