"""Write the model as an scm-repository tree (plus the extras folder).

Rendering is pure: :func:`render_tree` computes every file's bytes from the model and
the :class:`Layout` the files were read with. A unit whose resources did not change keeps
its files byte for byte; a changed unit is merged into its original documents, keeping
each file's style; new units get names from :mod:`naming`; files of deleted resources
disappear. :func:`write_tree` then touches only files whose bytes differ.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apimsync.errors import ModelError
from apimsync.formats.files import (
    CONFIG_ROOTS,
    EXTRAS_ROOT,
    SCM_ROOT,
    SourceFile,
    WriteResult,
    replace_files,
)
from apimsync.formats.scm import portal
from apimsync.formats.scm.kinds import (
    OPERATION_SPEC,
    ROOT_CONFIGURATION,
    UNIT_BY_KIND,
    UNIT_BY_UNIT,
    UnitKind,
    UnitSpec,
    main_file,
    version_set_to_scm,
)
from apimsync.formats.scm.layout import ROOT_ANCHOR, Layout, Unit
from apimsync.formats.scm.mapping import KindSpec, to_scm
from apimsync.formats.scm.naming import NameAllocator, api_revision_folder, safe_component
from apimsync.formats.scm.revisions import Move, is_moved, matching_units
from apimsync.formats.textfile import (
    TextStyle,
    reference_path,
)
from apimsync.model import (
    Configuration,
    Kind,
    Resource,
    api_id_without_revision,
    last_segment,
    policy_id_of,
    revision_number,
    revision_of,
)

NEW_FILE_STYLE = TextStyle()
_ROOT_KINDS = (Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION)
_API_CHILD_KINDS = (Kind.OPERATION, Kind.API_SCHEMA)
_LINK_KINDS = {
    Kind.PRODUCT_API_LINK: Kind.PRODUCT,
    Kind.PRODUCT_GROUP_LINK: Kind.PRODUCT,
    Kind.TAG_API_LINK: Kind.TAG,
    Kind.TAG_OPERATION_LINK: Kind.TAG,
    Kind.TAG_PRODUCT_LINK: Kind.TAG,
}


def write_tree(
    configuration: Configuration, root: Path, layout: Layout | None = None
) -> WriteResult:
    """Make the configuration folders below ``root`` hold ``configuration``.

    Everything is rendered before anything is written, so a model error writes nothing.
    Only files whose bytes change are written; only files ``layout`` knows are deleted.
    """
    layout = layout or Layout()
    result = replace_files(root, render_tree(configuration, layout), layout.files)
    _remove_empty_folders(root)
    return result


def render_tree(configuration: Configuration, layout: Layout) -> dict[str, bytes]:
    """Every file of the configuration folders, path -> bytes."""
    units = _group_into_units(configuration)
    origins = _origins(units, configuration, layout)
    mains, moves = _assign_main_files(units, configuration, layout, origins)
    passthrough = set(layout.passthrough_files())
    output: dict[str, bytes] = {path: layout.files[path].raw for path in passthrough}
    context = _Context(configuration, layout, mains, moves)
    for (unit_kind, anchor), resources in sorted(units.items(), key=lambda item: item[0][1]):
        original = origins.get(anchor)
        move = moves.get(anchor)
        if (
            original is not None
            and move is None
            and _unchanged(original, resources, layout)
            and not _links_moved(original, moves)
        ):
            rendered = {path: layout.files[path].raw for path in original.files}
        else:
            rendered = context.render(unit_kind, anchor, resources, original, move)
        for path in rendered:
            if path in passthrough:
                raise ModelError(
                    f"{path} is in the way: it could not be read as a configuration file; "
                    "fix it ('apimsync validate' says why) or remove it, then try again"
                )
            if path in output:
                raise ModelError(f"two resources would be written to {path}")
        output.update(rendered)
    return output


def _links_moved(original: Unit, moves: Mapping[str, Move]) -> bool:
    """Whether a product's document names the main file of an API that moves."""
    if original.kind is not UnitKind.PRODUCT or not moves:
        return False
    refs = original.document.get("$refs-apis") if isinstance(original.document, dict) else None
    return any(
        isinstance(ref, str) and move.path(ref) != ref
        for ref in refs or []
        for move in moves.values()
    )


