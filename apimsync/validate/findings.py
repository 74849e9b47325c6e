"""Findings: what the validator (and the tolerant readers) report about files.

A finding names a file (repository-relative, forward slashes), a 1-based line and
column, a severity, a stable code and a message that says what to do. Checks never
raise on bad input; they append findings to a :class:`Findings` collector so that all
problems are reported at once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str
    subject: str | None = None
    """For a reference that does not resolve: the name it gives (plan checks it against the
    instance)."""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return f"{where}: {self.severity.value} {self.code} {self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
        }


class Findings:
    """An append-only collector of findings, kept in a stable order for output."""

    def __init__(self) -> None:
        self._items: list[Finding] = []

    def error(
        self, path: str, line: int, column: int, code: str, message: str, subject: str | None = None
    ) -> None:
        self._items.append(Finding(path, line, column, Severity.ERROR, code, message, subject))

    def warning(
        self, path: str, line: int, column: int, code: str, message: str, subject: str | None = None
    ) -> None:
        self._items.append(Finding(path, line, column, Severity.WARNING, code, message, subject))

    def add(self, finding: Finding) -> None:
        self._items.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self._items.extend(findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self._items)

    def sorted(self) -> list[Finding]:
        return sorted(set(self._items), key=lambda f: (f.path, f.line, f.column, f.code, f.message))
