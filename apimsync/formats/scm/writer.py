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
from apimsync.formats.files import CONFIG_ROOTS, EXTRAS_ROOT, SCM_ROOT
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
from apimsync.formats.scm.naming import NameAllocator, safe_component
from apimsync.formats.textfile import (
    TextStyle,
    normalize_repo_path,
    resolve_inside,
    write_atomically,
)
from apimsync.model import Configuration, Kind, Resource, last_segment, policy_id_of

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


@dataclass(frozen=True)
class WriteResult:
    written: tuple[str, ...]
    deleted: tuple[str, ...]


def write_tree(
    configuration: Configuration, root: Path, layout: Layout | None = None
) -> WriteResult:
    """Make the configuration folders below ``root`` hold ``configuration``.

    Everything is rendered before anything is written, so a model error writes nothing.
    Only files whose bytes change are written; only files ``layout`` knows are deleted.
    """
    layout = layout or Layout()
    files = render_tree(configuration, layout)
    targets = {path: resolve_inside(root, path) for path in files}
    written = []
    for path, data in sorted(files.items()):
        target = targets[path]
        if not target.is_file() or target.read_bytes() != data:
            write_atomically(target, data)
            written.append(path)
    deleted = []
    for path in sorted(set(layout.files) - set(files)):
        target = resolve_inside(root, path)
        if target.is_file():
            target.unlink()
            deleted.append(path)
    _remove_empty_folders(root)
    return WriteResult(tuple(written), tuple(deleted))


def render_tree(configuration: Configuration, layout: Layout) -> dict[str, bytes]:
    """Every file of the configuration folders, path -> bytes."""
    units = _group_into_units(configuration)
    mains = _assign_main_files(units, layout)
    output: dict[str, bytes] = {path: layout.files[path].raw for path in layout.passthrough_files()}
    context = _Context(configuration, layout, mains)
    for (unit_kind, anchor), resources in sorted(units.items(), key=lambda item: item[0][1]):
        original = layout.units.get(anchor)
        if original is not None and _unchanged(original, resources, layout):
            rendered = {path: layout.files[path].raw for path in original.files}
        else:
            rendered = context.render(unit_kind, anchor, resources, original)
        for path in rendered:
            if path in output:
                raise ModelError(f"two resources would be written to {path}")
        output.update(rendered)
    return output


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


def _assign_main_files(units: Mapping[tuple[UnitKind, str], Any], layout: Layout) -> dict[str, str]:
    """Main-file path of every unit: the existing one, or a new, free name."""
    allocator = NameAllocator(frozenset(layout.files))
    mains: dict[str, str] = {}
    for unit_kind, anchor in sorted(units, key=lambda key: key[1]):
        existing = layout.main_of(anchor)
        if existing is not None:
            mains[anchor] = existing
        elif unit_kind is UnitKind.ROOT:
            mains[anchor] = ROOT_CONFIGURATION
        else:
            mains[anchor] = _new_main_file(UNIT_BY_UNIT[unit_kind], anchor, allocator)
    return mains


def _new_main_file(spec: UnitSpec, anchor: str, allocator: NameAllocator) -> str:
    base = safe_component(last_segment(anchor))
    claims = [spec.folder + ("/{}" if spec.nested else "/{}.json")]
    if spec.unit is UnitKind.API:
        claims += [f"{SCM_ROOT}/policies/apis/{{}}.xml", f"{SCM_ROOT}/policies/apis/{{}}"]
    elif spec.unit is UnitKind.PRODUCT:
        claims += [f"{SCM_ROOT}/policies/products/{{}}.xml"]
    elif spec.unit is UnitKind.POLICY_FRAGMENT:
        claims += [f"{EXTRAS_ROOT}/policyFragments/{{}}.xml"]
    return main_file(spec, allocator.allocate(anchor, [base], *claims))


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
            path = normalize_repo_path(existing) if isinstance(existing, str) and existing else None
            if text is None:
                return None if path else existing
            self.put(path or new_path(pointer), text)
            return existing if path else new_path(pointer)

        return store

    def put(self, path: str, text: str) -> str:
        """Store ``text`` at ``path`` (matched to an existing file's case); return ``path``."""
        actual = self.context.layout.existing_path(path)
        source = self.context.layout.files.get(actual)
        if source is not None and source.text is not None and source.model_text == text:
            self.output[actual] = source.raw
        else:
            style = source.style if source is not None else self.style
            self.output[actual] = style.encode(text)
        return path


