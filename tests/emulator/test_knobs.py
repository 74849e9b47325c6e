"""Knobs for tests and benchmarks: request counters, latency, injected faults, conflicts."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from azure.core.exceptions import ServiceResponseError

from apimsync.emulator import Connection, EmulatorProcess, parse_faults

from .conftest import RawClient, make_client

FAULTS = ("429:0.2", "500:0.1", "503:0.1")


def test_request_counter(emulator: EmulatorProcess, raw: RawClient, uid: str) -> None:
    assert (
        raw.call("DELETE", "", absolute=f"{emulator.connection.endpoint}/_emulator/requests").status
        == 204
    )
    raw.call("PUT", f"tags/{uid}", {"properties": {"displayName": uid}})
    raw.call("GET", f"tags/{uid}")
    raw.call("GET", f"tags/{uid}")
    raw.call("GET", "tags")
    raw.call("GET", "tags", auth=False)
    counts = raw.call("GET", "", absolute=f"{emulator.connection.endpoint}/_emulator/requests").body
    assert counts["by_route"] == {"GET /tags": 2, "GET /tags/{tagId}": 2, "PUT /tags/{tagId}": 1}
    assert counts["by_operation"] == {"Tag_CreateOrUpdate": 1, "Tag_Get": 2, "Tag_ListByService": 2}
    assert counts["by_status"] == {"200": 3, "201": 1, "401": 1}
    assert counts["total"] == 5
    anonymous = raw.call(
        "GET", "", absolute=f"{emulator.connection.endpoint}/_emulator/requests", auth=False
    )
    assert anonymous.status == 401


def _statuses(raw: RawClient, n: int = 60) -> list[int]:
    return [raw.call("GET", "apis" if i % 2 else "tags").status for i in range(n)]


def test_faults_with_a_seed_are_repeatable(tmp_path: Path) -> None:
    runs = []
    for folder, seed in (("a", 7), ("b", 7), ("c", 8)):
        with EmulatorProcess(tmp_path / folder, faults=FAULTS, seed=seed) as running:
            raw = RawClient(running.connection, None)
            first = _statuses(raw)
            raw.call("DELETE", "", absolute=f"{running.connection.endpoint}/_emulator/requests")
            assert _statuses(raw) == first  # a reset replays the same sequence
            runs.append(first)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    seen = Counter(runs[0])
    assert set(seen) <= {200, 429, 500, 503}
    assert 3 <= seen[429] <= 25 and seen[500] + seen[503] >= 2 and seen[200] >= 25


def test_fault_answers(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, faults=("429:1",)) as running:
        raw = RawClient(running.connection, None)
        answer = raw.call("GET", "apis")
        assert answer.status == 429
        assert answer.header("Retry-After") == "1"
        assert answer.body["error"]["code"] == "TooManyRequests"
        counts = raw.call(
            "GET", "", absolute=f"{running.connection.endpoint}/_emulator/requests"
        ).body
        assert counts["faults"] == {"429": 1}


def test_reset_drops_the_connection(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, faults=("reset:1",)) as running:
        raw = RawClient(running.connection, None)
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            raw.call("GET", "apis")
        client = make_client(running.connection, None, retry_total=0)
        with pytest.raises(ServiceResponseError):
            client.api.get(running.connection.resource_group, running.connection.service, "x")


def test_the_sdk_retries_through_server_errors(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, faults=("500:0.3", "503:0.2"), seed=3) as running:
        conn = running.connection
        client = make_client(conn, None, retry_total=30, retry_status=30, retry_backoff_factor=0.01)
        for i in range(10):
            client.tag.create_or_update(
                conn.resource_group, conn.service, f"t{i}", {"properties": {"displayName": "t"}}
            )
        assert len(list(client.tag.list_by_service(conn.resource_group, conn.service))) == 10


def test_bad_fault_specs_are_refused() -> None:
    for spec in ("404:0.1", "429", "429:2", "429:x"):
        with pytest.raises(ValueError):
            parse_faults([spec])


def _concurrently(calls: list[object]) -> list[object]:
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        results[i] = calls[i]()  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_latency_does_not_serialise_requests(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, latency_ms=1000) as running:
        raw = RawClient(running.connection, None)
        started = time.monotonic()
        statuses = _concurrently([lambda: raw.call("GET", "apis").status for _ in range(8)])
        elapsed = time.monotonic() - started
        assert statuses == [200] * 8
        assert 1.0 <= elapsed < 4.0  # one after another would take 8 s


def test_concurrent_writes_to_one_api_conflict(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, latency_ms=300) as running:
        raw = RawClient(running.connection, None)
        body = {"properties": {"displayName": "a", "path": "a"}}
        raw.call("PUT", "apis/a", body)
        answers = _concurrently(
            [
                lambda: raw.call("PUT", "apis/a", body),
                lambda: raw.call(
                    "PUT",
                    "apis/a/operations/o",
                    {"properties": {"displayName": "o", "method": "GET", "urlTemplate": "/"}},
                ),
                lambda: raw.call("PUT", "tags/t", {"properties": {"displayName": "t"}}),
            ]
        )
        statuses = sorted(a.status for a in answers)  # type: ignore[attr-defined]
        assert statuses in ([200, 201, 409], [201, 201, 409])
        conflict = next(a for a in answers if a.status == 409)  # type: ignore[attr-defined]
        assert conflict.body["error"]["code"] == "PessimisticConcurrencyConflict"  # type: ignore[attr-defined]
        assert conflict.body["error"]["message"] == "Operation on the API is in progress"  # type: ignore[attr-defined]


def test_injected_conflicts_hit_api_writes_only(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, faults=("conflict:1",)) as running:
        raw = RawClient(running.connection, None)
        assert (
            raw.call("PUT", "apis/a", {"properties": {"displayName": "a", "path": "a"}}).status
            == 409
        )
        assert raw.call("GET", "apis/a").status == 404
        assert raw.call("PUT", "tags/t", {"properties": {"displayName": "t"}}).status == 201


def _named_value_status(conn: object) -> int:
    raw = RawClient(conn, None)  # type: ignore[arg-type]
    body = {"properties": {"displayName": "nv", "value": "v"}}
    return raw.call("PUT", "namedValues/nv", body).status


def test_lro_style_of_python_m_apimsync_emulator(tmp_path: Path) -> None:
    """``python -m apimsync.emulator --lro-style async``: named value writes answer 202."""
    with EmulatorProcess(tmp_path, mode="subprocess", lro_style="async") as running:
        assert _named_value_status(running.connection) == 202


def test_lro_style_of_apimsync_emulator_serve(tmp_path: Path) -> None:
    """``apimsync emulator serve --lro-style described``; a bad style is refused."""
    command = [sys.executable, "-m", "apimsync", "emulator", "serve", "--data", str(tmp_path)]
    bad = subprocess.run([*command, "--lro-style", "sometimes"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--lro-style" in bad.stderr
    child = subprocess.Popen([*command, "--lro-style", "described"], stdout=subprocess.DEVNULL)
    try:
        target = tmp_path / "connection.json"
        deadline = time.monotonic() + 30
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        conn = Connection.from_file(target)
        raw = RawClient(conn, None)
        raw.call("PUT", "apis/a", {"properties": {"displayName": "a", "path": "a"}})
        assert raw.call("DELETE", "apis/a", headers={"If-Match": "*"}).status == 202
    finally:
        child.terminate()
        child.wait(timeout=15)
