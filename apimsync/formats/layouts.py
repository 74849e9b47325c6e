"""The layout-neutral entry: which layout a folder holds, and reading and writing it.

Two on-disk layouts hold the one model (:mod:`apimsync.model`), each through an adapter:

* ``scm``: the folder holds ``api-management/`` (APIM's retired git repository) and
  apimsync's ``api-management-extras/`` (:mod:`apimsync.formats.scm`);
* ``apiops``: an APIOps artifact folder, a folder of ``*Information.json`` artifacts
  (``apis/<name>/apiInformation.json``...), given directly or as the single such
  subfolder of the folder (:mod:`apimsync.formats.apiops`).

Commands never import a layout package: they :func:`locate_configuration` (or
:func:`detect_layout`), then :func:`read_tree`, :func:`render_tree` and
:func:`write_tree`. What a reader remembers of the files is the adapter's own
:class:`TreeLayout`; writers take it back, so each layout keeps its own file names and
styles. A new layout is a new adapter, never a second model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from apimsync.errors import UsageError
from apimsync.formats.files import CONFIG_ROOTS, SCM_ROOT, SourceFile, WriteResult
from apimsync.model import Configuration, Kind, Resource

if TYPE_CHECKING:
    from apimsync.environments import Overlay
    from apimsync.validate.findings import Finding

LayoutName = Literal["scm", "apiops"]
LAYOUT_NAMES: tuple[LayoutName, ...] = ("scm", "apiops")
Flavour = Literal["v7", "cli"]
FLAVOURS: tuple[Flavour, ...] = ("v7", "cli")

INFORMATION_SUFFIX = "Information.json"
NOT_MANAGED_CODES = frozenset({"not-managed", "unknown-link", "unknown-logger"})
"""Codes of the warnings a layout gives about files it keeps as they are but does not
manage (plan and deploy repeat them as notes)."""
DEFAULT_ARTIFACT_FOLDERS: Mapping[Flavour, str] = {"v7": "apimartifacts", "cli": "apim-artifacts"}
"""Where a new APIOps tree goes: the folder names the APIOps pipelines and apiops-cli use."""


@dataclass(frozen=True)
class Location:
    """Where a configuration lives below a root folder, and in which layout.

    ``folder`` is the APIOps artifact folder relative to the root (``""``: the root
    itself); ``flavour`` the APIOps variant (the toolkit's ``v7``, or ``cli`` for
    apiops-cli), ``None`` until known.
    """

    name: LayoutName
    folder: str = ""
    flavour: Flavour | None = None

    def prefix(self) -> str:
        """The artifact folder as a path prefix (``"apimartifacts/"``, or ``""``)."""
        return f"{self.folder}/" if self.folder else ""

    def describe(self) -> str:
        if self.name == "scm":
            return f"the scm layout ({SCM_ROOT}/)"
        where = f"{self.folder}/" if self.folder else "the folder itself"
        variant = "apiops-cli" if self.flavour == "cli" else "APIOps"
        return f"the {variant} layout ({where})"


SCM = Location("scm")


class TreeLayout(Protocol):
    """What a reader remembers about the files behind a configuration (adapter-specific)."""

    @property
    def location(self) -> Location: ...

    @property
    def files(self) -> Mapping[str, SourceFile]: ...

    @property
    def original(self) -> Configuration: ...

    @property
    def policy_files(self) -> Mapping[str, str]:
        """Id of each policy and policy fragment -> the file its XML was read from."""
        ...

    def passthrough_files(self) -> list[str]:
        """Files no resource owns: kept byte for byte, not managed."""
        ...

    def locate(self, resource: Resource, pointer: str) -> tuple[str, int, int]:
        """File, line and column of ``pointer`` (into the ARM properties) of ``resource``."""
        ...

    def resources_in(self, path: str) -> list[str]:
        """The ids of the resources ``path`` holds, sorted."""
        ...

    def home_of(self, kind: Kind) -> str:
        """The folder resources of ``kind`` live in (for messages)."""
        ...

    def schema_kind(self, path: str) -> str | None:
        """The JSON schema ``path`` is checked against; None: not checked."""
        ...


@dataclass(frozen=True)
class ReadResult:
    configuration: Configuration
    layout: TreeLayout
    findings: tuple[Finding, ...]


class Adapter(Protocol):
    """One on-disk layout of the model."""

    def read(self, root: Path, location: Location) -> ReadResult: ...

    def render(self, configuration: Configuration, layout: TreeLayout) -> dict[str, bytes]: ...

    def write(
        self, configuration: Configuration, root: Path, layout: TreeLayout
    ) -> WriteResult: ...

    def empty(self, location: Location) -> TreeLayout: ...

    def load_environment(
        self, root: Path, location: Location, name: str, environ: Mapping[str, str]
    ) -> Overlay: ...

    def environment_files(self, root: Path, location: Location) -> list[str]:
        """Root-relative paths of the environment files (for git exports and hooks)."""
        ...


def adapter_for(name: LayoutName) -> Adapter:
    # Imported here: each adapter imports this module for its protocol types.
    if name == "apiops":
        from apimsync.formats.apiops.adapter import ADAPTER as apiops

        return apiops
    from apimsync.formats.scm.adapter import ADAPTER as scm

    return scm


# -- detection -------------------------------------------------------------------------


def detect_layout(root: Path, forced: str | None = None, flavour: str | None = None) -> Location:
    """The layout of the configuration below ``root``.

    ``api-management/`` (or apimsync's extras folder) means scm; else a folder of
    ``*Information.json`` artifacts (``root`` itself, or its single such subfolder) means
    APIOps. ``forced`` (``--layout``) picks the layout; where ``root`` holds none yet,
    scm is the default and APIOps writes to ``apimartifacts/`` (``apim-artifacts/`` for
    the cli flavour). Several artifact folders are a :class:`UsageError`.
    """
    if forced is not None and forced not in LAYOUT_NAMES:
        raise UsageError(f"--layout must be one of {', '.join(LAYOUT_NAMES)}, not '{forced}'")
    if flavour is not None and flavour not in FLAVOURS:
        raise UsageError(f"--apiops-flavour must be one of {', '.join(FLAVOURS)}, not '{flavour}'")
    if forced != "apiops" and _holds_scm(root):
        return SCM
    if forced == "scm":
        return SCM
    folder = _artifact_folder(root)
    if folder is None:
        if forced != "apiops":
            return SCM
        chosen: Flavour = "cli" if flavour == "cli" else "v7"
        return Location("apiops", DEFAULT_ARTIFACT_FOLDERS[chosen], chosen)
    return Location("apiops", folder, _flavour(root / folder, folder, flavour))


def locate_configuration(root: Path, forced: str | None = None) -> Location:
    """:func:`detect_layout` for commands that need files to exist (validate, plan...)."""
    if not root.is_dir():
        raise UsageError(
            f"{root} is not a folder; pass the folder that holds {SCM_ROOT}/ "
            "or an APIOps artifact folder"
        )
    location = detect_layout(root, forced)
    if location.name == "scm" and not _holds_scm(root):
        raise UsageError(
            f"{root} holds no {SCM_ROOT}/ folder and no APIOps artifact folder (a folder of "
            "*Information.json files); pass the folder of the repository that does"
        )
    if location.name == "apiops" and not (root / location.folder).is_dir():
        raise UsageError(
            f"{root} holds no APIOps artifact folder (a folder of *Information.json files); "
            "pass the folder that holds one"
        )
    return location


def _holds_scm(root: Path) -> bool:
    return any((root / top).is_dir() for top in CONFIG_ROOTS)


def _artifact_folder(root: Path) -> str | None:
    if not root.is_dir():
        return None
    if is_artifact_folder(root):
        return ""
    found = [
        entry.name
        for entry in _entries(root)
        if entry.is_dir(follow_symlinks=False)
        and not entry.name.startswith(".")
        and is_artifact_folder(Path(entry.path))
    ]
    if len(found) > 1:
        raise UsageError(
            f"{root} holds several APIOps artifact folders ({', '.join(sorted(found))}); "
            "pass the one to use as the folder"
        )
    return found[0] if found else None


def is_artifact_folder(folder: Path) -> bool:
    """True if ``folder`` holds an ``*Information.json`` artifact two levels down
    (``apis/echo/apiInformation.json``): the mark of every APIOps generation."""
    for collection in _entries(folder):
        if not collection.is_dir(follow_symlinks=False) or collection.name.startswith("."):
            continue
        for item in _entries(Path(collection.path)):
            if not item.is_dir(follow_symlinks=False):
                continue
            if any(
                entry.name.endswith(INFORMATION_SUFFIX) and entry.is_file()
                for entry in _entries(Path(item.path))
            ):
                return True
    return False


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return []


_CLI_MARKS = ("namedValues", "policyFragments", "versionSets")
_V7_MARKS = ("named values", "policy fragments", "version sets")


def _flavour(folder: Path, name: str, wanted: str | None) -> Flavour:
    """The variant an existing artifact folder is written in; ``wanted`` must agree."""
    names = {entry.name for entry in _entries(folder)}
    if names & set(_CLI_MARKS):
        found: Flavour = "cli"
    elif names & set(_V7_MARKS):
        found = "v7"
    else:
        found = "cli" if name == DEFAULT_ARTIFACT_FOLDERS["cli"] else "v7"
    if wanted is not None and wanted != found:
        raise UsageError(
            f"{folder} holds {'apiops-cli' if found == 'cli' else 'APIOps v7'} artifacts; "
            f"writing them as --apiops-flavour {wanted} would mix two layouts "
            "(use 'apimsync convert' into a new folder instead)"
        )
    return found


# -- reading and writing ---------------------------------------------------------------


def read_tree(root: Path, location: Location | None = None) -> ReadResult:
    """Read the configuration below ``root`` (detected when ``location`` is None)."""
    where = location or detect_layout(root)
    return adapter_for(where.name).read(root, where)


def render_tree(configuration: Configuration, layout: TreeLayout) -> dict[str, bytes]:
    """Every file of the configuration, path -> bytes, in ``layout``'s layout."""
    return adapter_for(layout.location.name).render(configuration, layout)


def write_tree(configuration: Configuration, root: Path, layout: TreeLayout) -> WriteResult:
    """Make the configuration files below ``root`` hold ``configuration``."""
    return adapter_for(layout.location.name).write(configuration, root, layout)


def empty_layout(location: Location) -> TreeLayout:
    """The layout of a folder that holds no configuration yet."""
    return adapter_for(location.name).empty(location)


def local_state(root: Path, location: Location) -> tuple[Configuration, TreeLayout]:
    """The configuration and layout below ``root``; empty where there are no files yet."""
    if not root.exists():
        return Configuration(), empty_layout(location)
    result = read_tree(root, location)
    return result.configuration, result.layout


def load_environment(
    root: Path, location: Location, name: str, environ: Mapping[str, str]
) -> Overlay:
    """The overlay ``--env NAME`` applies, in the layout's own form."""
    return adapter_for(location.name).load_environment(root, location, name, environ)


def configuration_paths(root: Path, location: Location) -> list[str]:
    """Root-relative folders and files that hold the configuration and its environments
    (what a git export of a ref or of the index needs)."""
    from apimsync.environments import FOLDER as ENVIRONMENTS

    if location.name == "scm":
        folders = [*CONFIG_ROOTS]
    else:
        folders = [location.folder] if location.folder else ["."]
    return [*folders, ENVIRONMENTS, *environment_files(root, location)]


def environment_files(root: Path, location: Location) -> list[str]:
    """Root-relative environment files outside ``environments/`` (APIOps'
    ``configuration.NAME.yaml``)."""
    return adapter_for(location.name).environment_files(root, location)
