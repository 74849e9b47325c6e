"""What changed in the files since a git commit: the input of a partial plan.

``plan --changed-since REF`` and ``deploy --changed-since REF`` consider only the
resources the files changed since REF (in CI, the commit last deployed to the
environment). The files being deployed (the working tree, or ``--ref``) and the files of
REF are both read into the model, with the environment's overlay applied to each, and
compared resource by resource: whatever changed between them (edited, added, deleted,
renamed or moved, in any commit after REF, in any file of any layout, or through the
overlay) is a resource whose configuration differs, and nothing else is. A file that is
moved or reformatted without changing what it says changes nothing to deploy.

Only the changed files are validated on their own (the others were when REF was
deployed); every file is still read, for the references between them.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from apimsync.environments import apply_overlay
from apimsync.errors import ApimsyncError, UsageError
from apimsync.formats.layouts import (
    Location,
    configuration_paths,
    detect_layout,
    load_environment,
    locate_configuration,
    read_tree,
)
from apimsync.model import Configuration
from apimsync.workspace import DesiredState, GitRefError, load_desired


@dataclass(frozen=True)
class ChangedState(DesiredState):
    """The validated desired state, and what it changed since ``since``.

    ``old`` is the configuration the files held at ``commit`` (None when it could not be
    read: then every resource of the files counts as changed and none as deleted)."""

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
) -> ChangedState:
    """The files of ``directory`` (or of ``ref``), validated where they changed since the
    commit ``since`` names, with the configuration they held at that commit; ``layout``
    forces the layout instead of detecting it."""
    location = detect_layout(directory, layout)
    repository = _Repository.of(directory, configuration_paths(directory, location))
    commit = repository.commit(since)
    if ref is not None:
        repository.commit(ref)
    paths = repository.changed_paths(commit, ref)
    with ThreadPoolExecutor(1, thread_name_prefix="apimsync-since") as pool:
        # git writes the old files while this thread validates the new ones
        old = pool.submit(_configuration_at, repository, commit, location, environment)
        desired = load_desired(directory, ref, environment, layout, focus=paths).state()
        return ChangedState(
            desired.configuration,
            desired.unresolved,
            since=since,
            commit=commit,
            paths=tuple(paths),
            old=old.result(),
        )


def _configuration_at(
    repository: _Repository, commit: str, location: Location, environment: str | None
) -> Configuration | None:
    """The configuration the files held at ``commit`` (the overlay applied); None if that
    cannot be read (an overlay it did not have...)."""
    with tempfile.TemporaryDirectory(prefix="apimsync-since-") as scratch:
        root = repository.checkout(commit, Path(scratch))
        try:
            locate_configuration(root, location.name)
        except UsageError:  # the commit holds no configuration yet
            return Configuration()
        try:
            configuration = read_tree(root, location).configuration
            if environment is None:
                return configuration
            overlay = load_environment(root, location, environment, os.environ)
            return apply_overlay(configuration, overlay, skip_missing=True)
        except ApimsyncError:
            return None


@dataclass(frozen=True)
class _Repository:
    """The git repository holding a configuration folder, through the git command."""

    top: Path
    prefix: str
    """The folder relative to ``top`` (``""``: the top itself)."""
    paths: tuple[str, ...]
    """The folders and files, relative to the folder, that hold the configuration."""

    @classmethod
    def of(cls, directory: Path, paths: list[str]) -> _Repository:
        found = _git(directory, "rev-parse", "--show-toplevel", check=False)
        if found is None:
            raise GitRefError(
                f"{directory} is not inside a git repository, so --changed-since cannot be "
                "used (it compares the files with a commit)"
            )
        top = Path(found.strip()).resolve()
        prefix = directory.resolve().relative_to(top).as_posix()
        return cls(top, "" if prefix == "." else prefix, tuple(paths))

    def commit(self, ref: str) -> str:
        """The full name of the commit ``ref`` names; :class:`GitRefError` if none."""
        try:
            return _run(self.top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except _GitFailed as failure:
            detail = failure.stderr or f"'{ref}' names no commit in this repository"
            raise GitRefError.unknown(ref, detail) from None

    def checkout(self, commit: str, scratch: Path) -> Path:
        """The configuration folders at ``commit``, written below ``scratch`` by git itself
        (with an index of its own: the user's index and working tree are not touched);
        the folder that holds them."""
        present = _run(self.top, "ls-tree", "--name-only", "-z", commit, "--", *self._specs())
        paths = [path for path in present.split("\0") if path]
        tree = scratch / "tree"
        tree.mkdir()
        if paths:
            git_dir = _run(self.top, "rev-parse", "--absolute-git-dir").strip()
            _run(
                self.top,
                f"--git-dir={git_dir}",
                f"--work-tree={tree}",
                "checkout",
                commit,
                "--",
                *(f":(top,literal){path}" for path in paths),
                index=scratch / "index",
            )
        return tree / self.prefix if self.prefix else tree

    def changed_paths(self, commit: str, ref: str | None) -> list[str]:
        """The configuration files that differ between ``commit`` and ``ref`` (None: the
        working tree, staged, unstaged and untracked files included)."""
        specs = self._specs()
        listed = _run(
            self.top,
            "diff",
            "--name-only",
            "--no-renames",
            "-z",
            commit,
            *([ref] if ref is not None else []),
            "--",
            *specs,
        ).split("\0")
        if ref is None:
            listed += _run(
                self.top, "ls-files", "--others", "--exclude-standard", "-z", "--", *specs
            ).split("\0")
        return sorted({self._relative(path) for path in listed if path})

    def _specs(self) -> list[str]:
        """Pathspecs of the configuration folders and the environments."""
        joined = (posixpath.normpath(posixpath.join(self.prefix, part)) for part in self.paths)
        return [":(top)" if path == "." else f":(top,literal){path}" for path in joined]

    def _relative(self, path: str) -> str:
        return path[len(self.prefix) + 1 :] if self.prefix else path


class _GitFailed(GitRefError):
    """A git command failed; the message says which, with git's last line."""

    def __init__(self, args: tuple[str, ...], stderr: str) -> None:
        lines = stderr.strip().splitlines()
        super().__init__(f"git {args[0]} failed: {lines[-1] if lines else 'no message'}")
        self.stderr = stderr.strip()


def _run(where: Path, *args: str, index: Path | None = None) -> str:
    found = _git(where, *args, check=True, index=index)
    assert found is not None
    return found


def _git(where: Path, *args: str, check: bool, index: Path | None = None) -> str | None:
    """The output of ``git ARGS`` in ``where`` (``index``: the index file it uses); None
    (or :class:`_GitFailed`) if it fails."""
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    if index is not None:
        environment["GIT_INDEX_FILE"] = str(index)
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=where,
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
    except OSError as error:
        raise GitRefError(f"cannot run git ({error.strerror or error})") from None
    if done.returncode == 0:
        return done.stdout
    if check:
        raise _GitFailed(args, done.stderr)
    return None
