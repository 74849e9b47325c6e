"""What the APIOps reader remembers about the files, for the writer and the validator.

The model knows nothing of files. An :class:`ApiopsLayout` maps every recognised file
(an :class:`Artifact`) to the resources it holds, keeps the files' bytes and parsed
documents, each API's specification file, and how the tree spells links (which
generation wrote it), so that writing the same model back reproduces every byte and a
changed resource rewrites only its own files, in their own style.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from apimsync.formats.apiops.jsonstyle import Escaping
from apimsync.formats.apiops.paths import ArtifactPath, Naming, Part
from apimsync.formats.files import SourceFile, locate
from apimsync.formats.layouts import Location
from apimsync.model import Configuration, Kind, Resource, kind_of, parent_id

_EMPTY: Mapping[str, Any] = MappingProxyType({})

BUILT_IN_GROUPS = frozenset({"/groups/administrators", "/groups/developers", "/groups/guests"})
"""The groups every instance has (ids case-folded)."""


class LinkStyle(enum.Enum):
    """How a tree writes one kind of link."""

    FOLDER = "folder"
    """v6/v7: one folder per link (``products/p/apis/a/productApiInformation.json``)."""
    ARRAY = "array"
    """v2 to v5 and apiops-cli: ``products/p/apis.json`` = ``[{"name": "a"}]``."""
    TAG_FOLDER = "tag-folder"
    """v7: tag links live under the tag (``tags/t/apis/a/tagApiInformation.json``)."""
    API_FOLDER = "api-folder"
    """v6 and apiops-cli: under the API (``apis/a/tags/t/apiTagInformation.json``)."""


@dataclass(frozen=True)
class LinkStyles:
    product_apis: LinkStyle = LinkStyle.FOLDER
    product_groups: LinkStyle = LinkStyle.FOLDER
    api_tags: LinkStyle = LinkStyle.TAG_FOLDER
    product_tags: LinkStyle = LinkStyle.TAG_FOLDER
    link_documents: bool = False
    """True where product/tag API links hold ``{"name", "properties"}`` (v7 betas)."""
    group_documents: bool = True
    """True where product-group links hold ``{"name", "properties"}`` (v7; v6 wrote ``{}``)."""


def default_styles(flavour: str | None) -> LinkStyles:
    """How a flavour writes links in a tree that holds none yet."""
    if flavour == "cli":
        return LinkStyles(
            product_apis=LinkStyle.ARRAY,
            product_groups=LinkStyle.ARRAY,
            api_tags=LinkStyle.API_FOLDER,
            product_tags=LinkStyle.ARRAY,
        )
    return LinkStyles()


def default_escaping(flavour: str | None) -> Escaping:
    return Escaping.JAVASCRIPT if flavour == "cli" else Escaping.DOTNET


@dataclass(frozen=True)
class Artifact:
    """One recognised file: what it is, its parsed JSON and the resources it holds."""

    path: str
    at: ArtifactPath
    document: Any
    resource_ids: tuple[str, ...]


@dataclass(frozen=True)
class Specification:
    """An API's specification file as read."""

    api_id: str
    path: str
    extension: str
    format: str | None
    """The ARM import format the file is sent in; None for GraphQL (a schema)."""
    value: str
    """What the API's ``value`` (or the GraphQL schema's document) was read as."""
    derived: frozenset[str] = frozenset()
    """Ids of the operations (and schema) the specification defines, as they were derived."""
    filled: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """API properties the document decided because the API's file did not say them."""


