"""The one typed model of APIM configuration.

A :class:`Resource` is identified by its ARM id relative to the service
(``/apis/open-ai/operations/post-query``) and carries the ``properties`` object of the
ARM contract (api-version 2024-05-01), frozen. Ids that one resource holds of another
(``apiVersionSetId``, a link's ``apiId``) are service-relative too; targets expand them.

Readers build a :class:`Configuration`; writers, the validator, the differ and the
appliers all take one. Nothing here knows about files or the SDK.
"""

from __future__ import annotations

import enum
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

from apimsync.errors import ModelError
from apimsync.jsonvalue import FrozenMap, freeze, thaw


class Kind(enum.Enum):
    """Resource kinds; the value is the label used in messages and plans."""

    PORTAL_SIGNUP = "portal-signup"
    PORTAL_DELEGATION = "portal-delegation"
    POLICY = "policy"
    API = "api"
    OPERATION = "operation"
    API_SCHEMA = "api-schema"
    API_RELEASE = "api-release"
    API_VERSION_SET = "api-version-set"
    BACKEND = "backend"
    PRODUCT = "product"
    PRODUCT_API_LINK = "product-api-link"
    PRODUCT_GROUP_LINK = "product-group-link"
    GROUP = "group"
    TAG = "tag"
    TAG_API_LINK = "tag-api-link"
    TAG_OPERATION_LINK = "tag-operation-link"
    TAG_PRODUCT_LINK = "tag-product-link"
    NAMED_VALUE = "named-value"
    POLICY_FRAGMENT = "policy-fragment"
    LOGGER = "logger"
    DIAGNOSTIC = "diagnostic"

    @property
    def label(self) -> str:
        return self.value


_SEGMENT = r"[^/]+"
_ID_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(f"^{pattern}$"))
    for kind, pattern in (
        (Kind.PORTAL_SIGNUP, r"/portalsettings/signup"),
        (Kind.PORTAL_DELEGATION, r"/portalsettings/delegation"),
        (Kind.POLICY, r"(/(apis|products)/S(/operations/S)?)?/policies/policy"),
        (Kind.API, r"/apis/S"),
        (Kind.OPERATION, r"/apis/S/operations/S"),
        (Kind.API_SCHEMA, r"/apis/S/schemas/S"),
        (Kind.API_RELEASE, r"/apis/S/releases/S"),
        (Kind.API_VERSION_SET, r"/apiVersionSets/S"),
        (Kind.BACKEND, r"/backends/S"),
        (Kind.PRODUCT, r"/products/S"),
        (Kind.PRODUCT_API_LINK, r"/products/S/apiLinks/S"),
        (Kind.PRODUCT_GROUP_LINK, r"/products/S/groupLinks/S"),
        (Kind.GROUP, r"/groups/S"),
        (Kind.TAG, r"/tags/S"),
        (Kind.TAG_API_LINK, r"/tags/S/apiLinks/S"),
        (Kind.TAG_OPERATION_LINK, r"/tags/S/operationLinks/S"),
        (Kind.TAG_PRODUCT_LINK, r"/tags/S/productLinks/S"),
        (Kind.NAMED_VALUE, r"/namedValues/S"),
        (Kind.POLICY_FRAGMENT, r"/policyFragments/S"),
        (Kind.LOGGER, r"/loggers/S"),
        (Kind.DIAGNOSTIC, r"(/apis/S)?/diagnostics/S"),
    )
    for pattern in [pattern.replace("S", _SEGMENT)]
)

GLOBAL_POLICY_ID = "/policies/policy"


@lru_cache(maxsize=1 << 16)  # asked many times per resource, each time ~20 patterns
def kind_of(resource_id: str) -> Kind:
    """The kind of resource an id names; :class:`ModelError` if it names none."""
    for kind, pattern in _ID_PATTERNS:
        if pattern.match(resource_id):
            return kind
    raise ModelError(f"'{resource_id}' is not the id of an API Management resource")


def parent_id(resource_id: str) -> str | None:
    """The id of the resource this one belongs to (``None`` for top-level resources)."""
    parts = resource_id.split("/")
    return "/".join(parts[:-2]) or None


