"""The one place that maps errors to exit codes and messages.

Expected errors print one line (or block) to stderr and exit with their code; Ctrl-C
exits 130; anything else is a bug in apimsync: it exits 3 and says how to report it,
without a raw traceback unless ``APIMSYNC_DEBUG`` is set.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator

from apimsync.errors import ApimsyncError, Interrupted

EXIT_BUG = 3
EXIT_INTERRUPTED = Interrupted.exit_code


class Exit(Exception):
    """Raised by :func:`handled` so the caller can leave with a code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@contextlib.contextmanager
def handled() -> Iterator[None]:
    try:
        yield
    except ApimsyncError as error:
        print(f"apimsync: {error.label}: {error}", file=sys.stderr)
        raise Exit(error.exit_code) from None
    except KeyboardInterrupt:
        print("apimsync: interrupted", file=sys.stderr)
        raise Exit(EXIT_INTERRUPTED) from None
    except Exception as error:
        if os.environ.get("APIMSYNC_DEBUG"):
            traceback.print_exc()
        print(
            f"apimsync: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in apimsync; rerun with APIMSYNC_DEBUG=1 for details and report it.",
            file=sys.stderr,
        )
        raise Exit(EXIT_BUG) from None
