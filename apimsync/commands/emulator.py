"""``apimsync emulator serve``: run the embedded emulator in the foreground.

It says where it listens once it is ready, and stops on Ctrl-C or SIGTERM (as a
container or a service manager stops it), removing ``DATA/connection.json`` so that no
command tries to reach an emulator that is gone.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TextIO

from apimsync.errors import UsageError


def serve(
    data_dir: Path,
    *,
    host: str,
    port: int,
    services: Sequence[str],
    latency_ms: int,
    faults: Sequence[str],
    seed: int | None,
    out: TextIO | None = None,
    lro_style: str = "recorded",
) -> int:
    from apimsync.emulator import Emulator, EmulatorOptions, parse_faults

    shown = out or sys.stdout
    try:
        parse_faults(faults)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data_dir.mkdir(parents=True, exist_ok=True)
    options = EmulatorOptions(
        data_dir, host, port, tuple(services), latency_ms, tuple(faults), seed
    )
    options = replace(options, lro_style=lro_style)
    try:
        emulator = Emulator(options)
    except OSError as error:
        raise UsageError(
            f"the emulator cannot listen on {host}:{port} ({error.strerror or error}); "
            "choose another --port (0 picks a free one)"
        ) from None
    stop = threading.Event()

    def stop_on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        connection = emulator.start()
        connection_file = data_dir / "connection.json"
        print(
            f"apimsync emulator: serving {connection.endpoint} for "
            f"{', '.join(services)}; Ctrl-C stops it\n"
            f"  export APIMSYNC_CONNECTION={connection_file}\n"
            f"  (state, CA and log in {data_dir})",
            file=shown,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        signal.signal(signal.SIGTERM, previous)
    print("apimsync emulator: stopped", file=shown, flush=True)
    return 0
