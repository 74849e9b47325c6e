"""``python -m apimsync.emulator --data DIR [...]``: run the emulator until interrupted.

The CLI proper (``apimsync emulator serve``) is wired elsewhere; this entry point exists
so that :class:`apimsync.emulator.EmulatorProcess` can run the emulator as a child.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from apimsync.emulator import lro
from apimsync.emulator.server import EmulatorOptions, parse_faults, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m apimsync.emulator")
    parser.add_argument("--data", required=True, type=Path, help="state folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--service", action="append", dest="services", default=[])
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault", action="append", dest="faults", default=[], help="KIND:RATE")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--subscription-id", default=None)
    parser.add_argument("--resource-group", default=None)
    parser.add_argument("--lro-style", choices=lro.STYLES, default=lro.DEFAULT_STYLE, help=lro.HELP)
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        parse_faults(args.faults)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    options = EmulatorOptions(
        args.data,
        args.host,
        args.port,
        tuple(args.services or ["apim-emulator"]),
        args.latency_ms,
        tuple(args.faults),
        args.seed,
        args.subscription_id,
        args.resource_group,
        args.lro_style,
    )
    serve(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
