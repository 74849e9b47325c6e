"""The desired state: the configuration files of a working folder or of a git ref.

Commands that change an instance start here; the files must validate without errors,
or nothing is sent.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from apimsync.errors import ApimsyncError, InvalidConfiguration
from apimsync.formats.layouts import (
    NOT_MANAGED_CODES,
    TreeLayout,
    configuration_paths,
    detect_layout,
)
from apimsync.model import Configuration
from apimsync.validate.findings import Finding
from apimsync.validate.tree import ValidationReport, validate_tree


class GitRefError(ApimsyncError):
    """A git ref cannot be read (a usage error: the ref or the folder is wrong)."""

    exit_code = 2

    @classmethod
    def not_a_repository(cls, directory: Path) -> GitRefError:
        return cls(f"{directory} is not inside a git repository, so --ref cannot be used")

    @classmethod
    def unknown(cls, ref: str, detail: str) -> GitRefError:
        return cls(f"cannot read git ref '{ref}': {detail.strip().splitlines()[-1]}")


@dataclass(frozen=True)
class Desired:
    configuration: Configuration
    layout: TreeLayout
    report: ValidationReport

    def state(self) -> DesiredState:
        """What plan and deploy keep: not the files' texts, which on a big tree are tens
        of megabytes of the peak."""
        unresolved = tuple(f for f in self.report.findings if f.subject and not f.is_error)
        kept = tuple(f for f in self.report.findings if f.code in NOT_MANAGED_CODES)
        return DesiredState(self.configuration, unresolved, kept)


@dataclass(frozen=True)
class DesiredState:
    """The validated configuration, and the references in it that the files do not
    resolve: validate warned about them; plan checks them against the instance."""

    configuration: Configuration
    unresolved: tuple[Finding, ...] = ()
    not_managed: tuple[Finding, ...] = ()
    """What the files hold that apimsync keeps but does not manage (APIOps subscriptions,
    gateways...): plan says so."""


def load_desired(
    directory: Path,
    ref: str | None = None,
    environment: str | None = None,
    layout: str | None = None,
    focus: Collection[str] | None = None,
) -> Desired:
    """The validated configuration of ``directory`` (or of ``ref`` in its repository),
    with the overlay of ``environment`` applied when one is named; ``layout`` forces the
    layout (``scm`` or ``apiops``) instead of detecting it. With ``focus``, only those
    files are checked on their own (every file is still read)."""
    if ref is None:
        return _validated(directory, environment, layout, focus)
    with exported_ref(directory, ref, layout) as root:
        return _validated(root, environment, layout, focus)


def load_desired_state(
    directory: Path,
    ref: str | None = None,
    environment: str | None = None,
    layout: str | None = None,
) -> DesiredState:
    """:func:`load_desired`, keeping only what plan and deploy need."""
    return load_desired(directory, ref, environment, layout).state()


def _validated(
    root: Path,
    environment: str | None,
    layout: str | None,
    focus: Collection[str] | None = None,
) -> Desired:
    report = validate_tree(root, environment, layout=layout, focus=focus)
    if report.errors:
        raise InvalidConfiguration(report.findings)
    return Desired(report.configuration, report.layout, report)


@contextmanager
def exported_ref(directory: Path, ref: str, layout: str | None = None) -> Iterator[Path]:
    """The configuration of ``directory`` (its layout's folders and environment files)
    as it is at git ``ref``, in a temporary folder."""
    import git

    try:
        repo = git.Repo(directory, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitRefError.not_a_repository(directory) from None
    top = Path(repo.working_tree_dir or directory).resolve()
    prefix = directory.resolve().relative_to(top).as_posix()
    wanted = configuration_paths(directory, detect_layout(directory, layout))
    if prefix == "." and "." in wanted:
        present: list[str] | None = None  # the repository's top is the artifact folder
        _exists_at(repo, ref, "")
    else:
        paths = [_joined(prefix, r) for r in wanted]
        present = [p for p in paths if _exists_at(repo, ref, p)]
    with tempfile.TemporaryDirectory(prefix="apimsync-ref-") as temp:
        if present is None or present:
            stream = io.BytesIO()
            try:
                if present is None:
                    repo.archive(stream, ref, format="tar")
                else:
                    repo.archive(stream, ref, format="tar", path=present)
            except git.GitCommandError as error:
                raise GitRefError.unknown(ref, str(error.stderr)) from None
            stream.seek(0)
            with tarfile.open(fileobj=stream) as archive:
                archive.extractall(temp, filter="data")
        root = Path(temp) / prefix if prefix != "." else Path(temp)
        root.mkdir(parents=True, exist_ok=True)
        yield root


def _joined(prefix: str, relative: str) -> str:
    if prefix == ".":
        return relative
    return prefix if relative == "." else f"{prefix}/{relative}"


def _exists_at(repo: object, ref: str, path: str) -> bool:
    import git

    try:
        repo.git.cat_file("-e", f"{ref}:{path}")  # type: ignore[attr-defined]
    except git.GitCommandError as error:
        if "Not a valid object name" in str(error.stderr) and ":" not in str(error.stderr):
            raise GitRefError.unknown(ref, str(error.stderr)) from None
        try:
            repo.git.rev_parse("--verify", f"{ref}^{{commit}}")  # type: ignore[attr-defined]
        except git.GitCommandError as missing:
            raise GitRefError.unknown(ref, str(missing.stderr)) from None
        return False
    return True