class _Context:
    def __init__(self, configuration: Configuration, layout: Layout, mains: dict[str, str]) -> None:
        self.configuration = configuration
        self.layout = layout
        self.mains = mains

    def render(
        self,
        unit_kind: UnitKind,
        anchor: str,
        resources: dict[str, Resource],
        original: Unit | None,
    ) -> dict[str, bytes]:
        main = self.mains[anchor]
        source = self.layout.files.get(main)
        style = source.style if source is not None else NEW_FILE_STYLE
        output: dict[str, bytes] = {}
        texts = _Texts(self, style, output)
        document = original.document if original is not None else None
        renderer: _Renderer = _RENDERERS.get(unit_kind, _render_simple)
        rendered = renderer(self, unit_kind, anchor, resources, document, texts)
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


def _base_document(
    context: _Context,
    unit_kind: UnitKind,
    resource: Resource,
    document: Any,
    texts: _Texts,
    spec: KindSpec,
    new_text: Callable[[str], str],
) -> dict[str, Any]:
    merged = to_scm(
        document if isinstance(document, dict) else None,
        resource.properties,
        spec,
        texts.sink(new_text),
    )
    if isinstance(document, dict):
        return merged
    doc_id = version_set_to_scm(resource.id)
    fresh: dict[str, Any] = {"id": doc_id, **merged}
    if unit_kind not in _EXTRAS_UNITS:
        fresh["__GitModuleVersion"] = context.module_version()
    return fresh


def _text_namer(context: _Context, anchor: str, prefix: str) -> Callable[[str], str]:
    """New text files of a unit: beside its main file, named after the JSON pointer."""
    main = context.mains[anchor]
    folder, _, _ = main.rpartition("/")
    stem = "" if main.endswith("/configuration.json") else _unit_name(main) + "."

    def name(pointer: str) -> str:
        return f"{folder}/{stem}{prefix}{_pointer_suffix(pointer)}"

    return name


def _pointer_suffix(pointer: str) -> str:
    parts = [p.removeprefix("$ref-") for p in pointer.strip("/").split("/") if p]
    extension = ".xml" if parts and parts[-1] == "value" and "examples" not in parts else ".html"
    return ".".join(safe_component(p) for p in parts) + extension


def _render_simple(
    context: _Context,
    unit_kind: UnitKind,
    anchor: str,
    resources: dict[str, Resource],
    document: Any,
    texts: _Texts,
) -> dict[str, Any]:
    spec = UNIT_BY_UNIT[unit_kind]
    prefix = {UnitKind.GROUP: "", UnitKind.PRODUCT: "product."}.get(unit_kind, "")
    namer = _text_namer(context, anchor, prefix)
    if unit_kind is UnitKind.POLICY_FRAGMENT:
        main = context.mains[anchor]
        namer = lambda _pointer: main.removesuffix(".json") + ".xml"  # noqa: E731
    return _base_document(context, unit_kind, resources[anchor], document, texts, spec.spec, namer)


