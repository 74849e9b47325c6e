"""The hook benchmark at a small size: it stages the changes it says and times the hook."""

from __future__ import annotations

import json

import pytest

from tests.bench.harness import run_bench

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)


def test_the_smoke_run_prints_the_documented_figures() -> None:
    result = run_bench("hook_bench.py", "--apis", "10", "--changed", "3", "--runs", "2", "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["apis"], document["changed"], document["runs"]) == (10, 3, 2)
    assert document["files"] > 10 * 11
    wall = document["wall_s"]
    assert 0 < wall["min"] <= wall["median"] <= wall["max"]
    assert document["peak_rss_mb"] > 0


def test_asking_for_more_changes_than_there_are_policies_fails_clearly() -> None:
    result = run_bench("hook_bench.py", "--apis", "1", "--changed", "50", "--runs", "1")

    assert result.returncode != 0
    assert "use more --apis" in result.stderr
