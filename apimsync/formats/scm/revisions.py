"""Which files hold which API revision, when the model says another one is current.

The layout remembers every unit by the id it was read as. An API revision's id changes
when another revision becomes current (``/apis/x`` becomes ``/apis/x;rev=1`` and
``/apis/x;rev=2`` becomes ``/apis/x``), yet its files are still the same revision's. So an
API unit is matched to the files of the same revision of the same API, and a revision
that became current (or stopped being current) moves to a folder named for what it now
is, the way APIM names them, with every reference into its old folder following it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apimsync.formats.files import SCM_ROOT
from apimsync.formats.scm.kinds import UnitKind
from apimsync.formats.scm.layout import Layout, Unit
from apimsync.formats.scm.mapping import REF, REFS
from apimsync.model import (
    Configuration,
    Kind,
    api_id_without_revision,
    revision_number,
)

_API_FOLDERS = (f"{SCM_ROOT}/apis/", f"{SCM_ROOT}/policies/apis/")


def matching_units(configuration: Configuration, layout: Layout) -> dict[str, Unit]:
    """Each API of ``configuration`` -> the unit that holds the same revision of the same
    API in ``layout`` (by revision number), else the unit read with the same id."""
    by_revision: dict[tuple[str, str], Unit] = {}
    for unit in layout.units.values():
        resource = layout.original.get(unit.anchor)
        if unit.kind is UnitKind.API and resource is not None:
            by_revision[(api_id_without_revision(unit.anchor), revision_number(resource))] = unit
    apis = configuration.of_kind(Kind.API)
    matched: dict[str, Unit] = {}
    for api in apis:
        same_revision = by_revision.get((api_id_without_revision(api.id), revision_number(api)))
        if same_revision is not None:
            matched[api.id] = same_revision
    claimed = {unit.anchor for unit in matched.values()}
    for api in apis:
        same_id = layout.units.get(api.id)
        if api.id not in matched and same_id is not None and same_id.anchor not in claimed:
            matched[api.id] = same_id
            claimed.add(same_id.anchor)
    return matched


def is_moved(anchor: str, unit: Unit, configuration: Configuration, layout: Layout) -> bool:
    """Whether the revision ``anchor`` held in ``unit`` is no longer what its folder says:
    it became current or stopped being current, or its revision number changed."""
    if unit.kind is not UnitKind.API:
        return False
    if unit.anchor != anchor:
        return True
    before, after = layout.original.get(unit.anchor), configuration.get(anchor)
    return (
        before is not None
        and after is not None
        and revision_number(before) != revision_number(after)
    )


@dataclass(frozen=True)
class Move:
    """An API unit that moves from folder ``old`` to folder ``new`` (both opaque names)."""

    unit: Unit
    anchor: str
    old: str
    new: str

    def path(self, path: str) -> str:
        """Where a file of the unit goes (``path`` as read, any separator and letter case)."""
        windows = "\\" in path
        posix = path.replace("\\", "/")
        for folder in _API_FOLDERS:
            for old_form, new_form in (
                (f"{folder}{self.old}/", f"{folder}{self.new}/"),
                (f"{folder}{self.old}.xml", f"{folder}{self.new}.xml"),
            ):
                if posix.lower().startswith(old_form.lower()):
                    posix = new_form + posix[len(old_form) :]
                    return posix.replace("/", "\\") if windows else posix
        return path

    def files(self) -> dict[str, str]:
        """Lower-cased new path -> the path the file was read from, for every file moved."""
        return {self.path(path).lower(): path for path in self.unit.files}

    def document(self) -> Any:
        """The unit's document as if it had been read from the new folder with the new id:
        references point into the new folder, inline children carry the new ids."""
        return self._moved(self.unit.document, top=True)

    def _moved(self, value: Any, top: bool = False) -> Any:
        if isinstance(value, list):
            return [self._moved(item) for item in value]
        if not isinstance(value, Mapping):
            return value
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key.startswith(REF) and isinstance(item, str):
                result[key] = self.path(item)
            elif key.startswith(REFS) and isinstance(item, list):
                result[key] = [self.path(i) if isinstance(i, str) else i for i in item]
            elif key == "id" and not top and isinstance(item, str):
                result[key] = self._child_id(item)
            else:
                result[key] = self._moved(item)
        return result

    def _child_id(self, child_id: str) -> str:
        prefix = self.unit.anchor + "/"
        return (
            self.anchor + "/" + child_id[len(prefix) :] if child_id.startswith(prefix) else child_id
        )
