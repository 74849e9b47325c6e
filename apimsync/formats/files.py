"""Reading the files of a configuration repository, safely.

Only the configuration folders are read. Links, oversized files and text that is not
UTF-8 become findings, never exceptions, so that ``validate`` can report all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from apimsync.formats.jsonpos import json_positions
from apimsync.formats.textfile import (
    TextStyle,
    model_text,
    resolve_all_inside,
    resolve_inside,
    write_atomically,
)
from apimsync.validate.findings import Findings

SCM_ROOT = "api-management"
EXTRAS_ROOT = "api-management-extras"
CONFIG_ROOTS = (SCM_ROOT, EXTRAS_ROOT)
MAX_FILE_BYTES = 16 * 1024 * 1024
TEXT_SUFFIXES = (
    ".json",
    ".xml",
    ".html",
    ".document",
    ".css",
    ".md",
    ".txt",
    ".yaml",
    ".yml",
    ".graphql",
    ".wsdl",
    ".wadl",
)


@dataclass(frozen=True)
class WriteResult:
    """What a writer changed below its root: repository-relative paths."""

    written: tuple[str, ...]
    deleted: tuple[str, ...]


@dataclass(frozen=True)
class SourceFile:
    """One file as read: its repository-relative path, bytes, and decoded text.

    A text file keeps only its text: strict UTF-8 decoding is lossless, so its bytes are
    the text encoded again, and a big tree held twice would double what plan keeps."""

    path: str
    data: bytes | None  # the bytes of a file that is not text; None for text files
    text: str | None = None
    style: TextStyle = field(default_factory=TextStyle)

    @classmethod
    def of_text(cls, path: str, text: str) -> SourceFile:
        return cls(path, None, text, TextStyle.of(text))

    @property
    def raw(self) -> bytes:
        """The file's bytes, exactly as read."""
        if self.data is not None:
            return self.data
        return (self.text or "").encode("utf-8")

    @property
    def model_text(self) -> str:
        return model_text(self.text or "")


def replace_files(root: Path, files: Mapping[str, bytes], previous: Iterable[str]) -> WriteResult:
    """Make ``root`` hold ``files`` (root-relative path -> bytes): write those whose bytes
    differ and delete the ``previous`` paths that are no longer among them."""
    targets = resolve_all_inside(root, files)
    written = []
    for path, data in sorted(files.items()):
        target = targets[path]
        if not target.is_file() or target.read_bytes() != data:
            write_atomically(target, data)
            written.append(path)
    deleted = []
    for path in sorted(set(previous) - set(files)):
        target = resolve_inside(root, path)
        if target.is_file():
            target.unlink()
            deleted.append(path)
    return WriteResult(tuple(written), tuple(deleted))


def read_files(
    root: Path, findings: Findings, tops: tuple[str, ...] = CONFIG_ROOTS
) -> dict[str, SourceFile]:
    """Every regular file below the configuration folders ``tops`` of ``root`` (``""``:
    root itself, without its hidden entries such as ``.git``), keyed by path."""
    files: dict[str, SourceFile] = {}
    for top in tops:
        base = root / top if top else root
        if top and base.is_symlink():
            findings.error(top, 1, 1, "unsafe-path", "is a symbolic link; replace it with a folder")
            continue
        if not base.is_dir():
            continue
        for relative in _walk(root, base, findings, skip_hidden=not top):
            source = _read_one(root, relative, findings)
            if source is not None:
                files[relative] = source
    return files


def _walk(root: Path, base: Path, findings: Findings, skip_hidden: bool = False) -> list[str]:
    found: list[str] = []
    for folder, dirs, names in os.walk(base):
        here = Path(folder)
        if skip_hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            names = [n for n in names if not n.startswith(".")]
        for name in sorted(dirs):
            if (here / name).is_symlink():
                link = (here / name).relative_to(root).as_posix()
                findings.error(
                    link, 1, 1, "unsafe-path", "is a symbolic link; replace it with a folder"
                )
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
        found.extend((here / name).relative_to(root).as_posix() for name in sorted(names))
    return found


def _read_one(root: Path, relative: str, findings: Findings) -> SourceFile | None:
    path = root / relative
    if path.is_symlink() or not path.is_file():
        findings.error(relative, 1, 1, "unsafe-path", "is not a regular file; replace it with one")
        return None
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        findings.error(
            relative,
            1,
            1,
            "file-too-large",
            f"is {size // (1024 * 1024)} MiB; configuration files may be at most "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MiB",
        )
        return None
    raw = path.read_bytes()
    if not relative.endswith(TEXT_SUFFIXES):
        return SourceFile(relative, raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position_of_byte(raw, error.start)
        findings.error(
            relative, line, column, "file-encoding", "is not valid UTF-8; save it as UTF-8"
        )
        return None
    return SourceFile.of_text(relative, text)


def locate(source: SourceFile | None, pointer: str) -> tuple[int, int]:
    """Line and column of the value at JSON ``pointer`` in ``source`` (1, 1 if unknown)."""
    if source is None or source.text is None:
        return 1, 1
    try:
        positions = json_positions(source.text)
    except ValueError:
        return 1, 1
    while pointer and pointer not in positions:
        pointer = pointer.rsplit("/", 1)[0]
    return positions.get(pointer, (1, 1))


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column
