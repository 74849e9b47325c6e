"""Write the model as an APIOps artifact folder.

Rendering is pure: :func:`render_tree` computes every file's bytes from the model and
the :class:`ApiopsLayout` the folder was read with. A file whose resources did not
change keeps its bytes; a changed resource's information file is merged into its
original document and written in the file's own style (indentation, escaping, line
endings, final newline); new resources get the paths and link files of the tree's
generation and flavour; files of deleted resources disappear, with the folders that
held them. An API's specification is kept while its operations are the ones it
defines, else written from the API's ``value`` or, failing that, from its operations.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from apimsync.apispec import (
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    SpecOperation,
    SpecSchema,
    export_specification,
)
from apimsync.errors import ModelError
from apimsync.formats.apiops import specs
from apimsync.formats.apiops.documents import REDACTED, with_properties
from apimsync.formats.apiops.jsonstyle import dumps, escaping_of
from apimsync.formats.apiops.layout import BUILT_IN_GROUPS, ApiopsLayout, LinkStyle, Specification
from apimsync.formats.apiops.paths import Part
from apimsync.formats.files import WriteResult, replace_files
from apimsync.formats.textfile import TextStyle
from apimsync.jsonvalue import thaw
from apimsync.model import (
    Configuration,
    Kind,
    Resource,
    api_id_without_revision,
    last_segment,
    make_resource,
)
from apimsync.plan.normalize import comparable

ARM_TYPE_PREFIX = "Microsoft.ApiManagement/service/"
JSON_STYLE = TextStyle(newline="\n", final_newline=False, indent=2)
"""New JSON files: as the toolkit writes them (two spaces, no final newline)."""
POLICY_STYLE = {"v7": TextStyle(newline="\r\n"), "cli": TextStyle(newline="\n")}
"""New policy files: the toolkit's extracts have CRLF line endings."""

_TOP_PARTS: Mapping[Kind, Part] = {
    Kind.API: Part.API,
    Kind.PRODUCT: Part.PRODUCT,
    Kind.TAG: Part.TAG,
    Kind.NAMED_VALUE: Part.NAMED_VALUE,
    Kind.BACKEND: Part.BACKEND,
    Kind.LOGGER: Part.LOGGER,
    Kind.API_VERSION_SET: Part.VERSION_SET,
    Kind.GROUP: Part.GROUP,
    Kind.POLICY_FRAGMENT: Part.FRAGMENT,
}

UNSUPPORTED_KINDS: Mapping[Kind, str] = {
    Kind.PORTAL_SIGNUP: "APIOps artifacts hold no developer portal settings",
    Kind.PORTAL_DELEGATION: "APIOps artifacts hold no developer portal settings",
    Kind.TAG_OPERATION_LINK: "APIOps artifacts cannot tag an operation",
}
"""Kinds the layout cannot hold, and why (for convert's and pull's reports)."""


def unsupported(configuration: Configuration) -> list[tuple[str, str]]:
    """(resource id, reason) for each resource an APIOps folder cannot hold."""
    return [(r.id, UNSUPPORTED_KINDS[r.kind]) for r in configuration if r.kind in UNSUPPORTED_KINDS]


def write_tree(configuration: Configuration, root: Path, layout: ApiopsLayout) -> WriteResult:
    """Make the artifact folder below ``root`` hold ``configuration``.

    Everything is rendered before anything is written, so a model error writes nothing.
    Only files whose bytes change are written; only files ``layout`` knows are deleted.
    """
    result = replace_files(root, render_tree(configuration, layout), layout.files)
    _remove_empty_folders(root / layout.location.folder if layout.location.folder else root)
    return result


def render_tree(configuration: Configuration, layout: ApiopsLayout) -> dict[str, bytes]:
    """Every file of the artifact folder, path -> bytes."""
    return _Renderer(configuration, layout).render()


