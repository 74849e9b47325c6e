"""Endpoints that hang, errors that cannot succeed, and Ctrl-C: the run ends promptly
with one line, and a deploy says what it had applied.

Real servers of the test's: a TLS server that reads a request and never answers, a TCP
server that accepts and never speaks TLS, and a proxy in front of a real emulator that
holds some writes forever. apimsync runs as a child process, as a user would run it.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.certs import ensure_tls
from apimsync.targets.connection import READ_TIMEOUT
from tests.commands.test_sync import EXAMPLE, workdir
from tests.reliability.helpers import Cli
from tests.reliability.servers import Answer, Seen, TlsServer, faulting_proxy

SERVICE = "apim-emulator"
STARTUP = 8.0
"""Seconds for Python to start apimsync and give up: a generous bound on a busy machine,
still far below the timeouts that would apply without the setting under test."""


def connection_file(
    folder: Path, endpoint: str, ca_bundle: Path | str, like: Path | None = None
) -> Path:
    """A connection file for ``endpoint`` (with the token and names of ``like``)."""
    path = folder / "connection.json"
    document = {
        "token": "test-token-not-a-secret",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": "rg-test",
        "service": SERVICE,
    }
    if like is not None:
        document.update(json.loads(like.read_text(encoding="utf-8")))
    document.update(endpoint=endpoint, ca_bundle=str(ca_bundle))
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


class Silent:
    """A handler that reads the request and never answers (until the test ends)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()

    def __call__(self, seen: Seen) -> Answer:
        self.arrived.set()
        self.release.wait(120)
        return Answer(drop=True)


@pytest.fixture
def silent_server(tmp_path: Path) -> Iterator[tuple[TlsServer, Silent]]:
    silent = Silent()
    with TlsServer(tmp_path / "tls", silent) as server:
        yield server, silent
        silent.release.set()


@pytest.fixture
def mute_socket() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (no TLS handshake)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def timed(
    cli: Cli, *args: str | Path, expect: int
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = cli.run(*args, expect=expect, timeout=120)
    return result, time.monotonic() - started


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("apimsync:")]


# -- hangs -----------------------------------------------------------------------------


def test_a_server_that_never_answers_fails_the_plan_within_the_read_timeout(
    silent_server: tuple[TlsServer, Silent], tmp_path: Path
) -> None:
    server, _ = silent_server
    cli = Cli(connection_file(tmp_path, server.url, server.ca_bundle), SERVICE)

    result, elapsed = timed(cli, "plan", "--dir", EXAMPLE, "--read-timeout", "1", expect=1)

    assert elapsed < 1 + STARTUP, elapsed
    [line] = error_lines(result)
    assert server.url in line and "did not answer within 1 s" in line
    assert "--read-timeout" in line


def test_the_read_timeout_comes_from_the_environment_too(
    silent_server: tuple[TlsServer, Silent], tmp_path: Path
) -> None:
    server, _ = silent_server
    cli = Cli(
        connection_file(tmp_path, server.url, server.ca_bundle),
        SERVICE,
        APIMSYNC_READ_TIMEOUT="1.5",
    )

    result, elapsed = timed(cli, "pull", "--dir", tmp_path / "pulled", expect=1)

    assert elapsed < 1.5 + STARTUP, elapsed
    assert "did not answer within 1.5 s" in result.stderr
    assert not (tmp_path / "pulled").exists()


def test_a_server_that_never_speaks_tls_fails_within_the_timeout(
    mute_socket: int, tmp_path: Path
) -> None:
    endpoint = f"https://127.0.0.1:{mute_socket}"
    ca_bundle = TlsServer(tmp_path / "tls", Silent()).ca_bundle  # made, never started
    cli = Cli(connection_file(tmp_path, endpoint, ca_bundle), SERVICE)

    result, elapsed = timed(
        cli, "plan", "--dir", EXAMPLE, "--connect-timeout", "1", "--read-timeout", "30", expect=1
    )

    assert elapsed < 1 + STARTUP, elapsed  # the TLS handshake is part of connecting
    [line] = error_lines(result)
    assert f"could not connect to {endpoint} within 1 s" in line and "--connect-timeout" in line


