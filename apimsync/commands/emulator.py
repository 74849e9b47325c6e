"""``apimsync emulator serve``: run the embedded emulator in the foreground."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

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
    lro_style: str = "recorded",
) -> int:
    from apimsync.emulator import EmulatorOptions, parse_faults
    from apimsync.emulator import serve as run

    try:
        parse_faults(faults)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"apimsync emulator: starting; {data_dir / 'connection.json'} appears when ready")
    options = EmulatorOptions(
        data_dir, host, port, tuple(services), latency_ms, tuple(faults), seed
    )
    run(replace(options, lro_style=lro_style))
    return 0