def _unchanged(original: Unit, resources: dict[str, Resource], layout: Layout) -> bool:
    if set(resources) != original.resource_ids:
        return False
    return all(layout.original.get(rid) == resource for rid, resource in resources.items())


# -- grouping ------------------------------------------------------------------------


def unit_of(resource: Resource) -> tuple[UnitKind, str]:
    """The unit (kind and anchor id) whose files hold ``resource``."""
    kind = resource.kind
    if kind in _ROOT_KINDS:
        return UnitKind.ROOT, ROOT_ANCHOR
    if kind is Kind.POLICY:
        owner = resource.parent
        if owner is None:
            return UnitKind.ROOT, ROOT_ANCHOR
        return unit_of(_stub(owner))
    if kind in _API_CHILD_KINDS:
        return UnitKind.API, resource.parent or ""
    if kind in _LINK_KINDS:
        owner = resource.parent or ""
        return UNIT_BY_KIND[_LINK_KINDS[kind]].unit, owner
    return UNIT_BY_KIND[kind].unit, resource.id


def _stub(resource_id: str) -> Resource:
    from apimsync.model import make_resource

    return make_resource(resource_id, {})


def _group_into_units(
    configuration: Configuration,
) -> dict[tuple[UnitKind, str], dict[str, Resource]]:
    units: dict[tuple[UnitKind, str], dict[str, Resource]] = defaultdict(dict)
    for resource in configuration:
        units[unit_of(resource)][resource.id] = resource
    scm_present = any(key[0] not in _EXTRAS_UNITS for key in units)
    if scm_present:
        units.setdefault((UnitKind.ROOT, ROOT_ANCHOR), {})
    return dict(units)


_EXTRAS_UNITS = frozenset(
    {UnitKind.NAMED_VALUE, UnitKind.POLICY_FRAGMENT, UnitKind.LOGGER, UnitKind.DIAGNOSTIC}
)


def _origins(
    units: Mapping[tuple[UnitKind, str], Any], configuration: Configuration, layout: Layout
) -> dict[str, Unit]:
    """The unit each unit of the model was read as, where there is one. An API revision's
    is the unit of the same revision, which had another id if another revision was current."""
    apis = matching_units(configuration, layout)
    found = {
        anchor: apis.get(anchor) if unit_kind is UnitKind.API else layout.units.get(anchor)
        for unit_kind, anchor in units
    }
    return {anchor: unit for anchor, unit in found.items() if unit is not None}


def _assign_main_files(
    units: Mapping[tuple[UnitKind, str], Any],
    configuration: Configuration,
    layout: Layout,
    origins: Mapping[str, Unit],
) -> tuple[dict[str, str], dict[str, Move]]:
    """Main-file path of every unit: the existing one, or a new, free name; and the API
    revisions that move to a new folder because they became, or stopped being, current."""
    allocator = NameAllocator(frozenset(layout.files))
    mains: dict[str, str] = {}
    moves: dict[str, Move] = {}
    for unit_kind, anchor in sorted(units, key=lambda key: key[1]):
        origin = origins.get(anchor)
        if origin is not None and not is_moved(anchor, origin, configuration, layout):
            mains[anchor] = origin.main
        elif unit_kind is UnitKind.ROOT:
            mains[anchor] = ROOT_CONFIGURATION
        elif unit_kind is UnitKind.API and (origin is not None or revision_of(anchor)):
            spec = UNIT_BY_UNIT[unit_kind]
            name = _allocate(spec, anchor, _revision_folder(configuration, anchor), allocator)
            mains[anchor] = main_file(spec, name)
            if origin is not None:
                moves[anchor] = Move(origin, anchor, _unit_name(origin.main), name)
        else:
            spec = UNIT_BY_UNIT[unit_kind]
            mains[anchor] = main_file(
                spec, _allocate(spec, anchor, safe_component(last_segment(anchor)), allocator)
            )
    return mains, moves


def _revision_folder(configuration: Configuration, anchor: str) -> str:
    api = configuration.get(anchor)
    if api is None:
        return safe_component(last_segment(anchor))
    display_name = str(api.get("displayName") or last_segment(api_id_without_revision(anchor)))
    version = str(api.get("apiVersion") or "")
    return api_revision_folder(
        display_name, version, revision_number(api), revision_of(anchor) is None
    )


