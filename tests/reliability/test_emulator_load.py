"""7. The emulator under load: 32 clients, each on its own keep-alive HTTPS connection,
send a random mix of reads and writes for a while; the emulator injects a few faults
(2% 503, 2% 429, 1% dropped connections) so that its accounting of them is checked too.

Afterwards: every 5xx a client saw was an injected one, the backends and named values
on the instance are exactly those whose last acknowledged write was a PUT, and p50/p99
latency per kind of request is reported. ``APIMSYNC_LOAD_SECONDS`` sets the duration
(default 10, CI-sized; the issue's 60 s run is ``APIMSYNC_LOAD_SECONDS=60``).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from apimsync.emulator import Connection, EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from tests.reliability.helpers import figure, stored

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

CLIENTS = 32
SECONDS = float(os.environ.get("APIMSYNC_LOAD_SECONDS", "10"))
FAULTS = ("503:0.02", "429:0.02", "reset:0.01")
SERVICE = "load"
API_VERSION = "2024-05-01"
NAMES_PER_CLIENT = 6


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    data = tmp_path_factory.mktemp("load-emulator")
    with EmulatorProcess(
        data, mode="subprocess", services=(SERVICE,), faults=FAULTS, seed=5
    ) as running:
        yield running


@dataclass
class Client:
    """One simulated client: its connection, what it saw, and what it knows it wrote."""

    number: int
    connection_info: Connection
    rng: random.Random
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    dropped: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)
    """resource path -> the last write the emulator acknowledged ("PUT" or "DELETE")."""
    unsure: set[str] = field(default_factory=set)
    """Paths whose last write got no answer (a dropped connection)."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.connection_info.endpoint)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 443
        self.context = ssl.create_default_context(cafile=self.connection_info.ca_bundle)
        self.base = (
            f"/subscriptions/{self.connection_info.subscription_id}/resourceGroups/"
            f"{self.connection_info.resource_group}/providers/Microsoft.ApiManagement/service/"
            f"{SERVICE}"
        )
        self.http: http.client.HTTPSConnection | None = None

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            self.one()
        if self.http is not None:
            self.http.close()

    def one(self) -> None:
        name = f"c{self.number:02d}-{self.rng.randrange(NAMES_PER_CLIENT)}"
        collection = self.rng.choice(("backends", "namedValues"))
        path = f"{collection}/{name}"
        roll = self.rng.random()
        if roll < 0.30:
            self.send("PUT", path, _body(collection, name, self.rng), write=True)
        elif roll < 0.40:
            self.send("DELETE", path, None, write=True)
        elif roll < 0.70:
            self.send("GET", path, None)
        elif roll < 0.90:
            self.send("GET", f"{collection}?$top=20", None, kind=f"LIST {collection}")
        else:
            self.send("HEAD", path, None)

    def send(self, method: str, path: str, body: Any, write: bool = False, kind: str = "") -> None:
        label = kind or f"{method} {path.split('/', 1)[0]}"
        separator = "&" if "?" in path else "?"
        url = f"{self.base}/{path}{separator}api-version={API_VERSION}"
        headers = {"Authorization": f"Bearer {self.connection_info.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method == "DELETE":
            headers["If-Match"] = "*"
        started = time.perf_counter()
        try:
            if self.http is None:
                self.http = http.client.HTTPSConnection(
                    self.host, self.port, context=self.context, timeout=60
                )
            self.http.request(method, url, body=payload, headers=headers)
            response = self.http.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.dropped += 1
            if self.http is not None:
                self.http.close()
            self.http = None
            if write:
                self.unsure.add(path)
            return
        self.latencies.setdefault(label, []).append(time.perf_counter() - started)
        self.statuses[response.status] += 1
        if write and response.status < 300:
            self.acknowledged[path] = method
            self.unsure.discard(path)
        elif write and response.status == 404 and method == "DELETE":
            self.acknowledged[path] = method


def _body(collection: str, name: str, rng: random.Random) -> dict[str, Any]:
    if collection == "backends":
        url = f"https://{name}.example.test/{rng.randrange(10**6)}"
        return {"properties": {"url": url, "protocol": "http"}}
    return {"properties": {"displayName": name, "value": f"v{rng.randrange(10**6)}"}}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def test_32_clients_of_mixed_reads_and_writes(emulator: EmulatorProcess) -> None:
    admin = RequestCounters(emulator.connection)
    admin.reset()
    clients = [Client(n, emulator.connection, random.Random(1000 + n)) for n in range(CLIENTS)]
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=c.run, args=(until,)) for c in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 120)
    elapsed = time.monotonic() - started
    counts = admin.snapshot()
    held = stored(emulator.data_dir, SERVICE)

    statuses: Counter[int] = Counter()
    latencies: dict[str, list[float]] = {}
    for client in clients:
        statuses.update(client.statuses)
        for label, values in client.latencies.items():
            latencies.setdefault(label, []).extend(values)
    everything = [v for values in latencies.values() for v in values]
    total = sum(statuses.values()) + sum(c.dropped for c in clients)
    injected = counts["faults"]
    groups = {
        "reads": [
            v
            for k, vs in latencies.items()
            if k.split()[0] != "PUT" and "DELETE" not in k
            for v in vs
        ],
        "writes": [
            v for k, vs in latencies.items() if k.split()[0] in ("PUT", "DELETE") for v in vs
        ],
    }
    per_kind = ", ".join(
        f"{label} p50 {_percentile(v, 0.5):.0f} ms / p99 {_percentile(v, 0.99):.0f} ms"
        for label, v in groups.items()
        if v
    )
    expected = {
        f"/{path}"
        for client in clients
        for path, method in client.acknowledged.items()
        if method == "PUT" and path not in client.unsure
    }
    unsure = {f"/{path}" for client in clients for path in client.unsure}
    present = {rid for rid in held if rid.startswith(("/backends/c", "/namedValues/c"))} - unsure
    figure(
        "7 emulator under load",
        f"{CLIENTS} clients for {elapsed:.0f} s (APIMSYNC_LOAD_SECONDS={SECONDS:g}): "
        f"{total} requests ({total / elapsed:.0f}/s), statuses {dict(sorted(statuses.items()))}, "
        f"{sum(c.dropped for c in clients)} dropped; injected {injected}; latency p50 "
        f"{_percentile(everything, 0.5):.0f} ms, p99 {_percentile(everything, 0.99):.0f} ms "
        f"({per_kind}); {len(present)} resources held = {len(expected)} acknowledged",
    )
    server_errors = {s: n for s, n in statuses.items() if s >= 500}
    assert server_errors == ({503: injected["503"]} if injected.get("503") else {})
    assert statuses.get(429, 0) == injected.get("429", 0)
    assert sum(c.dropped for c in clients) == injected.get("reset", 0)
    assert present == expected, (sorted(present - expected)[:5], sorted(expected - present)[:5])
    assert total > CLIENTS * SECONDS  # the clients were not starved
