"""Text files as APIM wrote them: line endings, final newline, BOM and JSON indentation.

The model holds text with ``\\n`` line endings; each file keeps its own
:class:`TextStyle`, so a rewritten file looks like the one it replaces.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apimsync.errors import UnsafePath

BOM = "\ufeff"


@dataclass(frozen=True)
class TextStyle:
    newline: str = "\n"
    final_newline: bool = False
    bom: bool = False
    indent: int = 2

    @classmethod
    def of(cls, text: str) -> TextStyle:
        body = text.removeprefix(BOM)
        return cls(
            newline="\r\n" if "\r\n" in body else "\n",
            final_newline=body.endswith("\n"),
            bom=text.startswith(BOM),
            indent=_json_indent(body),
        )

    def encode(self, model_text: str) -> bytes:
        """Bytes of a file in this style holding ``model_text`` (which uses ``\\n``)."""
        text = model_text.replace("\r\n", "\n").replace("\n", self.newline)
        return ((BOM if self.bom else "") + text).encode("utf-8")

    def encode_json(self, document: Any) -> bytes:
        text = json.dumps(document, indent=self.indent, ensure_ascii=False)
        if self.final_newline:
            text += "\n"
        return self.encode(text)


def _json_indent(text: str) -> int:
    for line in text.splitlines()[1:3]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) != len(line):
            return len(line) - len(stripped)
    return 2


def model_text(text: str) -> str:
    """File text as the model holds it: no BOM, ``\\n`` line endings."""
    return text.removeprefix(BOM).replace("\r\n", "\n")


def normalize_repo_path(path: str) -> str | None:
    """A repository-relative POSIX path with no ``..`` escape; ``None`` if it would escape."""
    if not path or "\\" in path or "\x00" in path or path.startswith("/") or ":" in path:
        return None
    normal = posixpath.normpath(path)
    if normal.startswith("../") or normal == ".." or normal.startswith("/"):
        return None
    return normal


def reference_path(reference: str) -> str | None:
    """The repository path a ``$ref-`` value names, or ``None`` if it would escape.

    APIM exported on Windows and wrote some references with backslashes
    (``api-management\\apis\\...``); they name the same file as with ``/``.
    """
    return normalize_repo_path(reference.replace("\\", "/"))


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing any path that leaves ``root`` (links included)."""
    return resolve_all_inside(root, [relative])[relative]


def resolve_all_inside(root: Path, relatives: Iterable[str]) -> dict[str, Path]:
    """:func:`resolve_inside` of each path; the root and each folder are resolved once
    (a pull writes thousands of files into a few hundred folders)."""
    real_root = root.resolve()
    folders_inside: dict[Path, bool] = {}
    targets: dict[str, Path] = {}
    for relative in relatives:
        normal = normalize_repo_path(relative)
        if normal is None:
            raise UnsafePath(relative, str(root))
        target = root / normal
        inside = folders_inside.get(target.parent)
        if inside is None:
            real_parent = target.parent.resolve()
            inside = real_parent == real_root or real_root in real_parent.parents
            folders_inside[target.parent] = inside
        if not inside or target.is_symlink():
            raise UnsafePath(relative, str(root))
        targets[relative] = target
    return targets


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".apimsync-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
