"""What commands print: results to stdout, progress and diagnostics to stderr.

On a terminal, a status line and progress bars are redrawn in place (with ``rich``, which
knows terminal widths, colours and how to print lines above a live display); off a
terminal (CI, a pipe) every message is a plain line and progress draws nothing.
``quiet`` keeps only results and errors; ``verbose`` adds a line per retry and per write.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console as RichConsole
    from rich.live import Live
    from rich.progress import Progress, TaskID

# rich is imported where something is drawn: off a terminal (CI, pipes, every test)
# nothing is, and importing it costs each command 50 ms of start-up.


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
    terminal: bool | None = None
    """Whether ``err`` is a terminal to redraw; None: ask it (and CI is never one)."""
    no_color: bool = False
    """Draw progress without colour (``--no-color``; rich also honours ``NO_COLOR``)."""
    _rich: RichConsole | None = field(default=None, init=False, repr=False)
    _status: Live | None = field(default=None, init=False, repr=False)
    _display: ProgressDisplay | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _notes: set[str] = field(default_factory=set, init=False, repr=False)

    @property
    def live(self) -> bool:
        if self.terminal is not None:
            return self.terminal
        return self.err.isatty() and not os.environ.get("CI")

    def result(self, text: str) -> None:
        self.close()
        print(text, file=self.out, flush=True)

    def info(self, text: str) -> None:
        if not self.quiet:
            self.line(text)

    def note(self, text: str) -> None:
        """Like :meth:`info`, but each text only once per run (a run may plan many times)."""
        with self._lock:
            if text in self._notes:
                return
            self._notes.add(text)
        self.info(text)

    def detail(self, text: str) -> None:
        if self.verbose:
            self.line(text)

    def line(self, text: str) -> None:
        """One line on stderr: above the progress bar if one is shown; a status line goes
        (what it said is over once something else is said)."""
        self._stop_status()
        with self._lock:
            if self._rich is not None and self._display:
                from rich.text import Text

                self._rich.print(Text.from_ansi(text), soft_wrap=True)
            else:
                print(text, file=self.err, flush=True)

    def status(self, text: str) -> None:
        """What is happening now: redrawn in place on a terminal, a plain line off one."""
        if self.quiet:
            return
        if not self.live:
            self.line(text)
            return
        with self._lock:
            if self._display:
                return  # a progress bar says what is happening
            from rich.live import Live
            from rich.text import Text

            if self._status is None:
                self._status = Live(
                    Text(text), console=self._console(), transient=True, auto_refresh=False
                )
                self._status.start()
            self._status.update(Text(text), refresh=True)

    def progress(
        self, title: str, total: int | None = None, *, keep: bool = False
    ) -> ProgressDisplay:
        """A progress bar for the ``with`` block: drawn on a terminal (left on screen when
        ``keep``, else erased at the end), nothing elsewhere or with ``quiet``."""
        self._stop_status()
        drawn = self.live and not self.quiet
        display = ProgressDisplay(self, title, total, keep=keep, drawn=drawn)
        with self._lock:
            self._display = display
        return display

    def close(self) -> None:
        """Take the status line and any progress bar off the screen."""
        self._stop_status()
        with self._lock:
            display, self._display = self._display, None
        if display is not None:
            display.stop()

    def _stop_status(self) -> None:
        with self._lock:
            status, self._status = self._status, None
        if status is not None:
            status.stop()

    def _console(self) -> RichConsole:
        if self._rich is None:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(
                file=self.err, force_terminal=True, highlight=False, no_color=self.no_color
            )
        return self._rich

    def _forget(self, display: ProgressDisplay) -> None:
        with self._lock:
            if self._display is display:
                self._display = None


class ProgressDisplay:
    """One progress bar: ``update`` it from any thread; ``note`` prints a line above it."""

    def __init__(
        self, console: Console, title: str, total: int | None, *, keep: bool, drawn: bool
    ) -> None:
        self.console = console
        self.drawn = drawn
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if drawn:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.table import Column

            self._bar = Progress(
                SpinnerColumn(finished_text=" "),
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                TextColumn(
                    "[dim]{task.fields[current]}",
                    table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"),
                ),
                console=console._console(),
                transient=not keep,
                refresh_per_second=8,
                expand=True,
            )
            self._task = self._bar.add_task(title, total=total, counts="", current="")

    def __bool__(self) -> bool:
        return self.drawn

    def __enter__(self) -> ProgressDisplay:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(finished=exc_type is None)

    def update(
        self,
        completed: int,
        *,
        total: int | None = None,
        counts: str = "",
        current: str = "",
    ) -> None:
        if self._bar is not None and self._task is not None:
            from rich.markup import escape

            self._bar.update(
                self._task,
                completed=completed,
                total=total,
                counts=counts,
                current=escape(current),
            )

    def describe(self, title: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=title)

    def note(self, text: str) -> None:
        """A line that stays (a failure, say), printed above the bar."""
        if self._bar is not None:
            from rich.text import Text

            self._bar.console.print(Text.from_ansi(text), soft_wrap=True)

    def stop(self, *, finished: bool = True) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            if finished and self._task is not None:
                bar.update(self._task, current="")
            bar.stop()
        self.console._forget(self)
