"""Shared fixtures: the real exports in ../shared/corpus and copies of them to change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import corpus

REPO = Path(__file__).resolve().parents[1]


def _corpus() -> Path:
    found = corpus.corpus_dir()
    if found is None:
        tried = ", ".join(str(path) for path in corpus.candidates())
        raise SystemExit(
            f"the real APIM exports the tests use are not found (tried {tried}); "
            "set APIMSYNC_CORPUS to the folder that holds them"
        )
    return found


CORPUS = _corpus()
EXPORTS = sorted(p.name for p in CORPUS.iterdir() if (p / "api-management").is_dir())


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(params=EXPORTS)
def export(request: pytest.FixtureRequest) -> Path:
    """Each real export, read-only."""
    return CORPUS / str(request.param)


@pytest.fixture
def copy_export(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Copy a named export into a temporary folder that a test may change."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(CORPUS / name / "api-management", target / "api-management")
        return target

    return copy


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below root's configuration folders, path -> bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for top in ("api-management", "api-management-extras")
        for p in sorted((root / top).rglob("*"))
        if p.is_file()
    }