class _Renderer:
    def __init__(self, configuration: Configuration, layout: ApiopsLayout) -> None:
        self.configuration = configuration
        self.layout = layout
        self.naming = layout.naming
        self.prefix = layout.prefix
        self.cli = self.naming.cli
        self.output: dict[str, bytes] = {}
        self._schema_uses: frozenset[str] | None = None

    def render(self) -> dict[str, bytes]:
        by_path: dict[str, list[Resource]] = defaultdict(list)
        for resource in self.configuration:
            path = self.path_of(resource)
            if path is not None:
                by_path[path].append(resource)
        for path in self._surviving_lists():
            by_path.setdefault(path, [])
        for path, resources in sorted(by_path.items()):
            self._claim(path, self._file(path, resources))
        for api in self.configuration.of_kind(Kind.API):
            self._specification(api)
        for path in self._kept_files():
            if path in self.output:
                raise ModelError(
                    f"{path} is in the way: it could not be read as an artifact; fix it "
                    "('apimsync validate' says why) or remove it, then try again"
                )
            self.output[path] = self.layout.files[path].raw
        return self.output

    def _claim(self, path: str, data: bytes) -> None:
        if path in self.output:
            raise ModelError(f"two resources would be written to {path}")
        self.output[path] = data

    # -- where each resource goes ---------------------------------------------------

    def path_of(self, resource: Resource) -> str | None:
        """The file that holds ``resource``; None where it lives in another one (an
        operation in its API's specification) or the layout cannot hold it."""
        kind = resource.kind
        if kind in UNSUPPORTED_KINDS:
            return None
        home = self.layout.homes.get(resource.id)
        if home is None and self._leaves_out_built_in(resource):
            return None
        artifact = self.layout.artifacts.get(home) if home else None
        if artifact is not None and artifact.at.part is Part.SPECIFICATION:
            return None  # an operation or schema the specification defines; written with it
        if artifact is not None and not (kind is Kind.API_SCHEMA and _is_graphql(resource)):
            return home
        if kind is Kind.POLICY:
            return self._policy_path(resource)
        if kind is Kind.OPERATION:
            return self._nested(Part.OPERATION, resource) if self.cli else None
        if kind is Kind.API_SCHEMA:
            api = self.configuration.get(resource.parent or "")
            exported = api is not None and not self._without_specification(api)
            in_specification = _is_graphql(resource) or (
                exported and resource.id in self._used_schemas()
            )
            return None if in_specification else self._nested(Part.API_SCHEMA, resource)
        if kind is Kind.API_RELEASE:
            return self._nested(Part.API_RELEASE, resource)
        if kind is Kind.DIAGNOSTIC and resource.parent is not None:
            return self._nested(Part.API_DIAGNOSTIC, resource)
        if kind is Kind.DIAGNOSTIC:
            return self.prefix + self.naming.information(Part.DIAGNOSTIC, resource.name)
        if kind in _TOP_PARTS:
            return self.prefix + self.naming.information(_TOP_PARTS[kind], resource.name)
        return self._link_path(resource)

    def _leaves_out_built_in(self, group: Resource) -> bool:
        """The toolkit's extractor never writes the built-in groups (they exist on every
        instance); v6 trees and apiops-cli hold them, and so do trees that already do."""
        if group.kind is not Kind.GROUP or group.id.casefold() not in BUILT_IN_GROUPS:
            return False
        holds_some = any(rid.casefold() in BUILT_IN_GROUPS for rid in self.layout.homes)
        return not self.cli and not holds_some

    def folder_of(self, resource_id: str) -> str:
        """The folder of an API, product or tag: where its information file is, or
        where a new one goes."""
        home = self.layout.homes.get(resource_id)
        if home is not None and home.endswith("Information.json"):
            return posixpath.dirname(home)
        collection, name = resource_id.strip("/").split("/", 1)
        part = {"apis": Part.API, "products": Part.PRODUCT, "tags": Part.TAG}[collection]
        return f"{self.prefix}{self.naming.collection(part)}/{name}"

    def _nested(self, part: Part, resource: Resource) -> str:
        sub, file = self.naming.child(part)
        return f"{self.folder_of(resource.parent or '')}/{sub}/{resource.name}/{file}"

    def _policy_path(self, resource: Resource) -> str:
        owner = resource.parent
        if owner is None:
            return f"{self.prefix}policy.xml"
        if "/operations/" in owner:
            api, _, operation = owner.partition("/operations/")
            return f"{self.folder_of(api)}/operations/{operation}/policy.xml"
        return f"{self.folder_of(owner)}/policy.xml"

    def _link_path(self, link: Resource) -> str | None:
        styles = self.layout.styles
        owner = link.parent or ""
        target = _link_target(link)
        if link.kind is Kind.PRODUCT_API_LINK:
            return self._owned_link(
                styles.product_apis, owner, "apis", target, "productApiInformation.json"
            )
        if link.kind is Kind.PRODUCT_GROUP_LINK:
            return self._owned_link(
                styles.product_groups, owner, "groups", target, "productGroupInformation.json"
            )
        if link.kind is Kind.TAG_API_LINK:
            return self._tag_link(styles.api_tags, owner, "apis", target, Part.API_TAG)
        if link.kind is Kind.TAG_PRODUCT_LINK:
            return self._tag_link(styles.product_tags, owner, "products", target, Part.PRODUCT_TAG)
        return None

    def _owned_link(
        self, style: LinkStyle, owner: str, collection: str, target: str, file: str
    ) -> str:
        folder = self.folder_of(owner)
        if style is LinkStyle.ARRAY:
            return f"{folder}/{collection}.json"
        return f"{folder}/{collection}/{self._name_of(target)}/{file}"

    def _tag_link(
        self, style: LinkStyle, tag: str, collection: str, target: str, part: Part
    ) -> str:
        if style is LinkStyle.TAG_FOLDER:
            file = (
                "tagApiInformation.json" if collection == "apis" else "tagProductInformation.json"
            )
            return f"{self.folder_of(tag)}/{collection}/{self._name_of(target)}/{file}"
        owner_folder = self.folder_of(target)
        if style is LinkStyle.ARRAY:
            return f"{owner_folder}/tags.json"
        _sub, file = self.naming.child(part)
        return f"{owner_folder}/tags/{last_segment(tag)}/{file}"

    def _name_of(self, resource_id: str) -> str:
        """The folder name a resource goes by (its folder, as read, or its name)."""
        home = self.layout.homes.get(resource_id)
        if home is not None and home.endswith("Information.json"):
            return posixpath.basename(posixpath.dirname(home))
        return last_segment(resource_id)

    # -- one file ----------------------------------------------------------------------

    def _file(self, path: str, resources: list[Resource]) -> bytes:
        artifact = self.layout.artifacts.get(path)
        original = artifact.document if artifact is not None else None
        if path.endswith(".xml"):
            return self._policy_file(path, resources)
        if isinstance(original, list) or path.endswith(
            ("/apis.json", "/groups.json", "/tags.json")
        ):
            return self._encode_json(path, self._array(path, resources))
        if len(resources) != 1:
            raise ModelError(f"two resources would be written to {path}")
        resource = resources[0]
        if resource.kind is Kind.POLICY_FRAGMENT and not self.cli:
            self._fragment_policy(path, resource)
        document = self._document(resource, original)
        return self._encode_json(path, document)

    def _document(self, resource: Resource, original: Any) -> Any:
        if resource.kind in _LINK_TARGET_KEYS:
            return self._link_document(resource, original)
        if original is None and self.cli:
            # apiops-cli writes the ARM resource whole; its id names the source instance,
            # which the model does not know, so a new file states the name and type.
            collections = "/".join(resource.id.strip("/").split("/")[0::2])
            original = {"name": resource.name, "type": f"{ARM_TYPE_PREFIX}{collections}"}
        return with_properties(original, self._file_properties(resource))

    def _file_properties(self, resource: Resource) -> dict[str, Any]:
        properties: dict[str, Any] = thaw(resource.properties)
        if resource.kind is Kind.API:
            for key in ("format", "value", "apiType", "wsdlSelector"):
                properties.pop(key, None)
            spec = self.layout.specifications.get(resource.id)
            for key, value in (spec.filled if spec is not None else {}).items():
                if properties.get(key) == value:
                    del properties[key]  # the specification says it, not the file
        elif resource.kind is Kind.POLICY_FRAGMENT and not self.cli:
            properties.pop("format", None)
            properties.pop("value", None)
        elif resource.kind is Kind.NAMED_VALUE and self.cli and _secret_without_value(resource):
            properties["value"] = REDACTED
        return properties

    def _link_document(self, link: Resource, original: Any) -> Any:
        if original is not None:
            return original  # a link is its path; its file never changes
        key = _LINK_TARGET_KEYS[link.kind]
        target = str(link.properties.get(key, ""))
        styles = self.layout.styles
        wants_document = (
            styles.group_documents
            if link.kind is Kind.PRODUCT_GROUP_LINK
            else styles.link_documents
        )
        if self.cli and link.kind in (Kind.TAG_API_LINK, Kind.TAG_PRODUCT_LINK):
            return {"properties": {"displayName": last_segment(link.parent or "")}}
        if not wants_document:
            return {}
        return {"name": link.name, "properties": {key: target}}

    def _array(self, path: str, links: list[Resource]) -> list[Any]:
        artifact = self.layout.artifacts.get(path)
        original = (
            artifact.document
            if artifact is not None and isinstance(artifact.document, list)
            else []
        )
        modelled = {
            _entry_name(self.layout.original.get(rid))
            for rid in (artifact.resource_ids if artifact else ())
        }
        wanted: dict[str, Resource] = {}
        for link in links:
            name = _entry_name(link)
            if name is not None:
                wanted[name] = link
        entries: list[Any] = []
        for entry in original:
            listed = entry.get("name") if isinstance(entry, dict) else None
            if listed in wanted:
                entries.append(entry)
                wanted.pop(listed)
            elif listed not in modelled:
                entries.append(entry)  # a link apimsync does not manage: kept as it is
        entries += [{"name": name} for name in sorted(wanted)]
        return entries

    def _policy_file(self, path: str, resources: list[Resource]) -> bytes:
        if len(resources) != 1:
            raise ModelError(f"two resources would be written to {path}")
        return self._text(path, str(resources[0].properties.get("value", "")), policy=True)

    def _fragment_policy(self, info_path: str, fragment: Resource) -> None:
        home = self.layout.policy_files.get(fragment.id)
        path = home or posixpath.join(posixpath.dirname(info_path), "policy.xml")
        value = fragment.properties.get("value")
        if isinstance(value, str):
            self._claim(path, self._text(path, value, policy=True))

    # -- specifications ----------------------------------------------------------------

    def _specification(self, api: Resource) -> None:
        folder = self.folder_of(api.id)
        schema = self.configuration.get(f"{api.id}/schemas/{specs.GRAPHQL_SCHEMA}")
        if schema is not None and _is_graphql(schema):
            document = schema.properties.get("document") or {}
            text = str(document.get("value", "")) if isinstance(document, Mapping) else ""
            self._claim(*self._spec_text(api.id, folder, "graphql", text))
            return
        if self._without_specification(api):
            return
        spec = self.layout.specifications.get(api.id)
        defined = [*self._operations(api.id), *self._schemas_of(api.id)]
        value = api.properties.get("value")
        form = api.properties.get("format")
        unchanged = spec is not None and (value is None or value == spec.value)
        if spec is not None and unchanged and self._kept(spec.derived, defined):
            self._claim(spec.path, self.layout.files[spec.path].raw)
            return
        if isinstance(value, str) and isinstance(form, str) and self._defines(api, defined):
            self._claim(*self._spec_text(api.id, folder, _extension(form, spec), value))
            return
        if defined or spec is not None:
            self._export(api, folder, spec)

    def _without_specification(self, api: Resource) -> bool:
        """A SOAP API with no WSDL to write: its operations cannot be exported as a
        specification (the toolkit's extractor writes none for SOAP APIs either)."""
        return (
            api.properties.get("type") == "soap"
            and not isinstance(api.properties.get("value"), str)
            and api.id not in self.layout.specifications
        )

    def _export(self, api: Resource, folder: str, spec: Specification | None) -> None:
        """Write the specification of ``api`` from its operations, as an export would."""
        form = spec.format if spec is not None and spec.format in EXPORT_FORMATS else None
        form = form or (
            specs.OPENAPI_JSON
            if spec is not None and spec.extension == "json"
            else specs.OPENAPI_YAML
        )
        operations = [
            SpecOperation(last_segment(r.id), thaw(r.properties)) for r in self._operations(api.id)
        ]
        schemas = [
            SpecSchema(last_segment(r.id), str(r.properties.get("contentType", "")), _document(r))
            for r in self._schemas_of(api.id)
        ]
        properties = {k: v for k, v in thaw(api.properties).items() if k not in ("format", "value")}
        text = export_specification(properties, operations, form, schemas=schemas)
        self._claim(*self._spec_text(api.id, folder, specs.EXTENSION_OF_FORMAT[form], text))

    def _defines(self, api: Resource, defined: list[Resource]) -> bool:
        """True if the API's ``value`` defines exactly the operations (and schema) the
        model holds for it: writing it keeps them."""
        form, value = api.properties.get("format"), api.properties.get("value")
        if form not in specs.EXTENSION_OF_FORMAT or not isinstance(value, str):
            return False
        try:
            derived = specs.derive(api.id, specs.Imported(str(form), value))
        except specs.SpecificationProblem:
            return False
        if form not in IMPORT_FORMATS:
            return True  # a format the mapping does not read (WSDL, WADL): nothing to compare
        wanted = {rid: make_resource(rid, props) for rid, props in derived.resources}
        return {r.id for r in defined} == set(wanted) and all(
            comparable(wanted[r.id]) == comparable(r) for r in defined
        )

    def _schemas_of(self, api_id: str) -> list[Resource]:
        """The schemas the API's operations use (the specification holds them)."""
        used = self._used_schemas()
        return [
            r
            for r in self.configuration.of_kind(Kind.API_SCHEMA)
            if r.parent == api_id and r.id in used
        ]

    def _used_schemas(self) -> frozenset[str]:
        if self._schema_uses is None:
            found: set[str] = set()
            for operation in self.configuration.of_kind(Kind.OPERATION):
                for schema_id in _schema_ids(operation.properties):
                    found.add(f"{operation.parent}/schemas/{schema_id}")
            self._schema_uses = frozenset(found)
        return self._schema_uses

    def _spec_text(self, api_id: str, folder: str, extension: str, text: str) -> tuple[str, bytes]:
        spec = self.layout.specifications.get(api_id)
        path = spec.path if spec is not None and spec.extension == extension else None
        path = path or f"{folder}/specification.{extension}"
        return path, self._text(path, text, policy=False)

    def _operations(self, api_id: str) -> list[Resource]:
        return [r for r in self.configuration.of_kind(Kind.OPERATION) if r.parent == api_id]

    def _kept(self, derived: frozenset[str], operations: list[Resource]) -> bool:
        """True if ``operations`` are the ones a specification defined when read."""
        if {r.id for r in operations} != set(derived):
            return False
        original = self.layout.original
        return all(
            (before := original.get(r.id)) is not None and comparable(before) == comparable(r)
            for r in operations
        )

    # -- encoding ----------------------------------------------------------------------

    def _encode_json(self, path: str, document: Any) -> bytes:
        source = self.layout.files.get(path)
        artifact = self.layout.artifacts.get(path)
        if source is not None and artifact is not None and artifact.document == document:
            return source.raw
        style = source.style if source is not None else JSON_STYLE
        escaping = (
            escaping_of(source.text or "") if source is not None else None
        ) or self.layout.escaping
        text = dumps(document, escaping, style.indent)
        if style.final_newline:
            text += "\n"
        return style.encode(text)

    def _text(self, path: str, text: str, *, policy: bool) -> bytes:
        source = self.layout.files.get(path)
        if source is not None and source.text is not None and source.model_text == text:
            return source.raw
        if source is not None:
            return source.style.encode(text)
        style = POLICY_STYLE[self.naming.flavour] if policy else JSON_STYLE
        return style.encode(text)

    # -- kept files --------------------------------------------------------------------

    def _surviving_lists(self) -> Iterable[str]:
        """Association lists whose owner stays: rewritten even when they lose every link
        apimsync manages (the ones it does not manage stay in them)."""
        present = {self.layout.homes.get(r.id) for r in self.configuration}
        for path, artifact in self.layout.artifacts.items():
            if artifact.at.part in _LIST_OWNERS:
                owner = posixpath.join(posixpath.dirname(path), _LIST_OWNERS[artifact.at.part])
                if owner in present:
                    yield path

    def _kept_files(self) -> Iterable[str]:
        """Files kept as they are: the ones no resource owns, unless they sit in the
        folder of a resource that is gone."""
        gone = [
            posixpath.dirname(path) + "/"
            for rid, path in self.layout.homes.items()
            if rid not in self.configuration
            and path.endswith("Information.json")
            and self.layout.artifacts[path].at.part in _FOLDER_PARTS
        ]
        for path in self.layout.passthrough_files():
            if not any(path.startswith(folder) for folder in gone):
                yield path
        for path, artifact in self.layout.artifacts.items():
            if not artifact.resource_ids and not any(path.startswith(f) for f in gone):
                yield path


