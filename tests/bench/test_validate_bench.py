"""The validate benchmark at a small size: it validates W(N) and prints the figures."""

from __future__ import annotations

import pytest

from tests.bench.harness import bench_json

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)


def test_the_smoke_run_prints_the_documented_figures() -> None:
    document = bench_json("validate_bench.py", "--apis", "5", "--runs", "2", "--json")

    assert (document["apis"], document["runs"]) == (5, 2)
    assert document["files"] > document["policy_files"] >= 5
    wall = document["wall_s"]
    assert 0 < wall["min"] <= wall["median"] <= wall["max"]
    assert document["files_per_s"] > document["policy_files_per_s"] > 0
    assert "expression-syntax" not in document["findings"]
