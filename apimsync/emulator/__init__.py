"""An embedded emulator of the API Management management API (api-version 2024-05-01).

Like Azurite for Storage: a local HTTPS server speaking the ARM REST API that the
``azure-mgmt-apimanagement`` client uses, with its state under a folder. It answers as the
real service answered in recorded sessions (``shared/docs/real-service-behaviour.md``)
where those and the 2024-05-01 description disagree, accepts every api-version Azure
serves (:mod:`.versions`) and serves every collection of the description
(:mod:`.catalog`). Public API:

- :func:`serve` runs it until interrupted (``apimsync emulator serve`` wraps it);
- :class:`EmulatorProcess` runs it in a thread or child process for tests and benchmarks;
- :class:`Connection` is what clients need (``DATA/connection.json``);
- :func:`verify_git_password` checks a git password minted by ``POST .../users/git/token``.
"""

from __future__ import annotations

from pathlib import Path

from apimsync.emulator.actions import verify_git_password as _verify_in_store
from apimsync.emulator.process import EmulatorProcess
from apimsync.emulator.server import Connection, Emulator, EmulatorOptions, parse_faults, serve
from apimsync.emulator.store import Store

__all__ = [
    "Connection",
    "Emulator",
    "EmulatorOptions",
    "EmulatorProcess",
    "parse_faults",
    "serve",
    "verify_git_password",
]


def verify_git_password(store_or_data_dir: Store | Path | str, service: str, password: str) -> bool:
    """Whether ``password`` is a live git password minted for ``service``.

    Pass the running emulator's :class:`Store` (``emulator.store``), or a DATA folder.
    """
    if isinstance(store_or_data_dir, Store):
        return _verify_in_store(store_or_data_dir, service, password)
    store = Store(Path(store_or_data_dir) / "state.sqlite3")
    try:
        return _verify_in_store(store, service, password)
    finally:
        store.close()
