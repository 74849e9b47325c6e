"""``apimsync emulator serve`` as a user runs it: a foreground process, then Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.1)


def test_serve_writes_a_connection_file_that_every_command_uses(tmp_path: Path) -> None:
    data = tmp_path / "emulator"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apimsync",
            "emulator",
            "serve",
            "--data",
            str(data),
            "--port",
            "0",
            "--service",
            "dev-apim",
            "--service",
            "prod-apim",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(data / "connection.json", server)
        connection = json.loads((data / "connection.json").read_text())
        env = {**os.environ, "APIMSYNC_CONNECTION": str(data / "connection.json")}
        plan = subprocess.run(
            [
                sys.executable,
                "-m",
                "apimsync",
                "plan",
                "--dir",
                str(REPO / "examples" / "openai-usage"),
                "--detailed-exitcode",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)

    assert {
        "endpoint",
        "ca_bundle",
        "token",
        "subscription_id",
        "resource_group",
        "service",
    } <= set(connection)
    assert connection["service"] == "dev-apim" and connection["endpoint"].startswith("https://")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "to add" in plan.stdout
    assert server.returncode == 0 and "Traceback" not in err
    assert connection["token"] not in out + err
    assert f"serving {connection['endpoint']} for dev-apim, prod-apim" in out
    assert f"export APIMSYNC_CONNECTION={data / 'connection.json'}" in out
    assert not (data / "connection.json").exists()


def test_sigterm_stops_it_and_removes_the_connection_file(tmp_path: Path) -> None:
    data = tmp_path / "emulator"
    server = subprocess.Popen(
        [sys.executable, "-m", "apimsync", "emulator", "serve", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(data / "connection.json", server)
        endpoint = json.loads((data / "connection.json").read_text())["endpoint"]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)

    assert server.returncode == 0 and "Traceback" not in err, err
    assert out.splitlines()[0].startswith(f"apimsync emulator: serving {endpoint} ")
    assert out.rstrip().endswith("apimsync emulator: stopped")
    assert not (data / "connection.json").exists()  # the next command cannot be misled


def test_a_bad_fault_option_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "apimsync",
            "emulator",
            "serve",
            "--data",
            str(tmp_path),
            "--fault",
            "teapot:0.5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "teapot" in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_one_clear_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "apimsync",
                "emulator",
                "serve",
                "--data",
                str(tmp_path),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
