"""Validation of the staged configuration (git's index), for the pre-commit hook.

The index is exported to a temporary folder and validated there, so what is checked is
exactly what the commit will hold. In a big repository a full validation takes seconds,
so a small change is validated with only the files it needs and its findings alone are
reported (:mod:`apimsync.selection`), in either layout. A change to the overlays, a
first commit or a change to many files validates everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from apimsync.formats.files import CONFIG_ROOTS
from apimsync.formats.layouts import (
    Location,
    configuration_paths,
    detect_layout,
    empty_layout,
    environment_files,
)
from apimsync.gitfiles import INDEX, GitFiles
from apimsync.model import Configuration
from apimsync.selection import (
    Selection,
    only_relevant,
    partial_is_enough,
    reporting_overlays,
    select,
)
from apimsync.validate.tree import ValidationReport, validate_tree


def validate_staged(
    directory: Path,
    environment: str | None = None,
    environ: Mapping[str, str] | None = None,
    layout: str | None = None,
) -> ValidationReport:
    """Validate what git's index holds for the configuration in ``directory``."""
    git = GitFiles.at(directory, "--staged")
    location = detect_layout(directory, layout)
    tops = configuration_paths(directory, location)
    files = git.files(INDEX, tops)
    selection = staged_selection(git, files, tops, location)
    wanted = files if selection is None else selection.files
    with git.exported(INDEX, wanted) as root:
        if not _holds_configuration(root, location):
            return _empty(directory, location)
        focus = None if selection is None else selection.relevant
        report = validate_tree(root, environment, environ, focus, layout=location.name)
    if selection is not None:
        report = only_relevant(report, selection.relevant)
    return replace(report, root=directory)


def staged_selection(
    git: GitFiles, files: frozenset[str], tops: list[str], location: Location
) -> Selection | None:
    """The files a partial validation of the index needs; None when it needs them all (a
    first commit, a big change, a change to the overlays)."""
    if not git.has_commit("HEAD"):
        return None
    head = git.commit("HEAD")
    differences = git.differences(head, INDEX, tops)
    overlays = environment_files(git.folder, location)
    if not partial_is_enough(differences, len(files), overlays):
        return None
    return reporting_overlays(select(git, head, INDEX, files, differences, location), overlays)


def _holds_configuration(root: Path, location: Location) -> bool:
    if location.name == "scm":
        return any((root / top).is_dir() for top in CONFIG_ROOTS)
    return (root / location.folder).is_dir() and any((root / location.folder).iterdir())


def _empty(directory: Path, location: Location) -> ValidationReport:
    return ValidationReport(directory, (), 0, Configuration(), empty_layout(location))
