"""Files that ship with apimsync: the schemas."""

from __future__ import annotations

from pathlib import Path


def schemas_dir() -> Path:
    """The schemas folder (``schemas/`` of the source tree, linked into the package)."""
    return Path(__file__).resolve().parent / "schemas"
