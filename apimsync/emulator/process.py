"""Run an emulator for tests and benchmarks: in a thread of this process or as a child.

>>> with EmulatorProcess(tmp_path) as emulator:          # doctest: +SKIP
...     conn = emulator.connection
...     client = ApiManagementClient(cred, conn.subscription_id, base_url=conn.endpoint,
...                                  connection_verify=conn.ca_bundle)

``mode="subprocess"`` starts ``python -m apimsync.emulator`` (its own GIL, as a benchmark
wants) and waits for ``DATA/connection.json``; ``stop()`` ends it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from apimsync.emulator.server import Connection, Emulator, EmulatorOptions

MODES = ("thread", "subprocess")


class EmulatorProcess:
    """A running emulator on port 0 (by default); a context manager."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        mode: str = "thread",
        host: str = "127.0.0.1",
        port: int = 0,
        services: Sequence[str] = ("apim-emulator",),
        latency_ms: int = 0,
        faults: Sequence[str] = (),
        seed: int | None = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        lro_style: str = "recorded",
        startup_timeout: float = 30.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.options = EmulatorOptions(
            Path(data_dir),
            host,
            port,
            tuple(services),
            latency_ms,
            tuple(faults),
            seed,
            subscription_id,
            resource_group,
            lro_style,
        )
        self.startup_timeout = startup_timeout
        self._emulator: Emulator | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the emulator is not running")
        return self._connection

    @property
    def data_dir(self) -> Path:
        return self.options.data_dir

    def start(self) -> Connection:
        if self._connection is not None:
            return self._connection
        if self.mode == "thread":
            self._emulator = Emulator(self.options)
            self._connection = self._emulator.start()
        else:
            self._connection = self._start_child()
        return self._connection

    def _command(self) -> list[str]:
        opts = self.options
        command = [sys.executable, "-m", "apimsync.emulator", "--data", str(opts.data_dir)]
        command += ["--host", opts.host, "--port", str(opts.port)]
        for service in opts.services:
            command += ["--service", service]
        command += ["--latency-ms", str(opts.latency_ms)]
        for fault in opts.faults:
            command += ["--fault", fault]
        if opts.seed is not None:
            command += ["--seed", str(opts.seed)]
        if opts.subscription_id:
            command += ["--subscription-id", opts.subscription_id]
        if opts.resource_group:
            command += ["--resource-group", opts.resource_group]
        command += ["--lro-style", opts.lro_style]
        return command

    def _start_child(self) -> Connection:
        target = self.options.data_dir / "connection.json"
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        self._child = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._child.poll() is not None:
                raise RuntimeError(f"the emulator exited with status {self._child.returncode}")
            if target.exists():
                connection = Connection.from_file(target)
                if connection.pid == self._child.pid:
                    return connection
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the emulator did not start within {self.startup_timeout} s")

    def stop(self) -> None:
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
        if self._child is not None:
            if self._child.poll() is None:
                self._child.send_signal(signal.SIGTERM)
                try:
                    self._child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._child.kill()
                    self._child.wait()
            self._child = None
        self._connection = None

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
