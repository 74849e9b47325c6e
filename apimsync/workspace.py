"""The desired state: the configuration files of a working folder or of a git ref.

Commands that change an instance start here; the files must validate without errors,
or nothing is sent.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from apimsync.errors import InvalidConfiguration
from apimsync.formats.layouts import (
    NOT_MANAGED_CODES,
    TreeLayout,
    configuration_paths,
    detect_layout,
)
from apimsync.gitfiles import GitFiles
from apimsync.model import Configuration
from apimsync.validate.findings import Finding
from apimsync.validate.tree import ValidationReport, validate_tree


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
    git = GitFiles.at(directory, "--ref")
    commit = git.commit(ref)
    tops = configuration_paths(directory, detect_layout(directory, layout))
    with git.exported(commit, git.files(commit, tops)) as root:
        yield root
