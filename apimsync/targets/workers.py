"""A bounded pool of daemon threads for the requests of one run.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, so
one worker waiting for an endpoint that never answers keeps the process alive after
Ctrl-C or after an error has been reported. These workers are daemon threads: leaving
the ``with`` block because of an exception cancels what has not started and does not
wait for what has; a normal exit waits for everything.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class Workers:
    """``submit`` and ``map`` like an executor; a context manager."""

    def __init__(self, size: int, name: str) -> None:
        self.size = max(1, size)
        self.name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._pending.add(future)
            if len(self._threads) < min(self.size, len(self._pending)):
                self._start_thread()
        future.add_done_callback(self._forget)
        self._queue.put((future, function, args))
        return future

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``function`` of each item, in order; the first failure cancels the rest."""
        futures = [self.submit(function, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def cancel_pending(self) -> None:
        """Cancel every piece of work that has not started."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.cancel()

    def close(self, *, wait: bool) -> None:
        if not wait:
            self.cancel_pending()
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(wait=exc_type is None)

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            future, function, args = work
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = function(*args)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)