def _render_api(
    context: _Context,
    unit_kind: UnitKind,
    anchor: str,
    resources: dict[str, Resource],
    document: Any,
    texts: _Texts,
) -> dict[str, Any]:
    spec = UNIT_BY_UNIT[UnitKind.API].spec
    result = _base_document(
        context,
        unit_kind,
        resources[anchor],
        document,
        texts,
        spec,
        _text_namer(context, anchor, "api."),
    )
    original = document if isinstance(document, dict) else {}
    folder = _unit_name(context.mains[anchor])
    operations = _OperationWriter(context, anchor, folder, resources, texts)
    result["operations"] = operations.render(original.get("operations"))
    result["apiSchemas"] = _render_schemas(context, anchor, folder, resources, original, texts)
    _set_policy(
        result,
        original,
        resources.get(policy_id_of(anchor)),
        texts,
        f"{SCM_ROOT}/policies/apis/{folder}.xml",
    )
    return _version_last(result, document)


def _set_policy(
    document: dict[str, Any],
    original: Mapping[str, Any],
    policy: Resource | None,
    texts: _Texts,
    new_path: str,
) -> None:
    existing = original.get("$ref-policy")
    if policy is None:
        if existing:
            document["$ref-policy"] = None
        return
    path = normalize_repo_path(existing) if isinstance(existing, str) and existing else None
    document["$ref-policy"] = texts.put(path or new_path, str(policy.properties.get("value", "")))


def _ordered(originals: list[str], present: list[str]) -> list[str]:
    """Ids in their original order, new ones after them in id order."""
    kept = [rid for rid in originals if rid in present]
    return kept + sorted(set(present) - set(kept))


