"""The reliability figures, gathered by :func:`tests.reliability.helpers.figure`, printed
in one section at the end of the run (whatever the capture mode)."""

from __future__ import annotations

from typing import Any

from tests.reliability.helpers import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("apimsync reliability figures")
    for name, text in FIGURES:
        terminalreporter.write_line(f"{name}: {text}")
