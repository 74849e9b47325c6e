"""RequestCounters: the client tests and benchmarks use for the emulator's counters."""

from __future__ import annotations

from apimsync.emulator import Connection
from apimsync.emulator.counters import RequestCounters

from .conftest import RawClient


def test_totals_count_api_requests_and_writes_not_the_counters_own(
    conn: Connection, raw: RawClient, uid: str
) -> None:
    counters = RequestCounters(conn)
    counters.reset()
    raw.call("PUT", f"tags/{uid}", {"properties": {"displayName": uid}})
    raw.call("PATCH", f"tags/{uid}", {"properties": {"displayName": uid + "x"}})
    raw.call("GET", f"tags/{uid}")
    counters.snapshot()  # the counters' own route, left out of the totals

    assert counters.totals() == (3, 2)
    assert counters.writes_by_route() == {"PUT /tags/{tagId}": 1, "PATCH /tags/{tagId}": 1}

    counters.reset()
    assert counters.totals() == (0, 0)
