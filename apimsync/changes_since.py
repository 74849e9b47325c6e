"""What changed in the files since a git commit: the input of a partial plan.

``plan --changed-since REF`` and ``deploy --changed-since REF`` consider only the
resources the files changed since REF (in CI, the commit last deployed to the
environment). The files being deployed (the working tree, or ``--ref``) and the files of
REF are both read into the model, with the environment's overlay applied to each, and
compared resource by resource: whatever changed between them (edited, added, deleted,
renamed or moved, in any commit after REF, in any file of any layout, or through the
overlay) is a resource whose configuration differs, and nothing else is. A file that is
moved or reformatted without changing what it says changes nothing to deploy.

A small change is read partially: on both sides, the same few files, those the change
needs (:mod:`apimsync.selection`: the files that differ, those that name them or that
they name, the folders of what policies name; in an APIOps folder, everything but the
APIs the change does not touch), so a one-line change to a big tree reads a few hundred
files instead of all of them. A file outside that selection reads the same on both
sides, so it changes nothing, as it does not. A change to the overlays or to many files
is read whole. Only the changed files and those that name them are validated (the rest
was, when REF was deployed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from apimsync.environments import OverlayError, apply_overlay, check_patched_exist
from apimsync.errors import ApimsyncError, InvalidConfiguration, UsageError
from apimsync.formats.layouts import (
    Location,
    configuration_paths,
    detect_layout,
    environment_files,
    load_environment,
    locate_configuration,
    read_tree,
)
from apimsync.gitfiles import WORKING_TREE, Differences, GitFiles, Side
from apimsync.model import Configuration
from apimsync.selection import (
    Selection,
    only_relevant,
    partial_is_enough,
    reporting_overlays,
    select,
)
from apimsync.validate.tree import validate_tree
from apimsync.workspace import Desired, DesiredState


@dataclass(frozen=True)
class ChangedState(DesiredState):
    """The validated desired state, and what it changed since ``since``.

    ``configuration`` holds the changed resources and those read with them (all of them
    when the files were read whole); ``old`` is what the same files held at ``commit``
    (None when it could not be read: then every resource of the files counts as changed
    and none as deleted)."""

    since: str = ""
    commit: str = ""
    paths: tuple[str, ...] = ()
    """The configuration files that differ, relative to the folder (``api-management/...``)."""
    old: Configuration | None = None


def load_changed_state(
    directory: Path,
    since: str,
    ref: str | None = None,
    environment: str | None = None,
    layout: str | None = None,
    *,
    whole: bool = False,
) -> ChangedState:
    """The files of ``directory`` (or of ``ref``), validated where they changed since the
    commit ``since`` names, with what the same files held at that commit; ``layout``
    forces the layout instead of detecting it; ``whole`` reads every file, as a change
    the selection cannot serve does anyway."""
    location = detect_layout(directory, layout)
    git = GitFiles.at(directory, "--changed-since")
    before = git.commit(since)
    after = WORKING_TREE if ref is None else git.commit(ref)
    tops = configuration_paths(directory, location)
    differences = git.differences(before, after, tops)
    selection = None if whole else _selection(git, before, after, tops, differences, location)
    read = _Read(git, before, after, location, environment)
    if selection is None:
        desired, old = read.whole(directory, tops, differences)
    else:
        desired, old = read.selected(selection)
    return ChangedState(
        desired.configuration,
        desired.unresolved,
        desired.not_managed,
        since=since,
        commit=before.commit or "",
        paths=tuple(sorted(differences.all)),
        old=old,
    )


def _selection(
    git: GitFiles,
    before: Side,
    after: Side,
    tops: list[str],
    differences: Differences,
    location: Location,
) -> Selection | None:
    """The files to read on both sides, and those to validate; None to read them all."""
    files_after = git.files(after, tops)
    overlays = environment_files(git.folder, location)
    if not partial_is_enough(differences, len(files_after), overlays):
        return None
    forward = select(git, before, after, files_after, differences, location)
    files_before = git.files(before, tops)
    backward = select(git, after, before, files_before, differences.reversed(), location)
    wanted = Selection(forward.files | backward.files | differences.all, forward.relevant)
    return reporting_overlays(wanted, overlays)


@dataclass(frozen=True)
class _Read:
    """Reading both sides of a change."""

    git: GitFiles
    before: Side
    after: Side
    location: Location
    environment: str | None

    def whole(
        self, directory: Path, tops: list[str], differences: Differences
    ) -> tuple[DesiredState, Configuration | None]:
        with ThreadPoolExecutor(1, thread_name_prefix="apimsync-since") as pool:
            # git writes the old files while this thread validates the new ones
            old = pool.submit(self._old, self.git.files(self.before, tops))
            with self._files_after(directory, tops) as root:
                desired = self._validated(root, differences.all, old, partial=False)
            return desired, old.result()

    def selected(self, selection: Selection) -> tuple[DesiredState, Configuration | None]:
        with ThreadPoolExecutor(1, thread_name_prefix="apimsync-since") as pool:
            old = pool.submit(self._old, selection.files)
            with self.git.exported(self.after, selection.files) as root:
                desired = self._validated(root, selection.relevant, old, partial=True)
            return desired, old.result()

    @contextmanager
    def _files_after(self, directory: Path, tops: list[str]) -> Iterator[Path]:
        if self.after == WORKING_TREE:
            yield directory
            return
        with self.git.exported(self.after, self.git.files(self.after, tops)) as root:
            yield root

    def _validated(
        self,
        root: Path,
        focus: frozenset[str],
        old: Future[Configuration | None],
        *,
        partial: bool,
    ) -> DesiredState:
        """The files below ``root``, validated where ``focus`` says (``partial``: and
        only the findings there reported, the other files being a selection)."""
        report = validate_tree(root, self.environment, focus=focus, layout=self.location.name)
        if partial:
            report = only_relevant(report, focus)
        if report.errors:
            raise InvalidConfiguration(report.findings)
        if self.environment is not None:
            self._check_overlay(root, report.configuration, old.result())
        return Desired(report.configuration, report.layout, report).state()

    def _old(self, files: frozenset[str]) -> Configuration | None:
        """What ``files`` held at the earlier commit (the overlay applied); an empty
        configuration if it held none yet, None if it cannot be read."""
        with self.git.exported(self.before, files) as root:
            try:
                locate_configuration(root, self.location.name)
            except UsageError:  # the commit holds no configuration yet
                return Configuration()
            try:
                configuration = read_tree(root, self.location).configuration
                if self.environment is None:
                    return configuration
                overlay = load_environment(root, self.location, self.environment, os.environ)
                return apply_overlay(configuration, overlay, skip_missing=True)
            except ApimsyncError:
                return None

    def _check_overlay(self, root: Path, desired: Configuration, old: Configuration | None) -> None:
        """Validating a focus applies the overlay leniently (a partial read holds only
        some resources); a patch of a resource the change deleted is still an error, as
        a full validation reports it."""
        assert self.environment is not None
        if old is None:
            return
        gone = {r.id for r in old if r.id not in desired}
        try:
            overlay = load_environment(root, self.location, self.environment, os.environ)
            check_patched_exist(desired, overlay, gone)
        except OverlayError as error:
            raise InvalidConfiguration(error.findings) from None