def last_segment(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def policy_id_of(owner_id: str | None) -> str:
    """The id of the policy document attached to ``owner_id`` (``None``: the global one)."""
    return f"{owner_id or ''}/policies/policy"


REVISION_MARK = ";rev="
"""Joins an API's name and a revision number in the id of a non-current revision."""


def api_id_without_revision(api_id: str) -> str:
    """The API an id belongs to: ``/apis/x;rev=2/operations/op`` -> ``/apis/x``."""
    return api_id.split(REVISION_MARK, 1)[0]


def revision_of(resource_id: str) -> str | None:
    """The revision a non-current revision's id (or its child's) names, else None.

    ``/apis/x;rev=2`` and ``/apis/x;rev=2/operations/op`` -> ``"2"``; ``/apis/x`` (the
    current revision, whatever its number) -> None.
    """
    _, mark, rest = resource_id.partition(REVISION_MARK)
    return rest.split("/", 1)[0] if mark else None


def revision_api_id(api_id: str, revision: str) -> str:
    """The id of revision ``revision`` of the API ``api_id`` as a non-current revision."""
    return f"{api_id_without_revision(api_id)}{REVISION_MARK}{revision}"


def revision_number(api: Resource) -> str:
    """Which revision an API resource is: its ``apiRevision``, else the one its id names,
    else "1" (APIM's first revision; the oldest exports do not say)."""
    declared = api.properties.get("apiRevision")
    if isinstance(declared, str) and declared:
        return declared
    return revision_of(api.id) or "1"


@dataclass(frozen=True)
class Resource:
    """One APIM resource: its service-relative ARM id and its ARM ``properties``."""

    kind: ClassVar[Kind]
    id: str
    properties: FrozenMap = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        if not isinstance(self.properties, FrozenMap):
            object.__setattr__(self, "properties", freeze(self.properties))
        actual = kind_of(self.id)
        if actual is not self.kind:
            raise ModelError(f"'{self.id}' names a {actual.label}, not a {self.kind.label}")

    @property
    def name(self) -> str:
        return last_segment(self.id)

    @property
    def parent(self) -> str | None:
        return parent_id(self.id)

    def get(self, key: str, default: Any = None) -> Any:
        return self.properties.get(key, default)

    def with_properties(self, **changes: Any) -> Resource:
        """A copy with the given properties set; a value of ``None`` removes the key."""
        data = thaw(self.properties)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return type(self)(self.id, freeze(data))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "properties": thaw(self.properties)}


@dataclass(frozen=True)
class PortalSignupSettings(Resource):
    kind = Kind.PORTAL_SIGNUP


@dataclass(frozen=True)
class PortalDelegationSettings(Resource):
    kind = Kind.PORTAL_DELEGATION


@dataclass(frozen=True)
class Policy(Resource):
    """A policy document; ``properties`` is ``{"format": "rawxml", "value": <xml>}``."""

    kind = Kind.POLICY

    @property
    def xml(self) -> str:
        return str(self.properties.get("value", ""))

    @property
    def owner(self) -> str | None:
        """The id of the API, operation or product the policy belongs to; None if global."""
        return self.parent


@dataclass(frozen=True)
class Api(Resource):
    kind = Kind.API

    @property
    def path(self) -> str:
        return str(self.properties.get("path", ""))

    @property
    def display_name(self) -> str:
        return str(self.properties.get("displayName", ""))


@dataclass(frozen=True)
class Operation(Resource):
    kind = Kind.OPERATION

    @property
    def url_template(self) -> str:
        return str(self.properties.get("urlTemplate", ""))


@dataclass(frozen=True)
class ApiSchema(Resource):
    kind = Kind.API_SCHEMA


@dataclass(frozen=True)
class ApiRelease(Resource):
    kind = Kind.API_RELEASE


@dataclass(frozen=True)
class ApiVersionSet(Resource):
    kind = Kind.API_VERSION_SET


@dataclass(frozen=True)
class Backend(Resource):
    """A backend: a single service (``url``) or a pool (``type: Pool`` with ``pool.services``)."""

    kind = Kind.BACKEND

    @property
    def is_pool(self) -> bool:
        return bool(self.properties.get("type") == "Pool")


@dataclass(frozen=True)
class Product(Resource):
    kind = Kind.PRODUCT


@dataclass(frozen=True)
class ProductApiLink(Resource):
    """``properties.apiId`` names the linked API."""

    kind = Kind.PRODUCT_API_LINK


@dataclass(frozen=True)
class ProductGroupLink(Resource):
    """``properties.groupId`` names the linked group."""

    kind = Kind.PRODUCT_GROUP_LINK


@dataclass(frozen=True)
class Group(Resource):
    kind = Kind.GROUP


@dataclass(frozen=True)
class Tag(Resource):
    kind = Kind.TAG


