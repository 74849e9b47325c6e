"""The changes-since benchmark at a small size, in both layouts: it prints its figures
and both reads find the one changed policy."""

from __future__ import annotations

import pytest

from tests.bench.harness import bench_json

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)


@pytest.mark.parametrize("layout", ["scm", "apiops"])
def test_the_smoke_run_prints_the_documented_figures(layout: str) -> None:
    args = ("--apis", "20", "--layout", layout, "--runs", "2")
    document = bench_json("changes_since_bench.py", *args)

    assert (document["apis"], document["layout"], document["same_result"]) == (20, layout, True)
    partial, whole = document["partial"], document["whole"]
    assert partial["changed"] == whole["changed"] == 1
    assert partial["resources_read"] < whole["resources_read"]
    assert 0 < partial["min_s"] <= partial["median_s"] <= partial["max_s"]