_ARRAY_FILES = ("/apis.json", "/groups.json", "/tags.json")
_LIST_OWNERS: Mapping[Part, str] = {
    Part.PRODUCT_APIS: "productInformation.json",
    Part.PRODUCT_GROUPS: "productInformation.json",
    Part.PRODUCT_TAGS: "productInformation.json",
    Part.API_TAGS: "apiInformation.json",
}

_FOLDER_PARTS = frozenset(
    {Part.API, Part.PRODUCT, Part.TAG, Part.GROUP, Part.BACKEND, Part.LOGGER, Part.FRAGMENT}
)

_LINK_TARGET_KEYS: Mapping[Kind, str] = {
    Kind.PRODUCT_API_LINK: "apiId",
    Kind.PRODUCT_GROUP_LINK: "groupId",
    Kind.TAG_API_LINK: "apiId",
    Kind.TAG_PRODUCT_LINK: "productId",
}


def _link_target(link: Resource) -> str:
    return api_id_without_revision(str(link.properties.get(_LINK_TARGET_KEYS[link.kind], "")))


def _entry_name(link: Resource | None) -> str | None:
    """The name an association array lists ``link`` by: the target for a product's
    ``apis.json``/``groups.json``, the tag for an API's or product's ``tags.json``."""
    if link is None:
        return None
    if link.kind in (Kind.TAG_API_LINK, Kind.TAG_PRODUCT_LINK):
        return last_segment(link.parent or "")
    return last_segment(_link_target(link))