def _allocate(spec: UnitSpec, anchor: str, base: str, allocator: NameAllocator) -> str:
    """A free name for a new unit's files, ``base`` if it is free."""
    claims = [spec.folder + ("/{}" if spec.nested else "/{}.json")]
    if spec.unit is UnitKind.API:
        claims += [f"{SCM_ROOT}/policies/apis/{{}}.xml", f"{SCM_ROOT}/policies/apis/{{}}"]
    elif spec.unit is UnitKind.PRODUCT:
        claims += [f"{SCM_ROOT}/policies/products/{{}}.xml"]
    elif spec.unit is UnitKind.POLICY_FRAGMENT:
        claims += [f"{EXTRAS_ROOT}/policyFragments/{{}}.xml"]
    return allocator.allocate(anchor, [base], *claims)


def _unit_name(main: str) -> str:
    """The opaque name of a unit: its folder (nested units) or file stem."""
    if main.endswith("/configuration.json"):
        return main.rsplit("/", 2)[-2]
    return main.rsplit("/", 1)[-1].removesuffix(".json")


# -- rendering -----------------------------------------------------------------------


class _Texts:
    """Stores the texts of one unit: existing files keep name and style, new ones get names."""

    def __init__(self, context: _Context, style: TextStyle, output: dict[str, bytes]) -> None:
        self.context = context
        self.style = style
        self.output = output

    def sink(self, new_path: Callable[[str], str]) -> Callable[[Any, str | None, str], Any]:
        def store(existing: Any, text: str | None, pointer: str) -> Any:
            path = reference_path(existing) if isinstance(existing, str) and existing else None
            if text is None:
                return None if path else existing
            self.put(path or new_path(pointer), text)
            return existing if path else new_path(pointer)

        return store

    def put(self, path: str, text: str) -> str:
        """Store ``text`` at ``path`` (matched to an existing file's case); return ``path``."""
        actual, source = self.context.existing(path)
        if source is not None and source.text is not None and source.model_text == text:
            self.output[actual] = source.raw
        else:
            style = source.style if source is not None else self.style
            self.output[actual] = style.encode(text)
        return path


class _Context:
    def __init__(
        self,
        configuration: Configuration,
        layout: Layout,
        mains: dict[str, str],
        moves: Mapping[str, Move],
    ) -> None:
        self.configuration = configuration
        self.layout = layout
        self.mains = mains
        self.moves = tuple(moves.values())
        self.moved = {new: (move, old) for move in self.moves for new, old in move.files().items()}

    def moved_reference(self, reference: str) -> str:
        """``reference`` pointing where its file moves to (as written, if it does not move)."""
        for move in self.moves:
            moved = move.path(reference)
            if moved != reference:
                return moved
        return reference

    def existing(self, path: str) -> tuple[str, SourceFile | None]:
        """Where the file ``path`` names is written (its existing letter case; a moved
        file's new place), and the file it was read from, if any."""
        if path.lower() in self.moved:
            move, old = self.moved[path.lower()]
            return move.path(old), self.layout.files.get(old)
        actual = self.layout.existing_path(path)
        return actual, self.layout.files.get(actual)

    def render(
        self,
        unit_kind: UnitKind,
        anchor: str,
        resources: dict[str, Resource],
        original: Unit | None,
        move: Move | None = None,
    ) -> dict[str, bytes]:
        main = self.mains[anchor]
        source = self.existing(main)[1]
        style = source.style if source is not None else NEW_FILE_STYLE
        output: dict[str, bytes] = {}
        texts = _Texts(self, style, output)
        document = original.document if original is not None else None
        if move is not None:
            document = move.document()
        renderer: _Renderer = _RENDERERS.get(unit_kind, _render_simple)
        rendered = renderer(_Unit(self, unit_kind, anchor, resources, document, texts))
        output[main] = self._main_bytes(main, rendered, document, style)
        return output

    def _main_bytes(self, main: str, document: Any, original: Any, style: TextStyle) -> bytes:
        source = self.layout.files.get(main)
        if source is not None and document == original:
            return source.raw
        return style.encode_json(document)

    def module_version(self) -> int:
        return self.layout.module_version

    def main_of(self, anchor: str, what: str) -> str:
        main = self.mains.get(anchor)
        if main is None:
            raise ModelError(f"{what} links to '{anchor}', which is not in the configuration")
        return main


