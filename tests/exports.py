"""Every export the tests check: the real ones of the shared corpus, the ones written by
hand in APIM's style under tests/data/exports, and, opt-in, more real exports below the
folder ``APIMSYNC_EXTRA_EXPORTS`` names (for example public repositories cloned there)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CORPUS

CONSTRUCTED = Path(__file__).resolve().parent / "data" / "exports"
EXTRA_EXPORTS_VARIABLE = "APIMSYNC_EXTRA_EXPORTS"


def export_roots(base: Path) -> list[Path]:
    """Every folder at or below ``base`` that holds an ``api-management/configuration.json``."""
    return sorted(
        found.parent.parent
        for found in base.rglob("api-management/configuration.json")
        if found.is_file() and ".git" not in found.parts
    )


def _params(base: Path, prefix: str) -> list[pytest.ParameterSet]:
    return [
        pytest.param(root, id=f"{prefix}/{root.relative_to(base).as_posix() or '.'}")
        for root in export_roots(base)
    ]


def known_exports() -> list[pytest.ParameterSet]:
    """The corpus and the constructed exports."""
    return _params(CORPUS, "corpus") + _params(CONSTRUCTED, "constructed")


def extra_exports() -> list[pytest.ParameterSet]:
    """The exports below ``$APIMSYNC_EXTRA_EXPORTS``; one skipped case when it is unset."""
    folder = os.environ.get(EXTRA_EXPORTS_VARIABLE)
    if not folder:
        reason = f"set {EXTRA_EXPORTS_VARIABLE} to a folder of more exports to check them"
        return [pytest.param(None, id="extra", marks=pytest.mark.skip(reason=reason))]
    found = _params(Path(folder), "extra")
    if not found:
        reason = f"{EXTRA_EXPORTS_VARIABLE}={folder} holds no api-management/configuration.json"
        return [pytest.param(None, id="extra", marks=pytest.mark.skip(reason=reason))]
    return found
