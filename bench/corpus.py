"""Where the real APIM exports are (``../shared/corpus``), for the tests and W(N).

The folder is not part of this repository: it lies beside the checkout. A clone of that
checkout (``git clone . /tmp/x``) finds it beside the repository it was cloned from;
``APIMSYNC_CORPUS`` names it anywhere else.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def candidates() -> list[Path]:
    found = [Path(os.environ["APIMSYNC_CORPUS"])] if os.environ.get("APIMSYNC_CORPUS") else []
    found.append(REPO.parent / "shared" / "corpus")
    origin = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        found.append(Path(origin).resolve().parent / "shared" / "corpus")
    return found


def corpus_dir() -> Path | None:
    """The first candidate folder that exists; None if none does."""
    return next((path for path in candidates() if path.is_dir()), None)
