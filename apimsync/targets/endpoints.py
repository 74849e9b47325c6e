"""Where each kind of resource lives in the SDK: one row per id shape, no if-chains.

:data:`ENDPOINTS` maps an id's shape (:func:`~apimsync.targets.armids.shape_of`:
``apis/operations`` for ``/apis/a/operations/o``) to the ``ApiManagementClient`` operation
group that serves it, the methods that list, read, write and delete it, whether those are
long-running, whether writes take ``If-Match``, and how the reader finds it (listed at the
service, per owner, or one GET each). Every SDK method is called as
``method(resource_group, service, *names_in_the_id, ...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from apimsync.model import Kind
from apimsync.targets.armids import shape_of

RAWXML: Mapping[str, Any] = MappingProxyType({"format": "rawxml"})


@dataclass(frozen=True)
class Endpoint:
    kind: Kind
    group: str
    """The attribute of ``ApiManagementClient`` (``api_operation``)."""
    list: str | None = None
    """The method listing the collection; None: read with ``get`` (policies, portal)."""
    owner: str | None = None
    """The shape of the owner whose collection is listed (``apis``); None: the service."""
    create: str = "create_or_update"
    delete: str | None = "delete"
    entity_tag: str = "get_entity_tag"
    """The method answering ``HEAD`` with the resource's ETag (tags call it otherwise)."""
    lro: bool = False
    """Whether ``create`` is long-running (``begin_...``)."""
    lro_delete: bool = False
    etags: bool = True
    """Whether writes take ``If-Match`` (links have no ETag)."""
    per_revision: bool = True
    """Listed for every API revision (False: once per API, like releases)."""
    needs: Kind | None = None
    """Listed only when the instance has resources of this kind (diagnostics need loggers)."""
    list_options: Mapping[str, Any] = field(default_factory=dict)
    get_options: Mapping[str, Any] = field(default_factory=dict)
    delete_options: Mapping[str, Any] = field(default_factory=dict)
    top: bool = True
    """Whether the list takes ``top`` (the page size)."""


def _policy(group: str) -> Endpoint:
    return Endpoint(Kind.POLICY, group, get_options=RAWXML)


def _link(kind: Kind, group: str, owner: str) -> Endpoint:
    return Endpoint(kind, group, "list_by_product", owner, etags=False)


ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {
        "policies": _policy("policy"),
        "apis/policies": _policy("api_policy"),
        "apis/operations/policies": _policy("api_operation_policy"),
        "products/policies": _policy("product_policy"),
        "apis": Endpoint(
            Kind.API,
            "api",
            "list_by_service",
            create="begin_create_or_update",
            delete="begin_delete",
            lro=True,
            lro_delete=True,
        ),
        "apis/operations": Endpoint(Kind.OPERATION, "api_operation", "list_by_api", "apis"),
        "apis/schemas": Endpoint(
            Kind.API_SCHEMA,
            "api_schema",
            "list_by_api",
            "apis",
            create="begin_create_or_update",
            lro=True,
        ),
        "apis/releases": Endpoint(
            Kind.API_RELEASE, "api_release", "list_by_service", "apis", per_revision=False
        ),
        "apis/diagnostics": Endpoint(
            Kind.DIAGNOSTIC, "api_diagnostic", "list_by_service", "apis", needs=Kind.LOGGER
        ),
        "apiVersionSets": Endpoint(Kind.API_VERSION_SET, "api_version_set", "list_by_service"),
        "backends": Endpoint(Kind.BACKEND, "backend", "list_by_service"),
        "products": Endpoint(
            Kind.PRODUCT,
            "product",
            "list_by_service",
            delete_options=MappingProxyType({"delete_subscriptions": True}),
        ),
        "products/apiLinks": _link(Kind.PRODUCT_API_LINK, "product_api_link", "products"),
        "products/groupLinks": _link(Kind.PRODUCT_GROUP_LINK, "product_group_link", "products"),
        "groups": Endpoint(Kind.GROUP, "group", "list_by_service"),
        "tags": Endpoint(Kind.TAG, "tag", "list_by_service", entity_tag="get_entity_state"),
        "tags/apiLinks": _link(Kind.TAG_API_LINK, "tag_api_link", "tags"),
        "tags/operationLinks": _link(Kind.TAG_OPERATION_LINK, "tag_operation_link", "tags"),
        "tags/productLinks": _link(Kind.TAG_PRODUCT_LINK, "tag_product_link", "tags"),
        "namedValues": Endpoint(
            Kind.NAMED_VALUE,
            "named_value",
            "list_by_service",
            create="begin_create_or_update",
            lro=True,
        ),
        "policyFragments": Endpoint(
            Kind.POLICY_FRAGMENT,
            "policy_fragment",
            "list_by_service",
            create="begin_create_or_update",
            lro=True,
            list_options=MappingProxyType({"params": RAWXML}),
            get_options=RAWXML,
        ),
        "loggers": Endpoint(Kind.LOGGER, "logger", "list_by_service"),
        "diagnostics": Endpoint(
            Kind.DIAGNOSTIC, "diagnostic", "list_by_service", needs=Kind.LOGGER
        ),
        "portalsettings/signup": Endpoint(Kind.PORTAL_SIGNUP, "sign_up_settings", delete=None),
        "portalsettings/delegation": Endpoint(
            Kind.PORTAL_DELEGATION, "delegation_settings", delete=None
        ),
    }
)

SINGLETONS: tuple[str, ...] = ("/portalsettings/signup", "/portalsettings/delegation")
"""Resources every instance has, read with one GET each."""

BUILT_IN_GROUPS = frozenset({"/groups/administrators", "/groups/developers", "/groups/guests"})


_BY_FOLDED_SHAPE: Mapping[str, Endpoint] = MappingProxyType(
    {shape.casefold(): endpoint for shape, endpoint in ENDPOINTS.items()}
)


def endpoint_of(resource_id: str) -> Endpoint:
    """The endpoint serving ``resource_id``; KeyError for an id of no modelled kind."""
    return _BY_FOLDED_SHAPE[shape_of(resource_id).casefold()]


def listed_by(owner_shape: str | None) -> list[tuple[str, Endpoint]]:
    """The (shape, endpoint) pairs listed per resource of ``owner_shape`` (None: service)."""
    return [
        (shape, endpoint)
        for shape, endpoint in ENDPOINTS.items()
        if endpoint.list is not None and endpoint.owner == owner_shape
    ]


def is_built_in(resource_id: str) -> bool:
    """Built-in groups and portal settings: changed, never created or deleted."""
    return resource_id.casefold() in BUILT_IN_GROUPS or resource_id in SINGLETONS
