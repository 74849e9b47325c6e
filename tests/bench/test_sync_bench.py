"""The benchmark harness at a small size (W(20), no latency): its JSON shape and sanity.

Speed targets live in the benchmark's output (bench/RESULTS.md), never in assertions here.
"""

from __future__ import annotations

import pytest

from tests.bench.harness import bench_json

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

SYNC_PHASES = (
    "pull",
    "plan",
    "deploy_full",
    "deploy_one_change",
    "incremental_one_policy",
    "incremental_ten_files",
)
SYNC_FIELDS = {
    "requests",
    "writes",
    "wall_s",
    "cpu_s",
    "cpu_ms_per_request",
    "peak_rss_mb",
    "ideal_s",
}


def test_the_smoke_run_prints_one_object_of_the_documented_shape() -> None:
    document = bench_json(
        "sync_bench.py", "--apis", "20", "--latency-ms", "0", "--parallelism", "4", "--json"
    )

    assert set(document) == {"apis", "resources", "latency_ms", "parallelism", "validate"} | set(
        SYNC_PHASES
    )
    assert (document["apis"], document["latency_ms"], document["parallelism"]) == (20, 0, 4)
    resources = document["resources"]
    assert resources > 20 * 11
    for name in SYNC_PHASES:
        phase = document[name]
        assert set(phase) >= SYNC_FIELDS, name
        assert phase["requests"] > 0 and phase["wall_s"] > 0 and phase["peak_rss_mb"] > 0, name
        assert phase["ideal_s"] == 0, name  # no latency
    assert document["pull"]["writes"] == 0 and document["plan"]["writes"] == 0
    assert document["deploy_full"]["writes"] == resources
    assert document["deploy_one_change"]["writes"] == 1
    one_policy = document["incremental_one_policy"]
    assert (one_policy["requests"], one_policy["writes"]) == (2, 1)
    ten = document["incremental_ten_files"]
    assert ten["resources_touched"] == 10 and ten["writes"] == 10
    # a GET and a PUT each, and the polls of the named values' long-running writes
    assert 20 <= ten["requests"] <= 3 * 10
    assert document["plan"]["requests"] < resources
    validate = document["validate"]
    assert set(validate) >= {"files", "wall_s", "files_per_s"}
    assert validate["files"] > resources // 2 and validate["files_per_s"] > 0