def test_the_default_timeouts_are_documented() -> None:
    readme = (EXAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"`--read-timeout` (default {READ_TIMEOUT:g} s)" in " ".join(readme.split())


# -- errors that can never succeed -------------------------------------------------------


def test_a_plain_http_endpoint_is_refused_at_once(tmp_path: Path) -> None:
    cli = Cli(
        connection_file(tmp_path, "https://127.0.0.1:9", Path(__file__)),
        SERVICE,
        APIMSYNC_ENDPOINT="http://127.0.0.1:9",
    )

    result, elapsed = timed(cli, "plan", "--dir", EXAMPLE, "-v", expect=2)

    assert elapsed < STARTUP, elapsed
    [line] = error_lines(result)
    assert "http://127.0.0.1:9 is not an https:// URL" in line
    assert "retry" not in result.stderr


# -- Ctrl-C ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=(SERVICE,)) as running:
        yield running


class HoldBackends:
    """Let every request through, except writes of backends: those never get an answer."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, seen: Seen) -> Answer | None:
        if seen.method == "PUT" and "/backends/" in seen.path:
            self.holding.set()
            self.release.wait(120)
            return Answer(drop=True)
        return None


def interrupt_when(process: subprocess.Popen[str], ready: threading.Event) -> float:
    """Send SIGINT once ``ready`` is set; the seconds the process then took to exit."""
    assert ready.wait(60), "the run never got to the point of interruption"
    time.sleep(0.3)  # the other workers are under way too
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    process.wait(timeout=30)
    return time.monotonic() - sent


def test_ctrl_c_stops_a_deploy_at_once_and_says_what_was_applied(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    hold = HoldBackends()
    conn = emulator.connection
    tls = ensure_tls(emulator.data_dir / "tls", "127.0.0.1")
    with faulting_proxy(conn.endpoint, tls, hold) as proxy:
        original = emulator.data_dir / "connection.json"
        cli = Cli(connection_file(tmp_path, proxy.url, conn.ca_bundle, original), SERVICE)
        repo = workdir(tmp_path, EXAMPLE)
        process = cli.start("deploy", "--dir", repo, "--yes")
        try:
            took = interrupt_when(process, hold.holding)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            hold.release.set()
            process.kill()

    assert process.returncode == 130, stderr
    assert took < 3.0, took  # workers waiting for an answer (60 s) do not keep it alive
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "apimsync: interrupted:" in stderr and "run deploy again" in stderr
    applied = int(stdout.split("Applied ", 1)[1].split(" ", 1)[0])
    assert applied > 0  # the named values and loggers went before the backends
    assert "under way when interrupted" in stdout and "/backends/" in stdout


def test_ctrl_c_stops_a_plan_waiting_for_a_silent_server(
    silent_server: tuple[TlsServer, Silent], tmp_path: Path
) -> None:
    server, silent = silent_server
    cli = Cli(connection_file(tmp_path, server.url, server.ca_bundle), SERVICE)
    process = cli.start("plan", "--dir", EXAMPLE)
    try:
        took = interrupt_when(process, silent.arrived)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 130 and took < 3.0, (took, stderr)
    assert error_lines(subprocess.CompletedProcess([], 130, "", stderr)) == [
        "apimsync: interrupted"
    ]
    assert "Traceback" not in stderr


def test_a_deploy_whose_writes_get_no_answer_stops_within_the_read_timeout(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    hold = HoldBackends()
    conn = emulator.connection
    tls = ensure_tls(emulator.data_dir / "tls", "127.0.0.1")
    with faulting_proxy(conn.endpoint, tls, hold) as proxy:
        original = emulator.data_dir / "connection.json"
        cli = Cli(connection_file(tmp_path, proxy.url, conn.ca_bundle, original), SERVICE)
        repo = workdir(tmp_path, EXAMPLE)
        try:
            result, elapsed = timed(
                cli, "deploy", "--dir", repo, "--yes", "--read-timeout", "2", expect=1
            )
        finally:
            hold.release.set()

    assert elapsed < 2 + STARTUP, elapsed  # not 60 s, not 12 attempts of it
    [line] = error_lines(result)
    assert f"{proxy.url} did not answer within 2 s" in line and "The deploy stopped" in line
    assert "failed: /backends/" in result.stdout and "it may have been applied" in result.stdout
