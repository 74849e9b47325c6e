"""Which artifact a file of an APIOps folder is, and where a resource's files go.

Paths are relative to the artifact folder and use ``/``. Every generation's file names
are recognised (v7, v6's per-link folders, v2 to v5's ``apis.json``-style arrays,
apiops-cli's camelCase folders and ``operationInformation.json``); new files are named
as the tree's flavour names them (:class:`Naming`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from apimsync.formats.layouts import Flavour


class Part(enum.Enum):
    """What one file of an artifact folder holds."""

    SERVICE_POLICY = "service-policy"
    API = "api"
    SPECIFICATION = "specification"
    API_POLICY = "api-policy"
    OPERATION = "operation"
    OPERATION_POLICY = "operation-policy"
    API_DIAGNOSTIC = "api-diagnostic"
    API_RELEASE = "api-release"
    API_SCHEMA = "api-schema"
    API_TAG = "api-tag"
    API_TAGS = "api-tags"
    PRODUCT = "product"
    PRODUCT_POLICY = "product-policy"
    PRODUCT_API = "product-api"
    PRODUCT_APIS = "product-apis"
    PRODUCT_GROUP = "product-group"
    PRODUCT_GROUPS = "product-groups"
    PRODUCT_TAG = "product-tag"
    PRODUCT_TAGS = "product-tags"
    TAG = "tag"
    TAG_API = "tag-api"
    TAG_PRODUCT = "tag-product"
    NAMED_VALUE = "named-value"
    BACKEND = "backend"
    LOGGER = "logger"
    DIAGNOSTIC = "diagnostic"
    VERSION_SET = "version-set"
    GROUP = "group"
    FRAGMENT = "policy-fragment"
    FRAGMENT_POLICY = "policy-fragment-policy"


ARRAY_PARTS = frozenset({Part.API_TAGS, Part.PRODUCT_APIS, Part.PRODUCT_GROUPS, Part.PRODUCT_TAGS})
"""Association files of v2 to v5 and apiops-cli: ``[{"name": "..."}]``."""

POLICY_PARTS = frozenset(
    {Part.SERVICE_POLICY, Part.API_POLICY, Part.OPERATION_POLICY, Part.PRODUCT_POLICY}
)

SPECIFICATION_EXTENSIONS = ("graphql", "wsdl", "wadl", "json", "yaml")
"""In the order the APIOps publisher tries them: the first that exists wins."""


@dataclass(frozen=True)
class ArtifactPath:
    """A recognised file: its part and the resource names along its path."""

    part: Part
    names: tuple[str, ...]
    """Owner first: ``("echo-api", "get-items")`` for an operation's policy."""
    extension: str = ""
    """For specifications: ``yaml``, ``json``, ``graphql``, ``wsdl`` or ``wadl``."""


# Collection folders: the toolkit's names (with spaces) and apiops-cli's (camelCase).
NAMED_VALUES = ("named values", "namedValues")
FRAGMENTS = ("policy fragments", "policyFragments")
VERSION_SETS = ("version sets", "versionSets")

_SIMPLE: Mapping[tuple[str, str], Part] = MappingProxyType(
    {
        ("apis", "apiInformation.json"): Part.API,
        ("apis", "policy.xml"): Part.API_POLICY,
        ("apis", "tags.json"): Part.API_TAGS,
        ("products", "productInformation.json"): Part.PRODUCT,
        ("products", "policy.xml"): Part.PRODUCT_POLICY,
        ("products", "apis.json"): Part.PRODUCT_APIS,
        ("products", "groups.json"): Part.PRODUCT_GROUPS,
        ("products", "tags.json"): Part.PRODUCT_TAGS,
        ("tags", "tagInformation.json"): Part.TAG,
        ("backends", "backendInformation.json"): Part.BACKEND,
        ("loggers", "loggerInformation.json"): Part.LOGGER,
        ("diagnostics", "diagnosticInformation.json"): Part.DIAGNOSTIC,
        ("groups", "groupInformation.json"): Part.GROUP,
        **{(folder, "namedValueInformation.json"): Part.NAMED_VALUE for folder in NAMED_VALUES},
        **{(folder, "policyFragmentInformation.json"): Part.FRAGMENT for folder in FRAGMENTS},
        **{(folder, "policy.xml"): Part.FRAGMENT_POLICY for folder in FRAGMENTS},
        **{(folder, "versionSetInformation.json"): Part.VERSION_SET for folder in VERSION_SETS},
        ("version sets", "apiVersionSetInformation.json"): Part.VERSION_SET,
    }
)

