"""What a reader remembers about the files behind a configuration, for the writer.

The model knows nothing of files; a :class:`Layout` maps each unit of resources to the
files it came from, with their original bytes and documents, so that writing the same
model back reproduces every byte and a changed resource touches only its own files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from apimsync.formats.files import SCM_ROOT, SourceFile, locate
from apimsync.formats.layouts import SCM, Location
from apimsync.formats.scm.kinds import DEFAULT_MODULE_VERSION, UNIT_BY_KIND, UnitKind
from apimsync.model import Configuration, Kind, Resource
from apimsync.validate.json_checks import json_file_kind

ROOT_ANCHOR = "/"


@dataclass(frozen=True)
class Unit:
    """One main JSON file, the files it references, and the resources it holds."""

    kind: UnitKind
    anchor: str
    main: str
    document: Any
    files: frozenset[str]
    resource_ids: frozenset[str]


@dataclass(frozen=True)
class Layout:
    files: Mapping[str, SourceFile] = field(default_factory=lambda: MappingProxyType({}))
    units: Mapping[str, Unit] = field(default_factory=lambda: MappingProxyType({}))
    original: Configuration = field(default_factory=Configuration)
    module_version: int = DEFAULT_MODULE_VERSION
    """The module version new documents are written for (the export's, else the newest)."""
    declared_module_version: int | None = None
    """The ``IntegrationModuleVersion`` the root configuration names; None without one."""
    policy_files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Id of each policy and policy fragment -> the file its XML was read from."""

    @property
    def location(self) -> Location:
        return SCM

    @property
    def unit_files(self) -> frozenset[str]:
        return frozenset(path for unit in self.units.values() for path in unit.files)

    def passthrough_files(self) -> list[str]:
        """Files no unit owns (legacy portal styles and templates, READMEs...): kept as is."""
        owned = self.unit_files
        return sorted(path for path in self.files if path not in owned)

    def existing_path(self, path: str) -> str:
        """``path`` as it exists, matched case-insensitively like the Windows exporter did."""
        if path in self.files:
            return path
        return _case_index(self.files).get(path.lower(), path)

    def main_of(self, anchor: str) -> str | None:
        unit = self.units.get(anchor)
        return unit.main if unit else None

    def locate(self, resource: Resource, pointer: str) -> tuple[str, int, int]:
        """File, line and column of ``pointer`` (into the resource's ARM properties) in
        the document that holds ``resource``."""
        anchor = resource.id
        prefix = ""
        if resource.kind is Kind.OPERATION:
            anchor = resource.parent or anchor
            prefix = self._operation_pointer(anchor, resource.id)
        unit = self.units.get(anchor)
        if unit is None:
            return SCM_ROOT, 1, 1
        line, column = locate(self.files.get(unit.main), prefix + _scm_pointer(pointer))
        return unit.main, line, column

    def resources_in(self, path: str) -> list[str]:
        """The ids of the resources ``path`` holds (part of), sorted."""
        for unit in self.units.values():
            if path in unit.files:
                return sorted(unit.resource_ids)
        return []

    def home_of(self, kind: Kind) -> str:
        """The folder that holds resources of ``kind`` (for messages)."""
        unit = UNIT_BY_KIND.get(kind)
        return f"{unit.folder}/" if unit is not None else f"{SCM_ROOT}/"

    def schema_kind(self, path: str) -> str | None:
        """The JSON schema ``path`` is checked against; None: not checked."""
        return json_file_kind(path)

    def _operation_pointer(self, api_id: str, operation_id: str) -> str:
        unit = self.units.get(api_id)
        operations = (
            unit.document.get("operations") if unit and isinstance(unit.document, dict) else None
        )
        for index, entry in enumerate(operations or []):
            if isinstance(entry, dict) and entry.get("id") == operation_id:
                return f"/operations/{index}"
        return ""


def _scm_pointer(pointer: str) -> str:
    """A pointer into ARM properties as the scm documents spell it (``name`` is the
    display name there)."""
    return "/name" if pointer == "/displayName" else pointer


def _case_index(files: Mapping[str, SourceFile]) -> dict[str, str]:
    index: dict[str, str] = {}
    for path in sorted(files):
        index.setdefault(path.lower(), path)
    return index
