"""Read an APIOps artifact folder into the model.

Folder names are ARM resource names (an information file that states a ``name``, as
apiops-cli writes them, names the resource instead). An API folder ``x;rev=2`` is the
non-current revision ``/apis/x;rev=2``; ``x`` is the current one. Links get the ids the
scm reader gives them (``/products/p/apiLinks/<api>``), so a tree converted between the
layouts plans empty. Problems become findings; reading never raises on bad files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from apimsync.errors import ModelError
from apimsync.formats.apiops import specs
from apimsync.formats.apiops.documents import (
    REDACTED,
    document_name,
    properties_of,
)
from apimsync.formats.apiops.jsonstyle import Escaping, escaping_of
from apimsync.formats.apiops.layout import (
    BUILT_IN_GROUPS,
    ApiopsLayout,
    Artifact,
    LinkStyle,
    LinkStyles,
    Specification,
)
from apimsync.formats.apiops.paths import (
    SPECIFICATION_EXTENSIONS,
    ArtifactPath,
    Part,
    parse_path,
    unmanaged_group,
)
from apimsync.formats.files import SourceFile, locate, read_files
from apimsync.formats.jsonpos import JsonSyntaxError, parse_json
from apimsync.formats.layouts import Location, ReadResult
from apimsync.model import (
    GLOBAL_POLICY_ID,
    Configuration,
    Kind,
    Resource,
    make_resource,
    policy_id_of,
)
from apimsync.validate.findings import Findings

_TOP_LEVEL: Mapping[Part, str] = MappingProxyType(
    {
        Part.NAMED_VALUE: "namedValues",
        Part.BACKEND: "backends",
        Part.LOGGER: "loggers",
        Part.VERSION_SET: "apiVersionSets",
        Part.GROUP: "groups",
        Part.FRAGMENT: "policyFragments",
        Part.API: "apis",
        Part.PRODUCT: "products",
        Part.TAG: "tags",
        Part.DIAGNOSTIC: "diagnostics",
    }
)
"""Top-level parts in the order they are read (what others name first)."""

_API_CHILDREN: Mapping[Part, str] = MappingProxyType(
    {Part.API_DIAGNOSTIC: "diagnostics", Part.API_RELEASE: "releases", Part.API_SCHEMA: "schemas"}
)


def read_tree(root: Path, location: Location) -> ReadResult:
    """Read the artifact folder ``location`` names below ``root``."""
    findings = Findings()
    files = read_files(root, findings, tops=(location.folder,))
    reader = _Reader(location, files, findings)
    reader.read_all()
    layout = ApiopsLayout(
        location=location,
        files=MappingProxyType(files),
        artifacts=MappingProxyType(reader.artifacts),
        original=Configuration(reader.resources.values()),
        policy_files=MappingProxyType(reader.policy_files),
        homes=MappingProxyType(reader.homes),
        specifications=MappingProxyType(reader.specifications),
        styles=reader.styles(),
        escaping=reader.escaping(),
    )
    return ReadResult(layout.original, layout, tuple(findings.sorted()))


class _Reader:
    def __init__(self, location: Location, files: dict[str, SourceFile], findings: Findings):
        self.location = location
        self.prefix = location.prefix()
        self.files = files
        self.findings = findings
        self.resources: dict[str, Resource] = {}
        self.by_identity: dict[str, str] = {}
        self.artifacts: dict[str, Artifact] = {}
        self.homes: dict[str, str] = {}
        self.policy_files: dict[str, str] = {}
        self.specifications: dict[str, Specification] = {}
        self.owners: dict[tuple[str, str], str] = {}
        """(collection, folder name) -> the id of the resource the folder holds."""
        self.parsed: dict[Part, list[tuple[str, ArtifactPath]]] = defaultdict(list)
        self.unclaimed: list[str] = []

    # -- driving -------------------------------------------------------------------

    def read_all(self) -> None:
        for path in sorted(self.files):
            at = parse_path(path[len(self.prefix) :]) if path.startswith(self.prefix) else None
            if at is None:
                self.unclaimed.append(path)
            else:
                self.parsed[at.part].append((path, at))
        for part, collection in _TOP_LEVEL.items():
            for path, at in self.parsed[part]:
                self._top_level(path, at, collection)
        self._service_policy()
        self._fragment_policies()
        self._operations()
        for _path, at in self.parsed[Part.API]:
            api_id = self.owners.get(("apis", at.names[0]))
            if api_id is not None:
                self._specification(api_id, at.names[0])
        self._orphan_specifications()
        for part in (Part.API_POLICY, Part.PRODUCT_POLICY, Part.OPERATION_POLICY):
            for path, at in self.parsed[part]:
                self._policy(path, at)
        for part, collection in _API_CHILDREN.items():
            for path, at in self.parsed[part]:
                self._api_child(path, at, collection)
        self._links()
        self._diagnostics_without_logger()
        self._not_managed()

    # -- resources ---------------------------------------------------------------------

    def _top_level(self, path: str, at: ArtifactPath, collection: str) -> None:
        document = self.json_document(path)
        properties = self._properties(path, document)
        if properties is None:
            return
        folder = at.names[0]
        name = document_name(document) or folder
        resource_id = f"/{collection}/{name}"
        if at.part is Part.NAMED_VALUE and properties.get("value") == REDACTED:
            del properties["value"]
        self.owners[(_folder_collection(at.part), folder)] = resource_id
        self._add(path, at, document, [(resource_id, properties)])

    def _add(
        self,
        path: str,
        at: ArtifactPath,
        document: Any,
        resources: Iterable[tuple[str, dict[str, Any]]],
    ) -> list[str]:
        kept: list[str] = []
        for resource_id, properties in resources:
            try:
                resource = make_resource(resource_id, properties)
            except ModelError as error:
                self.error(path, "", "invalid-id", f"{error}; rename the folder")
                continue
            first = self.by_identity.get(resource_id.casefold())
            if first is not None:
                where = self.homes.get(first, "another file")
                self.error(path, "", "duplicate-id", f"'{resource_id}' is also defined by {where}")
                continue
            self.resources[resource_id] = resource
            self.by_identity[resource_id.casefold()] = resource_id
            self.homes[resource_id] = path
            kept.append(resource_id)
        previous = self.artifacts.get(path)
        ids = (*previous.resource_ids, *kept) if previous else tuple(kept)
        self.artifacts[path] = Artifact(path, at, document, ids)
        return kept

    def _properties(self, path: str, document: Any) -> dict[str, Any] | None:
        if document is None:
            return None
        properties = properties_of(document)
        if properties is None:
            self.error(path, "/properties", "schema", 'holds no "properties" object; add one ({})')
        return properties

    def _service_policy(self) -> None:
        for path, at in self.parsed[Part.SERVICE_POLICY]:
            self._policy_resource(path, at, GLOBAL_POLICY_ID)

    def _fragment_policies(self) -> None:
        for path, at in self.parsed[Part.FRAGMENT_POLICY]:
            fragment_id = self.owners.get(("policy fragments", at.names[0]))
            fragment = self.resources.get(fragment_id) if fragment_id else None
            if fragment is None:
                self.warning(
                    path,
                    "apiops-orphan",
                    "is a fragment's policy without its policyFragmentInformation.json; "
                    "it is ignored (add the information file to deploy it)",
                )
                continue
            text = self.text(path)
            if text is None:
                continue
            self.resources[fragment.id] = fragment.with_properties(format="rawxml", value=text)
            self.policy_files[fragment.id] = path
            self.artifacts[path] = Artifact(path, at, None, (fragment.id,))

    def _policy(self, path: str, at: ArtifactPath) -> None:
        owner_collection = "products" if at.part is Part.PRODUCT_POLICY else "apis"
        owner = self.owners.get((owner_collection, at.names[0]))
        if owner is not None and at.part is Part.OPERATION_POLICY:
            owner = f"{owner}/operations/{at.names[1]}"
        if owner is None or owner not in self.resources:
            if at.part is Part.OPERATION_POLICY:
                what = f"operation '{at.names[1]}', which the API's specification does not define"
                fix = "add the operation to the specification or remove the policy"
            else:
                what = f"{owner_collection[:-1]} '{at.names[0]}', which this folder lacks"
                fix = "add its information file or remove the policy"
            self.error(path, "", "unknown-owner", f"is the policy of {what}; {fix}")
            return
        self._policy_resource(path, at, policy_id_of(owner))

    def _policy_resource(self, path: str, at: ArtifactPath, policy_id: str) -> None:
        text = self.text(path)
        if text is None:
            return
        self.policy_files[policy_id] = path
        self._add(path, at, None, [(policy_id, {"format": "rawxml", "value": text})])

    def _api_child(self, path: str, at: ArtifactPath, collection: str) -> None:
        api_id = self.owners.get(("apis", at.names[0]))
        document = self.json_document(path)
        properties = self._properties(path, document)
        if properties is None:
            return
        if api_id is None:
            self.error(path, "", "unknown-owner", "belongs to an API this folder lacks")
            return
        name = document_name(document) or at.names[1]
        self._add(path, at, document, [(f"{api_id}/{collection}/{name}", properties)])

    # -- specifications and operations -----------------------------------------------

    def _specification(self, api_id: str, folder: str) -> None:
        found = {
            at.extension: path
            for path, at in self.parsed[Part.SPECIFICATION]
            if at.names[0] == folder
        }
        chosen: tuple[str, str, specs.Imported] | None = None
        for extension in SPECIFICATION_EXTENSIONS:
            path = found.get(extension)
            if path is None:
                continue
            if chosen is not None:
                self.warning(
                    path,
                    "apiops-ignored",
                    f"is ignored: {chosen[0]} is this API's specification (APIOps reads "
                    f"{', '.join(SPECIFICATION_EXTENSIONS)} in this order); remove one of them",
                )
                continue
            imported = self._imported(path, extension)
            if imported is not None:
                chosen = (path, extension, imported)
        if chosen is None:
            return
        path, extension, imported = chosen
        api = self.resources[api_id]
        if imported.format is None:
            schema_id = f"{api_id}/schemas/{specs.GRAPHQL_SCHEMA}"
            properties = {
                "contentType": specs.GRAPHQL_CONTENT_TYPE,
                "document": {"value": imported.value},
            }
            at = parse_path_of(path, self.prefix)
            schema = self._add(path, at, None, [(schema_id, properties)])
            self.specifications[api_id] = Specification(
                api_id, path, extension, None, imported.value, frozenset(schema)
            )
            return
        try:
            derived = specs.derive(api_id, imported)
        except specs.SpecificationProblem as problem:
            self.error(path, "", "specification", f"{problem}; fix it or remove the file")
            return
        filled = {k: v for k, v in derived.api_properties.items() if k not in api.properties}
        self.resources[api_id] = api.with_properties(
            format=imported.format, value=imported.value, **filled
        )
        at = parse_path_of(path, self.prefix)
        # An operation apiops-cli also keeps in operationInformation.json is that file's.
        explicit = [rid for rid, _ in derived.resources if rid.casefold() in self.by_identity]
        fresh = [(rid, props) for rid, props in derived.resources if rid not in explicit]
        created = self._add(path, at, None, fresh)
        self.artifacts[path] = Artifact(path, at, None, (api_id, *created))
        self.specifications[api_id] = Specification(
            api_id,
            path,
            extension,
            imported.format,
            imported.value,
            frozenset([*created, *explicit]),
            MappingProxyType(filled),
        )

    def _imported(self, path: str, extension: str) -> specs.Imported | None:
        text = self.text(path)
        if text is None:
            return None
        try:
            return specs.read_specification(extension, text)
        except specs.SpecificationProblem as problem:
            self.error(path, "", "specification", f"{problem}; fix it or remove the file")
            return None

    def _orphan_specifications(self) -> None:
        apis = {at.names[0] for _, at in self.parsed[Part.API]}
        for path, at in self.parsed[Part.SPECIFICATION]:
            if at.names[0] not in apis:
                self.warning(
                    path,
                    "apiops-orphan",
                    "is a specification without its API's apiInformation.json, which APIOps "
                    "does not publish either; add apiInformation.json to deploy it",
                )

    def _operations(self) -> None:
        """apiops-cli's explicit operations (``operationInformation.json``)."""
        for path, at in self.parsed[Part.OPERATION]:
            self._api_child(path, at, "operations")

    # -- links -------------------------------------------------------------------------

    def _links(self) -> None:
        for path, at in self.parsed[Part.PRODUCT_API]:
            self._link_file(path, at, ("products", "apiLinks"), ("apis", "apiId"))
        for path, at in self.parsed[Part.PRODUCT_GROUP]:
            self._link_file(path, at, ("products", "groupLinks"), ("groups", "groupId"))
        for path, at in self.parsed[Part.TAG_API]:
            self._link_file(path, at, ("tags", "apiLinks"), ("apis", "apiId"))
        for path, at in self.parsed[Part.TAG_PRODUCT]:
            self._link_file(path, at, ("tags", "productLinks"), ("products", "productId"))
        for path, at in self.parsed[Part.API_TAG]:
            self._link_file(path, at, ("tags", "apiLinks"), ("apis", "apiId"), reverse=True)
        for path, at in self.parsed[Part.PRODUCT_TAG]:
            self._link_file(
                path, at, ("tags", "productLinks"), ("products", "productId"), reverse=True
            )
        arrays = {
            Part.PRODUCT_APIS: (("products", "apiLinks"), ("apis", "apiId"), False),
            Part.PRODUCT_GROUPS: (("products", "groupLinks"), ("groups", "groupId"), False),
            Part.API_TAGS: (("tags", "apiLinks"), ("apis", "apiId"), True),
            Part.PRODUCT_TAGS: (("tags", "productLinks"), ("products", "productId"), True),
        }
        for part, (owner, target, reverse) in arrays.items():
            for path, at in self.parsed[part]:
                self._link_array(path, at, owner, target, reverse)

    def _link_file(
        self,
        path: str,
        at: ArtifactPath,
        owner: tuple[str, str],
        target: tuple[str, str],
        reverse: bool = False,
    ) -> None:
        document = self.json_document(path)
        if document is None:
            return
        stated = properties_of(document) or {}
        folder_owner, folder_target = at.names if not reverse else at.names[::-1]
        target_id = stated.get(target[1])
        if not isinstance(target_id, str) or not target_id.startswith(f"/{target[0]}/"):
            target_id = self._resolve(target[0], folder_target)
        self._link(path, at, document, owner, target, folder_owner, target_id)

    def _link_array(
        self,
        path: str,
        at: ArtifactPath,
        owner: tuple[str, str],
        target: tuple[str, str],
        reverse: bool,
    ) -> None:
        document = self.json_document(path)
        if document is None:
            return
        if not isinstance(document, list):
            self.error(path, "", "schema", 'must be a list of {"name": "..."}')
            return
        self.artifacts[path] = Artifact(path, at, document, ())
        for index, entry in enumerate(document):
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name:
                self.error(path, f"/{index}", "schema", 'each entry must be {"name": "<name>"}')
                continue
            if reverse:  # apis/a/tags.json lists tags of a: owner is the tag
                folder_owner, target_id = name, self._resolve(target[0], at.names[0])
            else:
                folder_owner, target_id = at.names[0], self._resolve(target[0], name)
            self._link(path, at, document, owner, target, folder_owner, target_id, index)

    def _link(
        self,
        path: str,
        at: ArtifactPath,
        document: Any,
        owner: tuple[str, str],
        target: tuple[str, str],
        folder_owner: str,
        target_id: str,
        index: int | None = None,
    ) -> None:
        pointer = "" if index is None else f"/{index}"
        owner_id = self.owners.get((owner[0], folder_owner)) or self._resolve(
            owner[0], folder_owner
        )
        if owner_id not in self.resources:
            self._unmanaged_link(path, at, document, pointer, f"{owner[0][:-1]} '{folder_owner}'")
            return
        if target_id.casefold() not in self.by_identity and target_id not in BUILT_IN_GROUPS:
            self._unmanaged_link(path, at, document, pointer, f"'{target_id}'")
            return
        target_id = self.by_identity.get(target_id.casefold(), target_id)
        link_id = f"{owner_id}/{owner[1]}/{link_name(target_id)}"
        self._add(path, at, document, [(link_id, {target[1]: target_id})])

    def _unmanaged_link(
        self, path: str, at: ArtifactPath, document: Any, pointer: str, what: str
    ) -> None:
        """A link to something this folder lacks: it may exist on the instance (APIOps v2
        to v5 trees hold no groups, say), so it is kept as it is but not managed."""
        self.artifacts.setdefault(path, Artifact(path, at, document, ()))
        line, column = locate(self.files.get(path), pointer)
        self.findings.warning(
            path,
            line,
            column,
            "unknown-link",
            f"links {what}, which is not in this folder; apimsync keeps the link as it is "
            "but does not manage it (add the resource's folder to manage it)",
        )

    def _diagnostics_without_logger(self) -> None:
        """A diagnostic whose logger the folder lacks cannot be deployed from it (the logger
        may exist on the instance, or the extract was filtered): kept, not managed."""
        loggers = {rid.casefold() for rid in self.resources if rid.startswith("/loggers/")}
        for resource in list(self.resources.values()):
            logger = (
                resource.properties.get("loggerId") if resource.kind is Kind.DIAGNOSTIC else None
            )
            if not isinstance(logger, str) or logger.casefold() in loggers:
                continue
            path = self.homes.pop(resource.id)
            del self.resources[resource.id]
            del self.by_identity[resource.id.casefold()]
            artifact = self.artifacts[path]
            self.artifacts[path] = Artifact(path, artifact.at, artifact.document, ())
            line, column = locate(self.files.get(path), "/properties/loggerId")
            self.findings.warning(
                path,
                line,
                column,
                "unknown-logger",
                f"names logger '{logger}', which is not in {self.prefix}loggers/; apimsync keeps "
                "this diagnostic as it is but does not manage it (add the logger to manage it)",
            )

    def _resolve(self, collection: str, folder: str) -> str:
        return self.owners.get((collection, folder), f"/{collection}/{folder}")

    # -- reporting -----------------------------------------------------------------------

    def _not_managed(self) -> None:
        groups: dict[str, list[str]] = defaultdict(list)
        for path in self.unclaimed:
            groups[unmanaged_group(path[len(self.prefix) :])].append(path)
        for group, paths in sorted(groups.items()):
            count = len(paths)
            what = f"{count} file{'s' if count != 1 else ''} below {self.prefix}{group}/"
            if count == 1 and paths[0] == f"{self.prefix}{group}":
                what = "this file"
            self.warning(
                paths[0],
                "not-managed",
                f"apimsync does not manage {what}: kept as they are; validate, plan and "
                "deploy leave them alone",
            )

    def styles(self) -> LinkStyles:
        """How this tree writes links: each kind as the files already have it, else as
        the flavour writes it."""
        present = {part for part, items in self.parsed.items() if items}
        cli = self.location.flavour == "cli"

        def chosen(candidates: tuple[tuple[Part, LinkStyle], ...], default: LinkStyle) -> LinkStyle:
            return next((style for part, style in candidates if part in present), default)

        folder_or_array = LinkStyle.ARRAY if cli else LinkStyle.FOLDER
        return LinkStyles(
            product_apis=chosen(
                ((Part.PRODUCT_API, LinkStyle.FOLDER), (Part.PRODUCT_APIS, LinkStyle.ARRAY)),
                folder_or_array,
            ),
            product_groups=chosen(
                ((Part.PRODUCT_GROUP, LinkStyle.FOLDER), (Part.PRODUCT_GROUPS, LinkStyle.ARRAY)),
                folder_or_array,
            ),
            api_tags=chosen(
                (
                    (Part.TAG_API, LinkStyle.TAG_FOLDER),
                    (Part.API_TAG, LinkStyle.API_FOLDER),
                    (Part.API_TAGS, LinkStyle.ARRAY),
                ),
                LinkStyle.API_FOLDER if cli else LinkStyle.TAG_FOLDER,
            ),
            product_tags=chosen(
                (
                    (Part.TAG_PRODUCT, LinkStyle.TAG_FOLDER),
                    (Part.PRODUCT_TAG, LinkStyle.API_FOLDER),
                    (Part.PRODUCT_TAGS, LinkStyle.ARRAY),
                ),
                LinkStyle.ARRAY if cli else LinkStyle.TAG_FOLDER,
            ),
            link_documents=any(
                self._is_link_document(path)
                for part in (Part.PRODUCT_API, Part.TAG_API)
                for path, _ in self.parsed[part]
            ),
            group_documents=not any(
                not self._is_link_document(path) for path, _ in self.parsed[Part.PRODUCT_GROUP]
            ),
        )

    def _is_link_document(self, path: str) -> bool:
        artifact = self.artifacts.get(path)
        return (
            artifact is not None and isinstance(artifact.document, dict) and bool(artifact.document)
        )

    def escaping(self) -> Escaping:
        default = Escaping.JAVASCRIPT if self.location.flavour == "cli" else Escaping.DOTNET
        for path in self.artifacts:
            source = self.files.get(path)
            if path.endswith(".json") and source is not None and source.text is not None:
                found = escaping_of(source.text)
                if found is not None:
                    return found
        return default

    # -- files -----------------------------------------------------------------------

    def json_document(self, path: str) -> Any:
        source = self.files.get(path)
        if source is None or source.text is None:
            return None
        try:
            return parse_json(source.text.removeprefix("\ufeff"))
        except JsonSyntaxError as error:
            message = f"is not valid JSON: {error.message}"
            self.findings.error(path, error.line, error.column, "json-syntax", message)
            return None

    def text(self, path: str) -> str | None:
        source = self.files.get(path)
        return source.model_text if source is not None and source.text is not None else None

    def error(self, path: str, pointer: str, code: str, message: str) -> None:
        line, column = locate(self.files.get(path), pointer) if path.endswith(".json") else (1, 1)
        self.findings.error(path, line, column, code, message)

    def warning(self, path: str, code: str, message: str) -> None:
        self.findings.warning(path, 1, 1, code, message)


def _folder_collection(part: Part) -> str:
    """The collection key folders of ``part`` are remembered under."""
    return {
        Part.NAMED_VALUE: "named values",
        Part.FRAGMENT: "policy fragments",
        Part.VERSION_SET: "version sets",
    }.get(part, _TOP_LEVEL[part])


def link_name(target_id: str) -> str:
    """The name of a link to ``target_id``, as the scm reader names links: the target's
    name (``/apis/a`` -> ``a``)."""
    return "_".join(target_id.strip("/").split("/")[1::2])


def parse_path_of(path: str, prefix: str) -> ArtifactPath:
    at = parse_path(path[len(prefix) :])
    assert at is not None
    return at