class _OperationWriter:
    def __init__(
        self,
        context: _Context,
        api_id: str,
        folder: str,
        resources: dict[str, Resource],
        texts: _Texts,
    ) -> None:
        self.context = context
        self.folder = folder
        self.resources = resources
        self.texts = texts
        self.allocator = NameAllocator(frozenset(context.layout.files))
        self.api_id = api_id

    def render(self, original_entries: Any) -> list[dict[str, Any]]:
        entries = {
            e["id"]: e
            for e in (original_entries if isinstance(original_entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("id"), str)
        }
        present = [r.id for r in self.resources.values() if r.kind is Kind.OPERATION]
        return [
            self._entry(op_id, entries.get(op_id)) for op_id in _ordered(list(entries), present)
        ]

    def _entry(self, op_id: str, original: dict[str, Any] | None) -> dict[str, Any]:
        operation = self.resources[op_id]
        stem = None if original is not None else self._new_stem(op_id)
        folder = f"{SCM_ROOT}/apis/{self.folder}/operations"

        def new_text(pointer: str) -> str:
            return f"{folder}/{stem or self._new_stem(op_id)}.{_pointer_suffix(pointer)}"

        merged = to_scm(original, operation.properties, OPERATION_SPEC, self.texts.sink(new_text))
        entry = merged if original is not None else {"id": op_id, **merged, "policies": None}
        policy_path = (
            f"{SCM_ROOT}/policies/apis/{self.folder}/operations/{stem or self._new_stem(op_id)}.xml"
        )
        _set_policy(
            entry, original or {}, self.resources.get(policy_id_of(op_id)), self.texts, policy_path
        )
        return entry

    def _new_stem(self, op_id: str) -> str:
        if not hasattr(self, "_stems"):
            self._stems: dict[str, str] = {}
        if op_id not in self._stems:
            self._stems[op_id] = self.allocator.allocate(
                op_id,
                [safe_component(last_segment(op_id))],
                f"{SCM_ROOT}/apis/{self.folder}/operations/{{}}",
                f"{SCM_ROOT}/policies/apis/{self.folder}/operations/{{}}.xml",
            )
        return self._stems[op_id]


def _render_schemas(
    context: _Context,
    api_id: str,
    folder: str,
    resources: dict[str, Resource],
    original: Mapping[str, Any],
    texts: _Texts,
) -> list[dict[str, Any]]:
    entries = {
        e["id"]: e
        for e in (original.get("apiSchemas") or [])
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    }
    present = [r.id for r in resources.values() if r.kind is Kind.API_SCHEMA]
    rendered = []
    for schema_id in _ordered(list(entries), present):
        schema = resources[schema_id]
        entry = dict(entries.get(schema_id) or {"id": schema_id})
        entry["contentType"] = schema.properties.get("contentType")
        document = schema.properties.get("document") or {}
        existing = entry.get("$ref-documentValue")
        path = normalize_repo_path(existing) if isinstance(existing, str) and existing else None
        name = safe_component(last_segment(schema_id))
        new_path = f"{SCM_ROOT}/apis/{folder}/apiSchemas/{name}.document"
        value = document.get("value") if hasattr(document, "get") else None
        entry["$ref-documentValue"] = (
            texts.put(path or new_path, str(value)) if value is not None else None
        )
        rendered.append(entry)
    return rendered


def _version_last(result: dict[str, Any], original: Any) -> dict[str, Any]:
    """New documents end with ``__GitModuleVersion``, as APIM writes them."""
    if not isinstance(original, dict) and "__GitModuleVersion" in result:
        result["__GitModuleVersion"] = result.pop("__GitModuleVersion")
    return result


def _render_product(
    context: _Context,
    unit_kind: UnitKind,
    anchor: str,
    resources: dict[str, Resource],
    document: Any,
    texts: _Texts,
) -> dict[str, Any]:
    result = _render_simple(context, unit_kind, anchor, resources, document, texts)
    original = document if isinstance(document, dict) else {}
    for key, kind, target_key in (
        ("$refs-groups", Kind.PRODUCT_GROUP_LINK, "groupId"),
        ("$refs-apis", Kind.PRODUCT_API_LINK, "apiId"),
    ):
        targets = [
            context.main_of(str(r.properties.get(target_key)), f"'{r.id}'")
            for r in resources.values()
            if r.kind is kind
        ]
        previous = [p for p in original.get(key) or [] if isinstance(p, str)]
        as_written = {p.lower(): p for p in previous}
        result[key] = _ordered(previous, [as_written.get(t.lower(), t) for t in targets])
    _set_policy(
        result,
        original,
        resources.get(policy_id_of(anchor)),
        texts,
        f"{SCM_ROOT}/policies/products/{_unit_name(context.mains[anchor])}.xml",
    )
    return _version_last(result, document)


def _render_tag(
    context: _Context,
    unit_kind: UnitKind,
    anchor: str,
    resources: dict[str, Resource],
    document: Any,
    texts: _Texts,
) -> dict[str, Any]:
    result = _render_simple(context, unit_kind, anchor, resources, document, texts)
    original = document if isinstance(document, dict) else {}
    for key, kind, target_key in (
        ("apiIds", Kind.TAG_API_LINK, "apiId"),
        ("productIds", Kind.TAG_PRODUCT_LINK, "productId"),
        ("operationIds", Kind.TAG_OPERATION_LINK, "operationId"),
    ):
        targets = [str(r.properties.get(target_key)) for r in resources.values() if r.kind is kind]
        previous = [p for p in original.get(key) or [] if isinstance(p, str)]
        result[key] = _ordered(previous, targets)
    result.setdefault("descriptions", [])
    return _version_last(result, document)


def _render_root(
    context: _Context,
    unit_kind: UnitKind,
    anchor: str,
    resources: dict[str, Resource],
    document: Any,
    texts: _Texts,
) -> dict[str, Any]:
    original = document if isinstance(document, dict) else {}
    result = dict(original)
    by_id = dict(resources)
    settings = portal.resources_to_settings(original.get("settings"), by_id)
    if settings or "settings" in original:
        result["settings"] = settings
    _set_policy(
        result, original, by_id.get(policy_id_of(None)), texts, f"{SCM_ROOT}/policies/global.xml"
    )
    if not original:
        result["IntegrationModuleVersion"] = str(context.module_version())
    return result


_Renderer = Callable[["_Context", UnitKind, str, dict[str, Resource], Any, _Texts], dict[str, Any]]
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