@dataclass(frozen=True)
class TagApiLink(Resource):
    kind = Kind.TAG_API_LINK


@dataclass(frozen=True)
class TagOperationLink(Resource):
    kind = Kind.TAG_OPERATION_LINK


@dataclass(frozen=True)
class TagProductLink(Resource):
    kind = Kind.TAG_PRODUCT_LINK


@dataclass(frozen=True)
class NamedValue(Resource):
    """Plain (``value``), secret (``secret: true``, value supplied at deploy time) or Key
    Vault (``keyVault.secretIdentifier``). A secret's value never enters the model from files."""

    kind = Kind.NAMED_VALUE

    @property
    def display_name(self) -> str:
        return str(self.properties.get("displayName", self.name))

    @property
    def is_secret(self) -> bool:
        return bool(self.properties.get("secret"))


@dataclass(frozen=True)
class PolicyFragment(Resource):
    kind = Kind.POLICY_FRAGMENT


@dataclass(frozen=True)
class Logger(Resource):
    kind = Kind.LOGGER


@dataclass(frozen=True)
class Diagnostic(Resource):
    kind = Kind.DIAGNOSTIC


RESOURCE_CLASSES: Mapping[Kind, type[Resource]] = MappingProxyType(
    {cls.kind: cls for cls in Resource.__subclasses__()}
)


def make_resource(resource_id: str, properties: Mapping[str, Any]) -> Resource:
    """Build the right :class:`Resource` subclass for ``resource_id``."""
    return RESOURCE_CLASSES[kind_of(resource_id)](resource_id, freeze(properties))