@dataclass(frozen=True)
class _Unit:
    """One unit being rendered: its resources, original document and text store."""

    context: _Context
    kind: UnitKind
    anchor: str
    resources: dict[str, Resource]
    document: Any
    texts: _Texts

    @property
    def original(self) -> dict[str, Any]:
        """The document the unit was read from ({} for a new unit)."""
        return self.document if isinstance(self.document, dict) else {}

    @property
    def name(self) -> str:
        """The unit's opaque file name (folder or file stem)."""
        return _unit_name(self.context.mains[self.anchor])

    def policy(self, owner: str | None) -> Resource | None:
        return self.resources.get(policy_id_of(owner))

    def of_kind(self, kind: Kind) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind is kind]


def _base_document(unit: _Unit, spec: KindSpec, new_text: Callable[[str], str]) -> dict[str, Any]:
    """The unit's main document: merged into the original, or new in APIM's shape."""
    resource = unit.resources[unit.anchor]
    merged = to_scm(unit.original or None, resource.properties, spec, unit.texts.sink(new_text))
    if unit.original:
        return merged
    document_id = api_id_without_revision(resource.id) if unit.kind is UnitKind.API else resource.id
    fresh: dict[str, Any] = {"id": version_set_to_scm(document_id), **merged}
    if unit.kind not in _EXTRAS_UNITS:
        fresh["__GitModuleVersion"] = unit.context.module_version()
    return fresh


def _text_namer(unit: _Unit, prefix: str) -> Callable[[str], str]:
    """New text files of a unit: beside its main file, named after the JSON pointer."""
    main = unit.context.mains[unit.anchor]
    folder, _, _ = main.rpartition("/")
    stem = "" if main.endswith("/configuration.json") else unit.name + "."

    def name(pointer: str) -> str:
        return f"{folder}/{stem}{prefix}{_pointer_suffix(pointer)}"

    return name


def _pointer_suffix(pointer: str) -> str:
    parts = [p.removeprefix("$ref-") for p in pointer.strip("/").split("/") if p]
    extension = ".xml" if parts and parts[-1] == "value" and "examples" not in parts else ".html"
    return ".".join(safe_component(p) for p in parts) + extension


_TEXT_PREFIXES = {UnitKind.API: "api.", UnitKind.PRODUCT: "product."}


def _render_simple(unit: _Unit) -> dict[str, Any]:
    namer = _text_namer(unit, _TEXT_PREFIXES.get(unit.kind, ""))
    if unit.kind is UnitKind.POLICY_FRAGMENT:
        xml_path = unit.context.mains[unit.anchor].removesuffix(".json") + ".xml"
        namer = lambda _pointer: xml_path  # noqa: E731
    return _base_document(unit, UNIT_BY_UNIT[unit.kind].spec, namer)


def _render_api(unit: _Unit) -> dict[str, Any]:
    result = _render_simple(unit)
    for key, entries in (
        ("operations", _OperationWriter(unit).render(unit.original.get("operations"))),
        ("apiSchemas", _render_schemas(unit)),
    ):
        if entries or key in unit.original or not unit.original:
            result[key] = entries
    _set_policy(result, unit, unit.anchor, f"{SCM_ROOT}/policies/apis/{unit.name}.xml")
    return _version_last(_mark_revision(result, unit), unit)


def _mark_revision(document: dict[str, Any], unit: _Unit) -> dict[str, Any]:
    """Say which revision the document holds as APIM does: every revision carries the API's
    id and its ``apiRevision``; the current one ``"isCurrent": true``, the others nothing."""
    revision = revision_of(unit.anchor)
    if revision is not None:
        if unit.original.get("isCurrent") is not False:
            document.pop("isCurrent", None)
        if document.get("apiRevision") != revision:
            return _with_key(document, "apiRevision", revision, after="name")
    elif document.get("apiRevision") and "isCurrent" not in unit.original:
        document.pop("isCurrent", None)
        return _with_key(document, "isCurrent", True, after="subscriptionKeyParameterNames")
    elif document.get("apiRevision"):
        document["isCurrent"] = True
    return document