@dataclass(frozen=True)
class ApiopsLayout:
    location: Location
    files: Mapping[str, SourceFile] = field(default_factory=lambda: _EMPTY)
    artifacts: Mapping[str, Artifact] = field(default_factory=lambda: _EMPTY)
    original: Configuration = field(default_factory=Configuration)
    policy_files: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    homes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Resource id -> the file that defines it (its information file, policy or spec)."""
    specifications: Mapping[str, Specification] = field(default_factory=lambda: _EMPTY)
    styles: LinkStyles = field(default_factory=LinkStyles)
    escaping: Escaping = Escaping.DOTNET

    @property
    def naming(self) -> Naming:
        return Naming(self.location.flavour or "v7")

    @property
    def prefix(self) -> str:
        return self.location.prefix()

    def passthrough_files(self) -> list[str]:
        """Files no artifact owns (subscriptions, gateways, unknown files): kept as is."""
        return sorted(path for path in self.files if path not in self.artifacts)

    def locate(self, resource: Resource, pointer: str) -> tuple[str, int, int]:
        path = self._home(resource.id)
        if path is None:
            return self.prefix.rstrip("/") or ".", 1, 1
        artifact = self.artifacts.get(path)
        if artifact is None or not path.endswith(".json"):
            return path, 1, 1
        line, column = locate(self.files.get(path), "/properties" + pointer)
        return path, line, column

    def _home(self, resource_id: str) -> str | None:
        current: str | None = resource_id
        while current is not None:
            if current in self.homes:
                return self.homes[current]
            current = parent_id(current)
        return None

    def resources_in(self, path: str) -> list[str]:
        artifact = self.artifacts.get(path)
        return sorted(artifact.resource_ids) if artifact else []

    def home_of(self, kind: Kind) -> str:
        part = _TOP_PART.get(kind)
        if part is None:
            return self.prefix or "./"
        return f"{self.prefix}{self.naming.collection(part)}/"

    def schema_kind(self, path: str) -> str | None:
        artifact = self.artifacts.get(path)
        if artifact is None or not path.endswith(".json"):
            return None
        schema = _SCHEMAS.get(artifact.at.part)
        return f"apiops/{schema}" if schema else None

    def artifact_of(self, resource_id: str) -> Artifact | None:
        path = self.homes.get(resource_id)
        return self.artifacts.get(path) if path else None


def is_link(resource_id: str) -> bool:
    return kind_of(resource_id) in _LINK_KINDS


_LINK_KINDS = frozenset(
    {
        Kind.PRODUCT_API_LINK,
        Kind.PRODUCT_GROUP_LINK,
        Kind.TAG_API_LINK,
        Kind.TAG_PRODUCT_LINK,
        Kind.TAG_OPERATION_LINK,
    }
)

_TOP_PART: Mapping[Kind, Part] = MappingProxyType(
    {
        Kind.API: Part.API,
        Kind.PRODUCT: Part.PRODUCT,
        Kind.TAG: Part.TAG,
        Kind.NAMED_VALUE: Part.NAMED_VALUE,
        Kind.BACKEND: Part.BACKEND,
        Kind.LOGGER: Part.LOGGER,
        Kind.DIAGNOSTIC: Part.DIAGNOSTIC,
        Kind.API_VERSION_SET: Part.VERSION_SET,
        Kind.GROUP: Part.GROUP,
        Kind.POLICY_FRAGMENT: Part.FRAGMENT,
    }
)

_SCHEMAS: Mapping[Part, str] = MappingProxyType(
    {
        Part.API: "api",
        Part.OPERATION: "operation",
        Part.PRODUCT: "product",
        Part.TAG: "tag",
        Part.NAMED_VALUE: "named-value",
        Part.BACKEND: "backend",
        Part.LOGGER: "logger",
        Part.DIAGNOSTIC: "diagnostic",
        Part.API_DIAGNOSTIC: "diagnostic",
        Part.VERSION_SET: "version-set",
        Part.GROUP: "group",
        Part.FRAGMENT: "policy-fragment",
        Part.API_RELEASE: "api-release",
        Part.API_SCHEMA: "api-schema",
        Part.PRODUCT_API: "link",
        Part.PRODUCT_GROUP: "link",
        Part.PRODUCT_TAG: "link",
        Part.TAG_API: "link",
        Part.TAG_PRODUCT: "link",
        Part.API_TAG: "link",
        Part.API_TAGS: "association",
        Part.PRODUCT_APIS: "association",
        Part.PRODUCT_GROUPS: "association",
        Part.PRODUCT_TAGS: "association",
    }
)
