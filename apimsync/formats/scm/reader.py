"""Read an scm-repository tree (and its extras folder) into the model.

Folder and file names are opaque: resources are found through the main
``configuration.json`` of each unit, identified by the ``id`` inside, and linked through
``$ref-``/``$refs-`` keys. Problems become findings; reading never raises on bad files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from apimsync.errors import ModelError
from apimsync.formats.files import CONFIG_ROOTS, SourceFile, locate, read_files
from apimsync.formats.jsonpos import (
    JsonSyntaxError,
    check_document,
    describe_json_error,
    too_deep_at,
)
from apimsync.formats.scm import portal
from apimsync.formats.scm.kinds import (
    DEFAULT_MODULE_VERSION,
    OPERATION_SPEC,
    ROOT_CONFIGURATION,
    UNIT_BY_UNIT,
    UNIT_SPECS,
    UnitKind,
    UnitSpec,
    unit_name_of,
    version_set_to_arm,
)
from apimsync.formats.scm.layout import ROOT_ANCHOR, Layout, Unit
from apimsync.formats.scm.mapping import REF, to_arm
from apimsync.formats.textfile import reference_path
from apimsync.model import (
    GLOBAL_POLICY_ID,
    Configuration,
    Kind,
    Resource,
    api_id_without_revision,
    kind_of,
    last_segment,
    make_resource,
    policy_id_of,
    revision_api_id,
    revision_number,
    revision_of,
)
from apimsync.validate.findings import Findings

# Products link to APIs and groups by file, so those are read first.
_READ_ORDER = (
    UnitKind.API,
    UnitKind.GROUP,
    *(u.unit for u in UNIT_SPECS if u.unit not in (UnitKind.API, UnitKind.GROUP)),
)


@dataclass(frozen=True)
class ReadResult:
    configuration: Configuration
    layout: Layout
    findings: tuple[Any, ...]


def read_tree(root: Path) -> ReadResult:
    """Read the configuration below ``root`` (the folder that holds ``api-management/``)."""
    findings = Findings()
    files = read_files(root, findings)
    reader = _TreeReader(files, findings)
    reader.read_all()
    layout = Layout(
        files=MappingProxyType(files),
        units=MappingProxyType(reader.units),
        original=Configuration(reader.resources.values()),
        module_version=reader.module_version,
        declared_module_version=reader.declared_module_version,
        policy_files=MappingProxyType(reader.policy_files),
    )
    return ReadResult(layout.original, layout, tuple(findings.sorted()))


BUILT_IN_GROUPS = frozenset({"administrators", "developers", "guests"})


def group_id_for(document: Mapping[str, Any]) -> str | None:
    """A group's id. Newer exports name groups only by name; the oldest gave the built-in
    groups generated ids, which no other instance shares. Built-in groups are therefore
    always ``/groups/<name in lower case>``, as every instance names them."""
    name = document.get("name")
    slug = name.strip().lower().replace(" ", "-") if isinstance(name, str) else ""
    if document.get("type") == "system" and slug in BUILT_IN_GROUPS:
        return f"/groups/{slug}"
    if isinstance(document.get("id"), str):
        return str(document["id"])
    return f"/groups/{slug}" if slug else None


class _TreeReader:
    def __init__(self, files: dict[str, SourceFile], findings: Findings) -> None:
        self.files = files
        self.findings = findings
        self.units: dict[str, Unit] = {}
        self.resources: dict[str, Resource] = {}
        self.anchor_by_main: dict[str, str] = {}
        self.module_version = DEFAULT_MODULE_VERSION
        self.declared_module_version: int | None = None
        self._unit_files: set[str] = set()
        self._by_lower: dict[str, str] | None = None
        self.policy_files: dict[str, str] = {}
        self._current_revisions: set[str] = set()

    # -- driving -------------------------------------------------------------------

    def read_all(self) -> None:
        if ROOT_CONFIGURATION in self.files:
            self._read_root()
        for unit_kind in _READ_ORDER:
            spec = UNIT_BY_UNIT[unit_kind]
            paths = [path for path in sorted(self.files) if unit_name_of(spec, path) is not None]
            documents = [(path, self.json_document(path)) for path in paths]
            units = [(path, doc) for path, doc in documents if isinstance(doc, dict)]
            if unit_kind is UnitKind.API:
                self._current_revisions = _current_revision_paths(units)
            for path, document in units:
                self._read_unit(spec, path, document)
        self._check_revisions()

    def _read_unit(self, spec: UnitSpec, path: str, document: dict[str, Any]) -> None:
        anchor = self._anchor_id(spec, document)
        if anchor is None:
            return
        if spec.unit is UnitKind.API and path not in self._current_revisions:
            anchor = _revision_anchor(anchor, document)
        if anchor in self.units:
            first = self.units[anchor].main
            self.error(path, "/id", "duplicate-id", f"'{anchor}' is also defined in {first}")
            return
        self._unit_files = {path}
        resources = self._unit_resources(spec, path, anchor, document)
        if resources is None:
            return
        self._commit_unit(spec.unit, anchor, path, document, resources)

    def _check_revisions(self) -> None:
        """Each API has one current revision, and no revision is both current and not."""
        for resource in list(self.resources.values()):
            revision = revision_of(resource.id)
            if resource.kind is not Kind.API or revision is None:
                continue
            base = api_id_without_revision(resource.id)
            current = self.resources.get(base)
            path = self.units[resource.id].main
            if current is None:
                self.error(
                    path,
                    "/id",
                    "no-current-revision",
                    f"is revision {revision} of '{base}', but no folder holds the current "
                    'revision of that API; mark the current one with "isCurrent": true',
                )
            elif revision_number(current) == revision:
                self.error(
                    path,
                    "/apiRevision",
                    "duplicate-id",
                    f"revision {revision} of '{base}' is also its current revision, "
                    f"in {self.units[base].main}; give one of them another apiRevision",
                )

    def _commit_unit(
        self, unit: UnitKind, anchor: str, path: str, document: Any, resources: list[Resource]
    ) -> None:
        kept = []
        for resource in resources:
            if resource.id in self.resources:
                self.error(path, "", "duplicate-id", f"'{resource.id}' is defined twice")
                continue
            self.resources[resource.id] = resource
            kept.append(resource.id)
        self.units[anchor] = Unit(
            unit, anchor, path, document, frozenset(self._unit_files), frozenset(kept)
        )
        self.anchor_by_main[path] = anchor

    def _anchor_id(self, spec: UnitSpec, document: dict[str, Any]) -> str | None:
        raw = group_id_for(document) if spec.unit is UnitKind.GROUP else document.get("id")
        if not isinstance(raw, str):
            return None
        resource_id = str(version_set_to_arm(raw))
        try:
            actual = kind_of(resource_id)
        except ModelError:
            actual = None
        if actual is not spec.kind:
            return None
        return resource_id

    # -- units -------------------------------------------------------------------------

    def _unit_resources(
        self, spec: UnitSpec, path: str, anchor: str, document: dict[str, Any]
    ) -> list[Resource] | None:
        load = self._loader(path)
        main = make_resource(anchor, to_arm(document, spec.spec, load))
        if spec.unit is UnitKind.POLICY_FRAGMENT:
            self._remember_policy_file(anchor, document.get("$ref-value"))
        nested = {
            UnitKind.API: self._api_children,
            UnitKind.PRODUCT: self._product_children,
            UnitKind.TAG: self._tag_children,
        }.get(spec.unit)
        children = nested(path, anchor, document) if nested else []
        return [main, *children]

    def _api_children(self, path: str, api_id: str, document: dict[str, Any]) -> list[Resource]:
        found: list[Resource] = []
        found += self._policy(path, "/$ref-policy", document.get("$ref-policy"), api_id)
        for index, entry in _dicts(document.get("operations")):
            found += self._operation(path, f"/operations/{index}", api_id, entry)
        for index, entry in _dicts(document.get("apiSchemas")):
            found += self._schema(path, f"/apiSchemas/{index}", api_id, entry)
        return found

    def _operation(
        self, path: str, pointer: str, api_id: str, entry: dict[str, Any]
    ) -> list[Resource]:
        op_id = self._child_id(path, f"{pointer}/id", entry.get("id"), api_id, Kind.OPERATION)
        if op_id is None:
            return []
        operation = make_resource(op_id, to_arm(entry, OPERATION_SPEC, self._loader(path, pointer)))
        policy = self._policy(path, f"{pointer}/$ref-policy", entry.get("$ref-policy"), op_id)
        return [operation, *policy]

    def _schema(
        self, path: str, pointer: str, api_id: str, entry: dict[str, Any]
    ) -> list[Resource]:
        schema_id = self._child_id(path, f"{pointer}/id", entry.get("id"), api_id, Kind.API_SCHEMA)
        if schema_id is None:
            return []
        properties: dict[str, Any] = {}
        if isinstance(entry.get("contentType"), str):
            properties["contentType"] = entry["contentType"]
        ref = entry.get("$ref-documentValue")
        text = self.text(path, f"{pointer}/$ref-documentValue", ref) if ref else None
        if text is not None:
            properties["document"] = {"value": text}
        return [make_resource(schema_id, properties)]

    def _product_children(
        self, path: str, product_id: str, document: dict[str, Any]
    ) -> list[Resource]:
        found = self._policy(path, "/$ref-policy", document.get("$ref-policy"), product_id)
        for key, link_kind, target_key in (
            ("$refs-apis", "apiLinks", "apiId"),
            ("$refs-groups", "groupLinks", "groupId"),
        ):
            for index, target in enumerate(self._linked_anchors(path, key, document.get(key))):
                if target is None:
                    continue
                link_id = f"{product_id}/{link_kind}/{last_segment(target)}"
                if any(r.id == link_id for r in found):
                    self.error(path, f"/{key}/{index}", "duplicate-link", f"links '{target}' twice")
                    continue
                found.append(make_resource(link_id, {target_key: target}))
        return found

    def _linked_anchors(self, path: str, key: str, refs: Any) -> list[str | None]:
        anchors: list[str | None] = []
        for index, ref in enumerate(refs if isinstance(refs, list) else []):
            target = self.resolve(path, f"/{key}/{index}", ref)
            target = self._existing(target) if target else None
            anchor = self.anchor_by_main.get(target) if target else None
            if target and anchor is None:
                self.error(
                    path,
                    f"/{key}/{index}",
                    "ref-missing",
                    f"'{ref}' is not the configuration.json of a resource in this tree",
                )
            anchors.append(anchor)
        return anchors

    def _tag_children(self, path: str, tag_id: str, document: dict[str, Any]) -> list[Resource]:
        found: list[Resource] = []
        for key, link_kind, target_key in (
            ("apiIds", "apiLinks", "apiId"),
            ("operationIds", "operationLinks", "operationId"),
            ("productIds", "productLinks", "productId"),
        ):
            values = document.get(key)
            for target in values if isinstance(values, list) else []:
                if isinstance(target, str) and target.startswith("/"):
                    name = "_".join(target.strip("/").split("/")[1::2])
                    found.append(
                        make_resource(f"{tag_id}/{link_kind}/{name}", {target_key: target})
                    )
        return found

    def _read_root(self) -> None:
        document = self.json_document(ROOT_CONFIGURATION)
        if not isinstance(document, dict):
            return
        version = document.get("IntegrationModuleVersion")
        if isinstance(version, str) and version.isdigit():
            self.module_version = self.declared_module_version = int(version)
        self._unit_files = {ROOT_CONFIGURATION}
        resources = portal.settings_to_resources(document.get("settings"))
        resources += self._policy(
            ROOT_CONFIGURATION, "/$ref-policy", document.get("$ref-policy"), None
        )
        self._commit_unit(UnitKind.ROOT, ROOT_ANCHOR, ROOT_CONFIGURATION, document, resources)

    def _policy(self, path: str, pointer: str, ref: Any, owner: str | None) -> list[Resource]:
        if not isinstance(ref, str) or not ref:
            return []
        text = self.text(path, pointer, ref)
        if text is None:
            return []
        policy_id = policy_id_of(owner) if owner else GLOBAL_POLICY_ID
        self._remember_policy_file(policy_id, ref)
        return [make_resource(policy_id, {"format": "rawxml", "value": text})]

    def _remember_policy_file(self, resource_id: str, ref: Any) -> None:
        target = reference_path(ref) if isinstance(ref, str) and ref else None
        if target is not None and self._existing(target) in self.files:
            self.policy_files[resource_id] = self._existing(target)

    def _child_id(self, path: str, pointer: str, raw: Any, owner: str, kind: Kind) -> str | None:
        if not isinstance(raw, str):
            return None
        try:
            valid = kind_of(raw) is kind and raw.startswith(owner + "/")
        except ModelError:
            valid = False
        if not valid:
            self.error(
                path,
                pointer,
                "invalid-id",
                f"'{raw}' is not the id of a {kind.label} "
                f"of '{owner}'; it must start with '{owner}/'",
            )
            return None
        return raw

    # -- files -----------------------------------------------------------------------

    def json_document(self, path: str) -> Any:
        source = self.files.get(path)
        if source is None or source.text is None:
            return None
        text = source.text.removeprefix("\ufeff")
        try:
            document = json.loads(text)
            check_document(text, document)
        except json.JSONDecodeError as error:
            message = f"is not valid JSON: {describe_json_error(error)}"
            self.findings.error(path, error.lineno, error.colno, "json-syntax", message)
            return None
        except RecursionError:
            message, line, column = too_deep_at(text)
            self.findings.error(path, line, column, "json-syntax", f"is not valid JSON: {message}")
            return None
        except JsonSyntaxError as error:
            message = f"is not valid JSON: {error.message}"
            self.findings.error(path, error.line, error.column, "json-syntax", message)
            return None
        return document

    def _loader(self, path: str, prefix: str = "") -> Any:
        """Reads the files ``path`` references; ``prefix`` points at the object read."""

        def load(ref: str, pointer: str) -> str | None:
            return self.text(path, prefix + pointer, ref)

        return load

    def text(self, path: str, pointer: str, ref: Any) -> str | None:
        target = self.resolve(path, pointer, ref)
        if target is None:
            return None
        target = self._existing(target)
        source = self.files.get(target)
        if source is None:
            self.error(
                path,
                pointer,
                "ref-missing",
                f"'{ref}' does not exist; create it or remove the reference",
            )
            return None
        self._unit_files.add(target)
        return source.model_text

    def _existing(self, path: str) -> str:
        """APIM exported from Windows: a reference may differ from the file in letter case."""
        if path in self.files:
            return path
        if self._by_lower is None:
            self._by_lower = {}
            for name in sorted(self.files):
                self._by_lower.setdefault(name.lower(), name)
        return self._by_lower.get(path.lower(), path)

    def resolve(self, path: str, pointer: str, ref: Any) -> str | None:
        """The normalised repository path ``ref`` names, or None (with a finding)."""
        if not isinstance(ref, str) or not ref:
            return None
        normal = reference_path(ref)
        if normal is None or not normal.startswith(tuple(f"{r}/" for r in CONFIG_ROOTS)):
            self.error(
                path,
                pointer,
                "ref-outside-tree",
                f"'{ref}' points outside the configuration folders; "
                "references must stay inside api-management/",
            )
            return None
        return normal

    def error(self, path: str, pointer: str, code: str, message: str) -> None:
        line, column = locate(self.files.get(path), pointer)
        self.findings.error(path, line, column, code, message)


def _current_revision_paths(documents: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """The API documents that hold the current revision of their API.

    APIM writes ``"isCurrent": true`` in the current revision's document and no
    ``isCurrent`` in the others, which all carry the same ``id`` and their own
    ``apiRevision``. The oldest exports write neither key: one document per API, current.
    An API's only document that does not say it is not current is current too.
    """
    by_api: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path, document in documents:
        api_id = document.get("id")
        if isinstance(api_id, str) and revision_of(api_id) is None:
            by_api.setdefault(api_id, []).append((path, document))
    current: set[str] = set()
    for revisions in by_api.values():
        marked = {path for path, doc in revisions if doc.get("isCurrent") is True}
        if not marked and len(revisions) == 1 and "isCurrent" not in revisions[0][1]:
            marked = {revisions[0][0]}
        unnumbered = {path for path, doc in revisions if not _declared_revision(doc)}
        current |= marked | (unnumbered if not marked else set())
    return current


def _revision_anchor(api_id: str, document: dict[str, Any]) -> str:
    """The id of a non-current revision: ``/apis/x;rev=<its apiRevision>``."""
    revision = _declared_revision(document)
    if revision_of(api_id) is not None or revision is None:
        return api_id
    return revision_api_id(api_id, revision)


def _declared_revision(document: dict[str, Any]) -> str | None:
    revision = document.get("apiRevision")
    return revision if isinstance(revision, str) and revision else None


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The objects of a JSON list, with their indexes in it (for pointers)."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


__all__ = ["REF", "ReadResult", "group_id_for", "locate", "read_tree"]