def _with_key(document: dict[str, Any], key: str, value: Any, after: str) -> dict[str, Any]:
    """``document`` with ``key`` set: in its place, else after ``after``, else last."""
    if key in document or after not in document:
        return {**document, key: value}
    result: dict[str, Any] = {}
    for name, item in document.items():
        result[name] = item
        if name == after:
            result[key] = value
    return result


def _set_policy(document: dict[str, Any], unit: _Unit, owner: str | None, new_path: str) -> None:
    """Point ``document``'s ``$ref-policy`` at the policy of ``owner`` (or at nothing)."""
    policy = unit.policy(owner)
    existing = document.get("$ref-policy")
    if policy is None:
        if existing:
            document["$ref-policy"] = None
        return
    path = reference_path(existing) if isinstance(existing, str) and existing else None
    value = str(policy.properties.get("value", ""))
    unit.texts.put(path or new_path, value)
    document["$ref-policy"] = existing if path else new_path


def _ordered(originals: list[str], present: list[str]) -> list[str]:
    """Ids in their original order, new ones after them in id order."""
    kept = [rid for rid in originals if rid in present]
    return kept + sorted(set(present) - set(kept))


def _entries_by_id(value: Any) -> dict[str, dict[str, Any]]:
    items = value if isinstance(value, list) else []
    return {e["id"]: e for e in items if isinstance(e, dict) and isinstance(e.get("id"), str)}


class _OperationWriter:
    """The inline operations of an API document, each merged into its original entry."""

    def __init__(self, unit: _Unit) -> None:
        self.unit = unit
        self.allocator = NameAllocator(frozenset(unit.context.layout.files))
        self.stems: dict[str, str] = {}

    def render(self, original_entries: Any) -> list[dict[str, Any]]:
        entries = _entries_by_id(original_entries)
        present = [r.id for r in self.unit.of_kind(Kind.OPERATION)]
        return [
            self._entry(op_id, entries.get(op_id)) for op_id in _ordered(list(entries), present)
        ]

    def _entry(self, op_id: str, original: dict[str, Any] | None) -> dict[str, Any]:
        folder = f"{SCM_ROOT}/apis/{self.unit.name}/operations"

        def new_text(pointer: str) -> str:
            return f"{folder}/{self._stem(op_id)}.{_pointer_suffix(pointer)}"

        properties = self.unit.resources[op_id].properties
        merged = to_scm(original, properties, OPERATION_SPEC, self.unit.texts.sink(new_text))
        entry = merged if original is not None else {"id": op_id, **merged, "policies": None}
        policy_path = (
            f"{SCM_ROOT}/policies/apis/{self.unit.name}/operations/{self._stem(op_id)}.xml"
        )
        _set_policy(entry, self.unit, op_id, policy_path)
        return entry

    def _stem(self, op_id: str) -> str:
        """A new, free file stem for an operation's files (allocated on first use)."""
        if op_id not in self.stems:
            folder = f"{SCM_ROOT}/apis/{self.unit.name}"
            self.stems[op_id] = self.allocator.allocate(
                op_id,
                [safe_component(last_segment(op_id))],
                f"{folder}/operations/{{}}",
                f"{SCM_ROOT}/policies/apis/{self.unit.name}/operations/{{}}.xml",
            )
        return self.stems[op_id]


def _render_schemas(unit: _Unit) -> list[dict[str, Any]]:
    entries = _entries_by_id(unit.original.get("apiSchemas"))
    present = [r.id for r in unit.of_kind(Kind.API_SCHEMA)]
    return [
        _schema_entry(unit, unit.resources[sid], entries.get(sid))
        for sid in _ordered(list(entries), present)
    ]


