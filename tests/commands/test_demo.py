"""The README's main command: ``apimsync demo`` from the repository root."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_demo_deploys_changes_and_ends_with_an_empty_plan() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "apimsync", "demo", "--no-color"],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    steps = result.stdout.split("\n== ")
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in steps[3]
    assert steps[-1].rstrip().endswith("No changes. The instance matches the configuration.")
    assert "Traceback" not in result.stderr
    notes = [line for line in result.stderr.splitlines() if "not planned" in line]
    assert notes == []  # the emulator serves every kind apimsync plans


def test_the_demo_names_a_missing_example_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-m", "apimsync", "demo", "--example", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert str(tmp_path) in result.stderr and "Traceback" not in result.stderr
