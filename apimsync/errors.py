"""The one exception hierarchy of apimsync.

Every error a user can cause is an :class:`ApimsyncError`. Each class builds its own
message, so every caller says the same thing; :mod:`apimsync.error_handler` is the one
place that turns them into exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apimsync.validate.findings import Finding


class ApimsyncError(Exception):
    """Root of every error apimsync raises on purpose."""

    exit_code = 1
    label = "error"
    """The word after ``apimsync:`` in the message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ApimsyncError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class Refused(ApimsyncError):
    """apimsync refused to go on; nothing was written (exit status 2, like usage errors)."""

    exit_code = 2


class Interrupted(ApimsyncError):
    """Ctrl-C; the message says what had been done."""

    exit_code = 130
    label = "interrupted"


class FileProblem(ApimsyncError):
    """A file cannot be read or written."""

    def __init__(self, path: str, problem: str, hint: str = "") -> None:
        text = f"{path}: {problem}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)
        self.path = path


class UnsafePath(FileProblem):
    """A path would leave the folder apimsync was told to work in."""

    def __init__(self, path: str, root: str) -> None:
        super().__init__(path, f"resolves outside {root}", "use a path inside the repository")


class InvalidConfiguration(ApimsyncError):
    """The configuration files hold errors; the findings say which and where."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        errors = [f for f in findings if f.is_error]
        lines = [f.render() for f in errors[:20]]
        if len(errors) > 20:
            lines.append(f"... and {len(errors) - 20} more; run 'apimsync validate' to see all")
        super().__init__("the configuration is not valid:\n" + "\n".join(lines))
        self.findings = tuple(findings)


class ModelError(ApimsyncError):
    """A change to the model breaks one of its rules (unknown parent, wrong kind...)."""


class SpecificationError(ApimsyncError):
    """An API specification (OpenAPI, Swagger, WSDL) cannot be read or mapped."""

    def __init__(self, problem: str, where: str = "") -> None:
        super().__init__(f"the API specification {where + ' ' if where else ''}{problem}")
        self.problem = problem
