"""Validation of the staged configuration (git's index), for the pre-commit hook.

The index is exported to a temporary folder with ``git checkout-index`` and validated
there, so what is checked is exactly what the commit will hold. In a big repository a
full validation takes seconds, so a small change is validated with only what it needs:

* the changed files, plus the files that refer to them (a policy's API or product, found
  with ``git grep`` in the index) and the files they refer to (``$ref-``, ``$refs-``);
* every file of the kinds that references point at by name (backends, version sets,
  groups, tags, everything in ``api-management-extras/``, the root configuration) and
  the environment overlays;
* for a deleted or renamed resource, and for a changed API path, every file that names
  the old name, id, path or file (so a broken reference or a duplicate path is caught).

Only findings in the changed files and in the files that name them are reported: the
rest of the tree was validated when it was committed. A change to ``environments/``,
a first commit, or a change to many files validates everything.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from apimsync.environments import FOLDER as ENVIRONMENTS
from apimsync.errors import ApimsyncError, UsageError
from apimsync.formats.files import CONFIG_ROOTS, EXTRAS_ROOT, SCM_ROOT
from apimsync.formats.layouts import Location, configuration_paths, detect_layout, empty_layout
from apimsync.formats.textfile import reference_path
from apimsync.model import Configuration
from apimsync.validate.tree import ValidationReport, validate_tree

FULL_ABOVE = 200
"""Above this many changed files (or a tenth of the tree, if more), validate everything."""
NAMED_FOLDERS = (
    f"{SCM_ROOT}/backends/",
    f"{SCM_ROOT}/apiVersionSets/",
    f"{SCM_ROOT}/groups/",
    f"{SCM_ROOT}/tags/",
    f"{SCM_ROOT}/configuration.json",
    f"{SCM_ROOT}/policies/global.xml",
    f"{EXTRAS_ROOT}/",
    f"{ENVIRONMENTS}/",
)
_API_CONFIG = re.compile(rf"^{SCM_ROOT}/apis/[^/]+/configuration\.json$")


class GitProblem(ApimsyncError):
    """git could not tell what is staged."""

    @classmethod
    def failed(cls, args: Iterable[str], detail: str) -> GitProblem:
        last = (detail.strip().splitlines() or ["failed"])[-1]
        return cls(f"'git {' '.join(args)}' failed: {last}")


@dataclass(frozen=True)
class Staged:
    """What the index holds below the configuration folders, and what it changes."""

    files: frozenset[str]
    changed: frozenset[str]
    deleted: frozenset[str]
    has_head: bool


def validate_staged(
    directory: Path,
    environment: str | None = None,
    environ: Mapping[str, str] | None = None,
    layout: str | None = None,
) -> ValidationReport:
    """Validate what git's index holds for the configuration in ``directory``.

    A small change is validated partially in the scm layout; an APIOps artifact folder
    is validated whole (its files name each other by folder, which a grep cannot follow).
    """
    git = Git.at(directory)
    location = detect_layout(directory, layout)
    staged = git.staged(configuration_paths(directory, location))
    partial = location.name == "scm" and _partial_is_enough(staged)
    selection = _selection(git, staged) if partial else None
    wanted = staged.files if selection is None else selection.files
    with git.exported(wanted) as root:
        if not _holds_configuration(root, location):
            return _empty(directory, location)
        focus = None if selection is None else selection.relevant
        report = validate_tree(root, environment, environ, focus, layout=location.name)
    if selection is not None:
        report = _only(report, selection.relevant)
    return replace(report, root=directory)


@dataclass(frozen=True)
class Selection:
    files: frozenset[str]
    relevant: frozenset[str]


def _partial_is_enough(staged: Staged) -> bool:
    touched = len(staged.changed) + len(staged.deleted)
    return (
        staged.has_head
        and touched <= max(FULL_ABOVE, len(staged.files) // 10)
        and not any(p.startswith(f"{ENVIRONMENTS}/") for p in staged.changed | staged.deleted)
    )


def _selection(git: Git, staged: Staged) -> Selection:
    """The files a partial validation needs, and those whose findings it reports."""
    named = {p for p in staged.files if p.startswith(NAMED_FOLDERS)}
    changed = set(staged.changed)
    json_files = sorted(p for p in changed | staged.deleted if p.endswith(".json"))
    git.read(["HEAD"], json_files)
    referring = git.grep(list(_old_names(git, staged)), staged.files, fixed=True)
    referring |= git.grep(list(_api_paths(git, changed)), staged.files, json_only=True)
    relevant = changed | referring
    texts = sorted(p for p in relevant if not p.endswith(".json"))
    owners = git.grep(_as_written(texts), staged.files, fixed=True, json_only=True)
    files = named | relevant | owners
    # The owners' references too: a unit read with files missing is full of ref-missing
    # findings, each costly to place, all then dropped as outside ``relevant``.
    sources = {p for p in relevant | owners if p.endswith(".json")}
    git.read([""], sorted(sources))
    files |= _referenced(git, sources, staged.files)
    return Selection(frozenset(files), frozenset(relevant))


def _old_names(git: Git, staged: Staged) -> Iterator[str]:
    """Grep patterns for names, ids and paths that deleted or changed files gave up."""
    yield from _as_written(sorted(staged.deleted))
    for path in sorted(staged.deleted | staged.changed):
        if not path.endswith(".json"):
            continue
        before = _names(git.show("HEAD", path))
        after = _names(git.show("", path)) if path in staged.files else set()
        yield from sorted(before - after)


def _as_written(paths: list[str]) -> list[str]:
    """Each path as a JSON file may name it: with ``/`` or, as APIM wrote some references
    on Windows, with ``\\`` (escaped in JSON as two)."""
    return paths + [path.replace("/", "\\\\") for path in paths]


def _names(text: str | None) -> set[str]:
    document = _json(text)
    names = set()
    for key in ("id", "displayName", "name"):
        value = document.get(key)
        if isinstance(value, str) and value:
            names.add(value)
            names.add(value.rsplit("/", 1)[-1])
    return names


def _api_paths(git: Git, changed: set[str]) -> Iterator[str]:
    """Patterns for the paths of changed APIs: another API with the same path conflicts."""
    for path in sorted(p for p in changed if _API_CONFIG.match(p)):
        value = _json(git.show("", path)).get("path")
        if isinstance(value, str):
            yield r'"path"[[:space:]]*:[[:space:]]*"/?' + re.escape(value.strip("/")) + '/?"'


def _referenced(git: Git, sources: set[str], files: frozenset[str]) -> set[str]:
    """The files that ``$ref-``/``$refs-`` entries of the JSON ``sources`` name."""
    by_lower = {p.lower(): p for p in files}
    found: set[str] = set()
    for path in sorted(p for p in sources if p.endswith(".json")):
        for reference in _references(_json(git.show("", path))):
            target = by_lower.get((reference_path(reference) or reference).lower())
            if target is not None:
                found.add(target)
    return found


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith(("$ref-", "$refs-")):
                yield from (r for r in ([item] if isinstance(item, str) else item or []) if r)
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _json(text: str | None) -> dict[str, Any]:
    try:
        document = json.loads((text or "").removeprefix("\ufeff"))
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _only(report: ValidationReport, relevant: frozenset[str]) -> ValidationReport:
    kept = tuple(
        f for f in report.findings if f.path in relevant or f.path.startswith(f"{ENVIRONMENTS}/")
    )
    return replace(report, findings=kept)


def _holds_configuration(root: Path, location: Location) -> bool:
    if location.name == "scm":
        return any((root / top).is_dir() for top in CONFIG_ROOTS)
    return (root / location.folder).is_dir() and any((root / location.folder).iterdir())


def _empty(directory: Path, location: Location) -> ValidationReport:
    return ValidationReport(directory, (), 0, Configuration(), empty_layout(location))


class Git:
    """The few git commands staged validation needs, run in the working tree's top."""

    def __init__(self, top: Path, prefix: str) -> None:
        self.top = top
        self.prefix = prefix
        self._contents: dict[str, str | None] = {}

    @classmethod
    def at(cls, directory: Path) -> Git:
        if not directory.is_dir():
            raise UsageError(f"{directory} is not a folder")
        try:
            top = _run(["rev-parse", "--show-toplevel"], directory).strip()
        except GitProblem:
            raise UsageError(
                f"{directory} is not inside a git repository, so --staged cannot be used"
            ) from None
        prefix = directory.resolve().relative_to(Path(top).resolve()).as_posix()
        return cls(Path(top), "" if prefix == "." else prefix + "/")

    def staged(self, tops: Iterable[str] = (*CONFIG_ROOTS, ENVIRONMENTS)) -> Staged:
        """What the index holds below ``tops`` (paths relative to the folder)."""
        roots = [self.prefix + r if r != "." else self.prefix or "." for r in tops]
        listed = _run(["ls-files", "-z", "--", *roots], self.top)
        files = frozenset(self._local(p) for p in listed.split("\0") if p)
        has_head = self._succeeds(["rev-parse", "--verify", "-q", "HEAD"])
        if not has_head:
            return Staged(files, files, frozenset(), False)
        diff = _run(
            ["diff", "--cached", "--no-renames", "--name-status", "-z", "HEAD", "--", *roots],
            self.top,
        )
        fields = diff.split("\0")
        changed: set[str] = set()
        deleted: set[str] = set()
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            (deleted if status == "D" else changed).add(self._local(path))
        return Staged(files, frozenset(changed), frozenset(deleted), True)

    def read(self, revisions: list[str], paths: list[str]) -> None:
        """Read these files at each revision (``""``: the index) in one go, for :meth:`show`."""
        specs = [
            f"{revision}:{self.prefix}{path}"
            for path in paths
            for revision in ("", *revisions)
            if f"{revision}:{self.prefix}{path}" not in self._contents
        ]
        if not specs:
            return
        result = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.top,
            input="".join(f"{spec}\n" for spec in specs).encode("utf-8"),
            capture_output=True,
            check=False,
        )
        output = result.stdout
        for spec in specs:
            header, _, output = output.partition(b"\n")
            parts = header.split()
            if len(parts) == 3 and parts[1] == b"blob":
                size = int(parts[2])
                self._contents[spec] = output[:size].decode("utf-8", "replace")
                output = output[size + 1 :]
            else:
                self._contents[spec] = None

    def show(self, revision: str, path: str) -> str | None:
        """A file as ``revision`` has it (``""``: as the index has it); None if absent."""
        spec = f"{revision}:{self.prefix}{path}"
        if spec not in self._contents:
            self.read([revision] if revision else [], [path])
        return self._contents.get(spec)

    def grep(
        self,
        patterns: list[str],
        files: frozenset[str],
        *,
        fixed: bool = False,
        json_only: bool = False,
    ) -> set[str]:
        """Files of the index below the configuration folders that match any pattern
        (ignoring case; ``fixed``: the patterns are plain text, not regular expressions)."""
        if not patterns:
            return set()
        args = ["grep", "--cached", "-l", "-i", "-z", "-F" if fixed else "-E"]
        for pattern in patterns:
            args += ["-e", pattern]
        suffix = "/*.json" if json_only else ""
        args += ["--", *(f"{self.prefix}{root}{suffix}" for root in CONFIG_ROOTS)]
        result = subprocess.run(["git", *args], cwd=self.top, capture_output=True, check=False)
        if result.returncode not in (0, 1):
            raise GitProblem.failed(args, result.stderr.decode("utf-8", "replace"))
        found = {self._local(p) for p in result.stdout.decode("utf-8").split("\0") if p}
        return found & files

    @contextmanager
    def exported(self, files: Iterable[str]) -> Iterator[Path]:
        """The given index files, written below a temporary folder that is yielded."""
        with tempfile.TemporaryDirectory(prefix="apimsync-staged-", dir=_memory_folder()) as temp:
            listed = "".join(f"{self.prefix}{p}\0" for p in sorted(files))
            if listed:
                subprocess.run(
                    ["git", "checkout-index", "-z", "--stdin", f"--prefix={temp}{os.sep}"],
                    cwd=self.top,
                    input=listed.encode("utf-8"),
                    capture_output=True,
                    check=True,
                )
            yield Path(temp) / self.prefix

    def _local(self, path: str) -> str:
        return path.removeprefix(self.prefix)

    def _succeeds(self, args: list[str]) -> bool:
        result = subprocess.run(["git", *args], cwd=self.top, capture_output=True, check=False)
        return result.returncode == 0


def _memory_folder() -> str | None:
    """A folder in memory for the export, where the system has one (Linux's /dev/shm)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    if result.returncode != 0:
        raise GitProblem.failed(args, result.stderr.decode("utf-8", "replace"))
    return result.stdout.decode("utf-8")
