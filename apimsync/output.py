"""What commands print: results to stdout, progress and diagnostics to stderr.

Colour and the live status line appear only on a terminal; in CI every update is a plain
line. ``quiet`` keeps only results and errors; ``verbose`` adds retries and each write.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO


def wants_color(stream: TextIO, no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("CI"):
        return False
    return stream.isatty()


@dataclass
class Console:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    quiet: bool = False
    verbose: bool = False
    _status_open: bool = False

    @property
    def live(self) -> bool:
        return self.err.isatty() and not os.environ.get("CI")

    def result(self, text: str) -> None:
        self._close_status()
        print(text, file=self.out)

    def info(self, text: str) -> None:
        if not self.quiet:
            self._close_status()
            print(text, file=self.err)

    def detail(self, text: str) -> None:
        if self.verbose:
            self._close_status()
            print(text, file=self.err)

    def status(self, text: str) -> None:
        """A progress update: rewritten in place on a terminal, a plain line in CI."""
        if self.quiet:
            return
        if self.live:
            print(f"\r\x1b[2K{text}", end="", file=self.err, flush=True)
            self._status_open = True
        else:
            print(text, file=self.err)

    def _close_status(self) -> None:
        if self._status_open:
            print(file=self.err)
            self._status_open = False