def _schema_entry(unit: _Unit, schema: Resource, original: dict[str, Any] | None) -> dict[str, Any]:
    entry = dict(original or {"id": schema.id})
    entry["contentType"] = schema.properties.get("contentType")
    document = schema.properties.get("document")
    value = document.get("value") if isinstance(document, Mapping) else None
    existing = entry.get("$ref-documentValue")
    path = reference_path(existing) if isinstance(existing, str) and existing else None
    name = safe_component(last_segment(schema.id))
    new_path = f"{SCM_ROOT}/apis/{unit.name}/apiSchemas/{name}.document"
    if value is None:
        entry["$ref-documentValue"] = None
    else:
        unit.texts.put(path or new_path, str(value))
        entry["$ref-documentValue"] = existing if path else new_path
    return entry


def _version_last(result: dict[str, Any], unit: _Unit) -> dict[str, Any]:
    """New documents end with ``__GitModuleVersion``, as APIM writes them."""
    if not unit.original and "__GitModuleVersion" in result:
        result["__GitModuleVersion"] = result.pop("__GitModuleVersion")
    return result


def _link_list(
    unit: _Unit, key: str, kind: Kind, target_key: str, entry_for: Callable[[str, str], str]
) -> list[str]:
    """The list a product or tag document holds its links in: each link's entry (a path or
    an id), in the original order, written as the original wrote it (letter case)."""
    entries = [entry_for(str(r.properties.get(target_key)), r.id) for r in unit.of_kind(kind)]
    previous = [
        unit.context.moved_reference(p) for p in unit.original.get(key) or [] if isinstance(p, str)
    ]
    as_written = {_entry_key(p): p for p in previous}
    return _ordered(previous, [as_written.get(_entry_key(e), e) for e in entries])


def _entry_key(entry: str) -> str:
    """What a link entry names, however it was written (letter case, Windows separators)."""
    return (reference_path(entry) or entry).lower()


_PRODUCT_LINKS = (
    ("$refs-groups", Kind.PRODUCT_GROUP_LINK, "groupId"),
    ("$refs-apis", Kind.PRODUCT_API_LINK, "apiId"),
)
_TAG_LINKS = (
    ("apiIds", Kind.TAG_API_LINK, "apiId"),
    ("productIds", Kind.TAG_PRODUCT_LINK, "productId"),
    ("operationIds", Kind.TAG_OPERATION_LINK, "operationId"),
)


def _render_product(unit: _Unit) -> dict[str, Any]:
    """Products link to the main files of their APIs and groups."""
    result = _render_simple(unit)
    for key, kind, target_key in _PRODUCT_LINKS:
        result[key] = _link_list(
            unit,
            key,
            kind,
            target_key,
            lambda target, link: unit.context.main_of(target, f"'{link}'"),
        )
    _set_policy(result, unit, unit.anchor, f"{SCM_ROOT}/policies/products/{unit.name}.xml")
    return _version_last(result, unit)


def _render_tag(unit: _Unit) -> dict[str, Any]:
    """Tags list the ids of what they tag."""
    result = _render_simple(unit)
    for key, kind, target_key in _TAG_LINKS:
        result[key] = _link_list(unit, key, kind, target_key, lambda target, _link: target)
    result.setdefault("descriptions", [])
    return _version_last(result, unit)


def _render_root(unit: _Unit) -> dict[str, Any]:
    """The root configuration.json: portal settings and the global policy."""
    result = dict(unit.original)
    settings = portal.resources_to_settings(unit.original.get("settings"), unit.resources)
    if settings or "settings" in unit.original:
        result["settings"] = settings
    _set_policy(result, unit, None, f"{SCM_ROOT}/policies/global.xml")
    if not unit.original:
        result["IntegrationModuleVersion"] = str(unit.context.module_version())
    return result


_Renderer = Callable[[_Unit], dict[str, Any]]
_RENDERERS: dict[UnitKind, _Renderer] = {
    UnitKind.ROOT: _render_root,
    UnitKind.API: _render_api,
    UnitKind.PRODUCT: _render_product,
    UnitKind.TAG: _render_tag,
}


def _remove_empty_folders(root: Path) -> None:
    for top in CONFIG_ROOTS:
        base = root / top
        if not base.is_dir() or base.is_symlink():
            continue
        for folder, _dirs, _files in sorted(os.walk(base), key=lambda w: -len(w[0])):
            path = Path(folder)
            if path != base and not any(path.iterdir()):
                path.rmdir()
