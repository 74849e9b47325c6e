"""The real APIOps artifact folders in ../shared/corpus-apiops, and copies to change."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import CORPUS

APIOPS_CORPUS = CORPUS.parent / "corpus-apiops"
FOLDERS = sorted(p.name for p in APIOPS_CORPUS.iterdir() if (p / "apimartifacts").is_dir())
ARTIFACTS = "apimartifacts"


def copy_folder(name: str, target: Path) -> Path:
    """A copy of one corpus folder (artifacts and override files) at ``target``."""
    shutil.copytree(APIOPS_CORPUS / name, target)
    return target


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (outside hidden folders), path -> bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }
