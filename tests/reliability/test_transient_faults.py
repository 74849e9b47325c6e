"""1. Transient faults: W(200) deploys through an emulator that throttles, fails, drops
connections and answers 409 "operation on the API is in progress"; a resource that keeps
failing fails the run after a bounded time while everything else is applied.

The emulator injects 20% 429 (``Retry-After: 1``), 5% 503, 2% dropped connections and
10% conflicts on API writes. Two deploys run at the same time against two instances of
it: W(200) straight to the emulator, and W(10) through a proxy that answers every write
of ``/groups/team-1`` with 503 (the fixture starts the second before the first test, so
its retries overlap the W(200) deploy instead of adding to the run time).
``APIMSYNC_RELIABILITY_APIS`` sets N (default 200).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from apimsync.emulator import Connection, EmulatorProcess
from apimsync.emulator.certs import TlsFiles, ensure_tls
from apimsync.emulator.counters import RequestCounters
from apimsync.targets.calls import DEFAULT_RETRY
from tests.reliability.helpers import (
    Cli,
    by_kind,
    comes_with_instance,
    figure,
    stored_ids,
    write_synthetic,
)
from tests.reliability.servers import Answer, Seen, TlsServer, faulting_proxy

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

FAULTS = ("429:0.2", "503:0.05", "reset:0.02", "conflict:0.1")
APIS = int(os.environ.get("APIMSYNC_RELIABILITY_APIS", "200"))
PARALLELISM = "32"
PLAN_PARALLELISM = "64"
DOOMED = "/groups/team-1"


@dataclass
class Running:
    """A deploy started in the background; a thread waits for it and notes when it ended."""

    process: subprocess.Popen[str]
    desired: set[str]
    data_dir: Path
    started: float = field(default_factory=time.monotonic)
    took: float = 0.0
    stdout: str = ""
    stderr: str = ""

    def __post_init__(self) -> None:
        self.waiter = threading.Thread(target=self._wait, daemon=True)
        self.waiter.start()

    def _wait(self) -> None:
        self.stdout, self.stderr = self.process.communicate()
        self.took = time.monotonic() - self.started

    def result(self, timeout: float) -> tuple[int, str, str]:
        self.waiter.join(timeout)
        assert not self.waiter.is_alive(), "the deploy did not end"
        return int(self.process.returncode), self.stdout, self.stderr


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    data = tmp_path_factory.mktemp("faulty-emulator")
    with EmulatorProcess(
        data, mode="subprocess", services=("w", "doomed"), faults=FAULTS, seed=11
    ) as running:
        yield running


@pytest.fixture(scope="module")
def proxy(emulator: EmulatorProcess) -> Iterator[TlsServer]:
    def doom(seen: Seen) -> Answer | None:
        path = seen.path.split("?", 1)[0].lower()
        if seen.method == "PUT" and path.endswith(f"/service/doomed{DOOMED}"):
            body = {"error": {"code": "ServiceUnavailable", "message": "Always unavailable."}}
            return Answer(503, json.dumps(body).encode())
        return None

    connection = emulator.connection
    with faulting_proxy(connection.endpoint, emulator_tls(emulator), doom) as server:
        yield server


def emulator_tls(emulator: EmulatorProcess) -> TlsFiles:
    return ensure_tls(emulator.data_dir / "tls", "127.0.0.1")


@pytest.fixture(scope="module")
def doomed_run(
    emulator: EmulatorProcess, proxy: TlsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """W(10) deploying through the proxy, started now, finished by the test that asks."""
    folder = tmp_path_factory.mktemp("doomed")
    desired = write_synthetic(10, folder / "repo")
    connection = json.loads((emulator.data_dir / "connection.json").read_text())
    connection["endpoint"] = proxy.url
    proxied = folder / "connection.json"
    proxied.write_text(json.dumps(connection))
    cli = Cli(proxied, "doomed")
    process = cli.start(
        "deploy", "--dir", folder / "repo", "--yes", "--format", "json", "--parallelism", "8"
    )
    ids = {r.id for r in desired if not comes_with_instance(r)}
    running = Running(process, ids, emulator.data_dir)
    yield running
    if process.poll() is None:
        process.kill()
    running.waiter.join(30)


def test_w200_deploys_completely_through_faults_and_the_next_plan_is_empty(
    emulator: EmulatorProcess, doomed_run: Running, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    desired = write_synthetic(APIS, repo)
    connection = emulator.data_dir / "connection.json"
    cli = Cli(connection, "w")
    admin = RequestCounters(Connection.from_file(connection))

    started = time.monotonic()
    deploy = cli.run(
        "deploy", "--dir", repo, "--yes", "--format", "json", "--parallelism", PARALLELISM
    )
    deployed_in = time.monotonic() - started
    faults = admin.snapshot()["faults"]
    started = time.monotonic()
    plan = cli.run("plan", "--dir", repo, "--format", "json", "--parallelism", PLAN_PARALLELISM)
    planned_in = time.monotonic() - started

    report = json.loads(deploy.stdout)
    after = json.loads(plan.stdout)
    wanted = {r.id for r in desired if not comes_with_instance(r)}
    held = stored_ids(emulator.data_dir, "w")
    figure(
        "1 transient faults",
        f"W({APIS}) = {len(wanted)} resources deployed in {deployed_in:.0f} s at --parallelism "
        f"{PARALLELISM}: {len(report['applied'])} changes applied, {report['retries']} "
        f"retries reported by the run, {report['writes']} writes, {report['requests']} "
        f"requests; faults injected so far (both instances): {faults}; next plan (through "
        f"the same faults, --parallelism {PLAN_PARALLELISM}) empty in {planned_in:.0f} s; the "
        f"store holds exactly the {len(held)} resources of the files",
    )
    assert report["failed"] == [] and report["not_attempted"] == [], report
    assert report["retries"] > 0
    assert len(report["applied"]) == len(set(report["applied"]))
    assert after["changes"] == [], after["summary"]
    missing, extra = sorted(wanted - held), sorted(held - wanted)
    assert not missing and not extra, f"missing: {missing[:10]}, extra: {extra[:10]}"
    assert by_kind(held) == by_kind(wanted)


def test_a_permanently_failing_resource_fails_the_run_after_a_bounded_time(
    doomed_run: Running,
) -> None:
    code, stdout, stderr = doomed_run.result(timeout=DEFAULT_RETRY.total + 300)
    took = doomed_run.took

    assert "Traceback" not in stderr, stderr
    assert code == 1, stdout + stderr
    report = json.loads(stdout)
    failed = {f["id"]: f["message"] for f in report["failed"]}
    held = stored_ids(doomed_run.data_dir, "doomed")
    figure(
        "1 permanent failure",
        f"W(10) through a proxy failing every write of {DOOMED} with 503: exit 1 after "
        f"{took:.0f} s (bound: {DEFAULT_RETRY.attempts} attempts, {DEFAULT_RETRY.total:.0f} s "
        f"per call); {len(report['applied'])} other changes applied; message: "
        f"{failed.get(DOOMED, '')!r}",
    )
    assert list(failed) == [DOOMED], report
    assert f"gave up after {DEFAULT_RETRY.attempts} attempts" in failed[DOOMED]
    assert "503" in failed[DOOMED]
    assert report["not_attempted"] == []
    assert held == doomed_run.desired - {DOOMED}
    assert took < DEFAULT_RETRY.total + 120