_NESTED: Mapping[tuple[str, str, str], Part] = MappingProxyType(
    {
        ("apis", "operations", "policy.xml"): Part.OPERATION_POLICY,
        ("apis", "operations", "operationInformation.json"): Part.OPERATION,
        ("apis", "diagnostics", "diagnosticInformation.json"): Part.API_DIAGNOSTIC,
        ("apis", "releases", "apiReleaseInformation.json"): Part.API_RELEASE,
        ("apis", "releases", "releaseInformation.json"): Part.API_RELEASE,
        ("apis", "schemas", "apiSchemaInformation.json"): Part.API_SCHEMA,
        ("apis", "schemas", "schemaInformation.json"): Part.API_SCHEMA,
        ("apis", "tags", "apiTagInformation.json"): Part.API_TAG,
        ("apis", "tags", "tagInformation.json"): Part.API_TAG,
        ("products", "apis", "productApiInformation.json"): Part.PRODUCT_API,
        ("products", "groups", "productGroupInformation.json"): Part.PRODUCT_GROUP,
        ("products", "tags", "productTagInformation.json"): Part.PRODUCT_TAG,
        ("tags", "apis", "tagApiInformation.json"): Part.TAG_API,
        ("tags", "products", "tagProductInformation.json"): Part.TAG_PRODUCT,
    }
)


def parse_path(relative: str) -> ArtifactPath | None:
    """The artifact a path (relative to the artifact folder) is; None for other files."""
    parts = relative.split("/")
    if parts == ["policy.xml"]:
        return ArtifactPath(Part.SERVICE_POLICY, ())
    if any(not part for part in parts):
        return None
    if len(parts) == 3:
        collection, name, file = parts
        if collection == "apis" and file.startswith("specification."):
            extension = file[len("specification.") :]
            if extension in SPECIFICATION_EXTENSIONS:
                return ArtifactPath(Part.SPECIFICATION, (name,), extension)
            return None
        part = _SIMPLE.get((collection, file))
        return ArtifactPath(part, (name,)) if part else None
    if len(parts) == 5:
        collection, name, sub, child, file = parts
        nested = _NESTED.get((collection, sub, file))
        return ArtifactPath(nested, (name, child)) if nested else None
    return None


def unmanaged_group(relative: str) -> str:
    """What a file no artifact claims belongs to, for the not-managed report: its
    top-level folder (``subscriptions``, ``gateways``...), or the file itself."""
    head, separator, _ = relative.partition("/")
    return head if separator else relative


@dataclass(frozen=True)
class Naming:
    """File names of new artifacts, by flavour: v7 (the toolkit) or cli (apiops-cli)."""

    flavour: Flavour

    @property
    def cli(self) -> bool:
        return self.flavour == "cli"

    def collection(self, part: Part) -> str:
        spaced = {
            Part.NAMED_VALUE: NAMED_VALUES,
            Part.FRAGMENT: FRAGMENTS,
            Part.FRAGMENT_POLICY: FRAGMENTS,
            Part.VERSION_SET: VERSION_SETS,
        }.get(part)
        if spaced is not None:
            return spaced[1] if self.cli else spaced[0]
        return {
            Part.API: "apis",
            Part.PRODUCT: "products",
            Part.TAG: "tags",
            Part.BACKEND: "backends",
            Part.LOGGER: "loggers",
            Part.DIAGNOSTIC: "diagnostics",
            Part.GROUP: "groups",
        }[part]

    def information(self, part: Part, name: str) -> str:
        """The information file of a top-level resource."""
        file = _TOP_FILES[part]
        return f"{self.collection(part)}/{name}/{file}"

    def fragment_policy(self, name: str) -> str:
        return f"{self.collection(Part.FRAGMENT)}/{name}/policy.xml"

    def child(self, part: Part) -> tuple[str, str]:
        """(sub-folder, file name) of a resource below an API, product or tag:
        ``("operations", "policy.xml")``."""
        _collection, sub, file = _NESTED_FILES[part]
        if self.cli and part in _CLI_FILES:
            file = _CLI_FILES[part]
        return sub, file


_TOP_FILES: Mapping[Part, str] = MappingProxyType(
    {
        Part.API: "apiInformation.json",
        Part.PRODUCT: "productInformation.json",
        Part.TAG: "tagInformation.json",
        Part.NAMED_VALUE: "namedValueInformation.json",
        Part.BACKEND: "backendInformation.json",
        Part.LOGGER: "loggerInformation.json",
        Part.DIAGNOSTIC: "diagnosticInformation.json",
        Part.VERSION_SET: "versionSetInformation.json",
        Part.GROUP: "groupInformation.json",
        Part.FRAGMENT: "policyFragmentInformation.json",
    }
)

_NESTED_FILES: Mapping[Part, tuple[str, str, str]] = MappingProxyType(
    {
        nested: (collection, sub, file)
        for (collection, sub, file), nested in reversed(list(_NESTED.items()))
    }
)
"""The first (toolkit) file name of each nested part."""

_CLI_FILES: Mapping[Part, str] = MappingProxyType(
    {
        Part.API_RELEASE: "releaseInformation.json",
        Part.API_SCHEMA: "schemaInformation.json",
        Part.API_TAG: "tagInformation.json",
    }
)
