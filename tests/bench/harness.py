"""Running a benchmark script of bench/ as a user would, at a small size."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import REPO


def run_bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python bench/SCRIPT ARGS`` from the repository's top."""
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )


def bench_json(script: str, *args: str) -> Any:
    """The JSON document a successful run prints."""
    result = run_bench(script, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)