def _document(schema: Resource) -> dict[str, Any]:
    """A schema's document as an object (one held as JSON text, parsed)."""
    document: Any = thaw(schema.properties.get("document") or {})
    value = document.get("value") if isinstance(document, dict) else None
    if isinstance(value, str) and set(document) == {"value"}:
        try:
            parsed = json.loads(value)
        except ValueError:
            return dict(document)
        if isinstance(parsed, dict):
            return parsed
    return dict(document) if isinstance(document, dict) else {}


def _extension(form: str, spec: Specification | None) -> str:
    """The file extension a specification in ``form`` is written with (a Swagger 2 YAML
    file, imported as JSON, stays YAML only while its text is kept)."""
    if spec is not None and spec.format == form and spec.extension in ("yaml", "json"):
        return spec.extension if form != specs.SWAGGER_JSON else "json"
    return specs.EXTENSION_OF_FORMAT[form]


def _schema_ids(value: Any) -> Iterable[str]:
    """Every ``schemaId`` an operation's properties name."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "schemaId" and isinstance(item, str):
                yield item
            else:
                yield from _schema_ids(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _schema_ids(item)


def _is_graphql(resource: Resource) -> bool:
    return (
        resource.kind is Kind.API_SCHEMA
        and resource.properties.get("contentType") == specs.GRAPHQL_CONTENT_TYPE
    )


def _secret_without_value(resource: Resource) -> bool:
    properties = resource.properties
    return (
        bool(properties.get("secret"))
        and "value" not in properties
        and not properties.get("keyVault")
    )


def _remove_empty_folders(base: Path) -> None:
    """Remove the empty folders below ``base``, never looking into hidden ones (``.git``)."""
    if not base.is_dir() or base.is_symlink():
        return
    folders: list[Path] = []
    for folder, dirs, _files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        folders.append(Path(folder))
    for path in sorted(folders, key=lambda p: -len(p.parts)):
        if path != base and not any(path.iterdir()):
            path.rmdir()
