"""``python -m apimsync ARGS`` as a user runs it: the one runner the end-to-end tests use."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_apimsync(
    *args: str | Path,
    env: Mapping[str, str],
    expect: int | None = 0,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run apimsync with no terminal and no stdin; whatever the exit, it must not end in a
    traceback or an internal error, and with ``expect`` it must exit with that status."""
    result = subprocess.run(
        [sys.executable, "-m", "apimsync", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    if expect is not None:
        assert result.returncode == expect, (
            f"{' '.join(map(str, args))} exited {result.returncode}, not {expect}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result