class Configuration:
    """An immutable set of resources keyed by id: the state of one APIM instance.

    Lookups by kind and by owner are indexed on first use (a plan of 500 APIs asks for
    each API's children and revisions: scanning every resource each time was quadratic)."""

    __slots__ = ("_by_kind", "_positions", "_resources", "_sorted_ids")

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        by_id: dict[str, Resource] = {}
        for resource in resources:
            if resource.id in by_id:
                raise ModelError(f"two resources share the id '{resource.id}'")
            by_id[resource.id] = resource
        self._resources: Mapping[str, Resource] = MappingProxyType(by_id)
        self._by_kind: dict[Kind, tuple[Resource, ...]] | None = None
        self._sorted_ids: tuple[str, ...] | None = None
        self._positions: dict[str, int] | None = None

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._resources.values())

    def __len__(self) -> int:
        return len(self._resources)

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self._resources

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configuration):
            return NotImplemented
        return dict(self._resources) == dict(other._resources)

    def __hash__(self) -> int:
        return hash(frozenset(self._resources.values()))

    def get(self, resource_id: str) -> Resource | None:
        return self._resources.get(resource_id)

    def ids(self) -> frozenset[str]:
        return frozenset(self._resources)

    def of_kind(self, *kinds: Kind) -> list[Resource]:
        """The resources of ``kinds``, in the order they were given."""
        if self._by_kind is None:
            grouped: dict[Kind, list[Resource]] = {}
            for resource in self._resources.values():
                grouped.setdefault(resource.kind, []).append(resource)
            self._by_kind = {kind: tuple(found) for kind, found in grouped.items()}
        if len(kinds) == 1:
            return list(self._by_kind.get(kinds[0], ()))
        return [r for r in self._resources.values() if r.kind in kinds]

    def children(self, owner_id: str) -> list[Resource]:
        """Every resource below ``owner_id`` (operations, policies, links...), in the order
        they were given."""
        if self._sorted_ids is None:
            self._sorted_ids = tuple(sorted(self._resources))
        prefix = owner_id + "/"
        ids = self._sorted_ids
        start = end = bisect_left(ids, prefix)
        while end < len(ids) and ids[end].startswith(prefix):
            end += 1
        position = self._position()
        below = sorted(ids[start:end], key=position.__getitem__)
        return [self._resources[resource_id] for resource_id in below]

    def _position(self) -> Mapping[str, int]:
        if self._positions is None:
            self._positions = {resource_id: n for n, resource_id in enumerate(self._resources)}
        return self._positions

    def revisions(self, api_id: str) -> list[Resource]:
        """Every revision of the API ``api_id``: the current one first, then the others in
        revision order."""
        base = api_id_without_revision(api_id)
        found = [
            r
            for r in self.of_kind(Kind.API)
            if r.id == base or r.id.startswith(base + REVISION_MARK)
        ]
        return sorted(found, key=lambda r: (r.id != base, _numeric(revision_number(r))))

    def with_current_revision(self, api_id: str, revision: str) -> Configuration:
        """A copy where revision ``revision`` of the API is the current one: what APIM holds
        after a release of that revision. The revision that was current becomes
        ``<api>;rev=<its number>`` with its operations, schemas and policies; resources of the
        API itself (releases, diagnostics) stay where they are."""
        base = api_id_without_revision(api_id)
        current = self.get(base)
        if current is None or current.kind is not Kind.API:
            raise ModelError(f"there is no API '{base}'")
        old_number = revision_number(current)
        if old_number == revision:
            return self
        promoted = revision_api_id(base, revision)
        if promoted not in self._resources:
            raise ModelError(f"API '{base}' has no revision {revision}")
        return self._moved_revisions(base, {promoted: base})

    def with_current_demoted(self, api_id: str) -> Configuration:
        """A copy where the current revision of the API is ``<api>;rev=<its number>`` and
        no revision is current: what APIM holds once a revision that is not here yet is
        made and released (the plan then creates ``<api>`` as that revision)."""
        base = api_id_without_revision(api_id)
        if base not in self._resources:
            raise ModelError(f"there is no API '{base}'")
        return self._moved_revisions(base, {})

    def _moved_revisions(self, base: str, promotion: Mapping[str, str]) -> Configuration:
        current = self._resources[base]
        demoted = revision_api_id(base, revision_number(current))
        if demoted in self._resources:
            raise ModelError(f"'{demoted}' exists already, as does the current revision")
        moves = {base: demoted, **promotion}
        moved: list[Resource] = []
        for resource in self._resources.values():
            new_id = _moved_id(resource, moves)
            if new_id is not None:
                moved.append(_as_revision(resource, new_id, base))
            else:
                moved.append(resource)
        return Configuration(moved)

    def with_resources(self, *resources: Resource) -> Configuration:
        """A copy where each of ``resources`` is added or replaces the one with its id."""
        merged = dict(self._resources)
        for resource in resources:
            owner = resource.parent
            if owner is not None and owner not in merged:
                raise ModelError(f"'{resource.id}' belongs to '{owner}', which does not exist")
            merged[resource.id] = resource
        return Configuration(merged.values())

    def without(self, resource_id: str) -> Configuration:
        """A copy without the resource, its children, and the links that point at it."""
        if resource_id not in self._resources:
            raise ModelError(f"there is no resource '{resource_id}'")
        doomed = {resource_id} | {r.id for r in self.children(resource_id)}
        if kind_of(resource_id) is Kind.API and revision_of(resource_id) is None:
            # An API goes with all of its revisions, as in APIM.
            prefix = resource_id + REVISION_MARK
            doomed |= {r.id for r in self._resources.values() if r.id.startswith(prefix)}
        doomed |= {r.id for r in self._resources.values() if _links_into(r, doomed)}
        return Configuration(r for r in self._resources.values() if r.id not in doomed)


_REVISION_CHILD_KINDS = frozenset({Kind.OPERATION, Kind.API_SCHEMA, Kind.POLICY})


def _moved_id(resource: Resource, moves: Mapping[str, str]) -> str | None:
    """The id ``resource`` has once each API revision ``old`` of ``moves`` is ``new``."""
    if resource.id in moves:
        return moves[resource.id]
    if resource.kind not in _REVISION_CHILD_KINDS:
        return None
    for old, new in moves.items():
        if resource.id.startswith(old + "/"):
            return new + resource.id[len(old) :]
    return None


def _as_revision(resource: Resource, new_id: str, base: str) -> Resource:
    if resource.kind is not Kind.API:
        return make_resource(new_id, resource.properties)
    data = thaw(resource.properties)
    data["apiRevision"] = revision_number(resource)
    if new_id == base:
        data["isCurrent"] = True
    else:
        data.pop("isCurrent", None)
    return make_resource(new_id, data)


def _numeric(revision: str) -> tuple[int, str]:
    return (int(revision), "") if revision.isdigit() else (0, revision)


_LINK_TARGET_KEYS = ("apiId", "groupId", "operationId", "productId")


def _links_into(resource: Resource, targets: set[str]) -> bool:
    if resource.kind is Kind.API_RELEASE:
        return False
    return any(
        api_id_without_revision(str(resource.properties.get(key, ""))) in targets
        for key in _LINK_TARGET_KEYS
    )
