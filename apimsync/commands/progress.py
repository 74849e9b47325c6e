"""What a user sees while apimsync reads or writes an instance.

:class:`ApplyProgress` hears a deploy's events: on a terminal, a live bar with the counts
by action, the retries so far and the resource being written, and each failure as it
happens; with ``--verbose``, one line per applied (or failed) resource and per retry.
:class:`ReadProgress` does the same for the lists and GETs of a read.
"""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType
from typing import Self

from apimsync.model import Kind
from apimsync.output import Console, ProgressDisplay
from apimsync.targets.applying import (
    APPLIED,
    FAILED,
    NOT_ATTEMPTED,
    RETRY,
    SKIPPED,
    STARTED,
    ApplyEvent,
)
from apimsync.targets.calls import Retry
from apimsync.targets.connection import Target
from apimsync.targets.reading import ReadProgress as Read
from apimsync.targets.sdk import LiveState, read_instance

_SYMBOLS = {"create": "+", "update": "~", "delete": "-"}


def _retry_text(retry: Retry) -> str:
    subject = f" ({retry.subject})" if retry.subject else ""
    return (
        f"retry: {retry.what}{subject}: {retry.reason}; attempt {retry.attempt} "
        f"in {retry.delay:.1f} s"
    )


class _Shown:
    """Something shown with a progress bar while its ``with`` block runs."""

    display: ProgressDisplay

    def __enter__(self) -> Self:
        self.display.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.display.__exit__(exc_type, exc, tb)


class ApplyProgress(_Shown):
    """A deploy's progress; pass the instance as ``on_event``, use it as a context."""

    def __init__(self, console: Console, total: int, title: str = "Applying") -> None:
        self.console = console
        self.total = total
        self.display = console.progress(title, total, keep=True)
        self._lock = threading.Lock()
        self._done = 0
        self._applied: Counter[str] = Counter()
        self._failed = 0
        self._retries = 0
        self._current = ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.display.describe("Applied" if exc_type is None else "Stopped")
        super().__exit__(exc_type, exc, tb)

    def __call__(self, event: ApplyEvent) -> None:
        with self._lock:
            self._count(event)
            counts = self._counts()
            done, current = self._done, self._current
        if event.event == FAILED:
            self.display.note(f"failed: {event.action} {event.resource_id}: {event.message}")
        if event.event != STARTED:
            self.console.detail(str(event))
        self.display.update(done, counts=counts, current=current)

    def _count(self, event: ApplyEvent) -> None:
        if event.event == STARTED:
            self._current = f"{event.action} {event.resource_id}"
        elif event.event == RETRY:
            self._retries += 1
        else:
            self._done += 1
            if event.event in (APPLIED, SKIPPED):
                self._applied[event.action] += 1
            elif event.event in (FAILED, NOT_ATTEMPTED):
                self._failed += 1

    def _counts(self) -> str:
        text = " ".join(f"{symbol}{self._applied[a]}" for a, symbol in _SYMBOLS.items())
        if self._failed:
            text += f" [red]failed {self._failed}[/]"
        if self._retries:
            text += f" [yellow]retries {self._retries}[/]"
        return text


class ReadProgress(_Shown):
    """A read's progress: pass :meth:`progress` as ``on_progress`` and :meth:`retry` as
    ``on_retry``; use it as a context."""

    def __init__(self, console: Console, title: str, *, announce: str | None = None) -> None:
        """``title`` names the bar on a terminal; off one, ``announce`` is said instead."""
        self.console = console
        self.display = console.progress(title)
        if announce is not None and not self.display:
            console.info(announce)
        self._lock = threading.Lock()
        self._retries = 0
        self._last: Read | None = None

    def progress(self, read: Read) -> None:
        with self._lock:
            self._last = read
            retries = self._retries
        self._show(read, retries)

    def retry(self, retry: Retry) -> None:
        with self._lock:
            self._retries += 1
            retries, last = self._retries, self._last
        self.console.detail(_retry_text(retry))
        if last is not None:
            self._show(last, retries)

    def _show(self, read: Read, retries: int) -> None:
        counts = f"{read.resources} resources, {read.requests} requests"
        if retries:
            counts += f" [yellow]retries {retries}[/]"
        self.display.update(read.done, total=read.total, counts=counts)


def read_live(
    target: Target, console: Console, parallelism: int, skip_kinds: frozenset[Kind] = frozenset()
) -> LiveState:
    """The live instance, read with its progress shown."""
    announce = f"Reading {target.describe()} ..."
    with ReadProgress(console, f"Reading {target.service}", announce=announce) as shown:
        live = read_instance(
            target,
            parallelism=parallelism,
            skip_kinds=skip_kinds,
            on_retry=shown.retry,
            on_progress=shown.progress,
        )
    console.detail(f"read {len(live.configuration)} live resources in {live.requests} requests")
    return live
