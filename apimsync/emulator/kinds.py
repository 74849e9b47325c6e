"""Resource kinds: where each lives, its spec operations, requirements and filters.

A :class:`Kind` describes one resource type of the management API as data: its
collection template (with the spec's parameter names), ARM type, the spec operation ids
it serves, which writes are long-running, whether it takes ``If-Match``, required and
default properties and its ``$filter`` fields (the tables of the spec's ``$filter``
descriptions, in :func:`apimsync.emulator.odata.rules` notation). ``routes.py`` turns
each kind into routes; ``resources.py`` holds the behaviour data cannot express.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apimsync.emulator import odata

T = "Microsoft.ApiManagement/service"
CRUD = ("list", "head", "get", "put", "patch", "delete")
NO_PATCH = ("list", "head", "get", "put", "delete")


@dataclass(frozen=True)
class Kind:
    """One resource type of the management API.

    ``title`` is the entity name the service's messages use (``"Api not found."``).
    """

    name: str
    title: str
    collection: str
    param: str
    arm_type: str
    ops: Mapping[str, str]
    fixed: tuple[str, ...] = ()
    lro: frozenset[str] = frozenset()
    api_level: bool = False
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    read_only: tuple[str, ...] = ()
    filters: str = ""
    counted: bool = True
    etags: bool = True
    put_needs_if_match: bool = False
    list_omits: tuple[str, ...] = ()
    """Properties a list leaves out of its items (the item's own GET shows them)."""

    @property
    def template(self) -> str:
        return f"{self.collection}/{{{self.param}}}"

    @property
    def filter_rules(self) -> dict[str, odata.FieldRule]:
        return odata.rules(self.filters)


def _ops(prefix: str, names: tuple[str, ...], **override: str) -> dict[str, str]:
    standard = {
        "list": f"{prefix}_ListByService",
        "head": f"{prefix}_GetEntityTag",
        "get": f"{prefix}_Get",
        "put": f"{prefix}_CreateOrUpdate",
        "patch": f"{prefix}_Update",
        "delete": f"{prefix}_Delete",
    }
    standard.update(override)
    return {k: standard[k] for k in names}


def _policy_kind(name: str, title: str, parent: str, arm_type: str, prefix: str, lst: str) -> Kind:
    return Kind(
        name,
        "PoliciesConfiguration",
        f"{parent}policies" if not parent else f"{parent}/policies",
        "policyId",
        arm_type,
        _ops(prefix, NO_PATCH, list=lst),
        fixed=("policy",),
        required=("value",),
        defaults={"format": "xml"},
    )


_KIND_LIST: tuple[Kind, ...] = (
    _policy_kind("policy", "Policy", "", f"{T}/policies", "Policy", "Policy_ListByService"),
    Kind(
        "api",
        "Api",
        "apis",
        "apiId",
        f"{T}/apis",
        _ops("Api", CRUD),
        read_only=("isOnline", "provisioningState"),
        filters="name displayName description serviceUrl path isCurrent:eqne",
    ),
    Kind(
        "release",
        "API release",
        "apis/{apiId}/releases",
        "releaseId",
        f"{T}/apis/releases",
        _ops("ApiRelease", CRUD),
        api_level=True,
        list_omits=("apiId",),  # §4 [REV20 p@120000]
        read_only=("createdDateTime", "updatedDateTime"),
        filters="notes",
    ),
    Kind(
        "operation",
        "Operation",
        "apis/{apiId}/operations",
        "operationId",
        f"{T}/apis/operations",
        _ops("ApiOperation", CRUD, list="ApiOperation_ListByApi"),
        required=("displayName", "method", "urlTemplate"),
        defaults={"templateParameters": [], "responses": []},
        filters="name displayName method description urlTemplate",
    ),
    _policy_kind(
        "apiPolicy",
        "Policy",
        "apis/{apiId}",
        f"{T}/apis/policies",
        "ApiPolicy",
        "ApiPolicy_ListByApi",
    ),
    _policy_kind(
        "operationPolicy",
        "Policy",
        "apis/{apiId}/operations/{operationId}",
        f"{T}/apis/operations/policies",
        "ApiOperationPolicy",
        "ApiOperationPolicy_ListByOperation",
    ),
    Kind(
        "apiSchema",
        "Schema",
        "apis/{apiId}/schemas",
        "schemaId",
        f"{T}/apis/schemas",
        _ops("ApiSchema", NO_PATCH, list="ApiSchema_ListByApi"),
        lro=frozenset({"put"}),
        required=("contentType", "document"),
        read_only=("provisioningState",),
        filters="contentType",
    ),
    Kind(
        "apiDiagnostic",
        "Diagnostic",
        "apis/{apiId}/diagnostics",
        "diagnosticId",
        f"{T}/apis/diagnostics",
        _ops("ApiDiagnostic", CRUD),
        required=("loggerId",),
        filters="name",
    ),
    Kind(
        "tagDescription",
        "Tag description",
        "apis/{apiId}/tagDescriptions",
        "tagDescriptionId",
        f"{T}/apis/tagDescriptions",
        _ops("ApiTagDescription", NO_PATCH),
        read_only=("tagId", "displayName"),
        filters="displayName name",
    ),
    Kind(
        "apiWiki",
        "Wiki",
        "apis/{apiId}/wikis",
        "wikiId",
        f"{T}/apis/wikis",
        _ops("ApiWiki", CRUD, list="ApiWikis_List"),
        fixed=("default",),
        filters="name:eqcontains",
        counted=False,
    ),
    Kind(
        "resolver",
        "Resolver",
        "apis/{apiId}/resolvers",
        "resolverId",
        f"{T}/apis/resolvers",
        _ops("GraphQLApiResolver", CRUD, list="GraphQLApiResolver_ListByApi"),
        filters="name displayName description path",
    ),
    _policy_kind(
        "resolverPolicy",
        "Policy",
        "apis/{apiId}/resolvers/{resolverId}",
        f"{T}/apis/resolvers/policies",
        "GraphQLApiResolverPolicy",
        "GraphQLApiResolverPolicy_ListByResolver",
    ),
    Kind(
        "issue",
        "Issue",
        "apis/{apiId}/issues",
        "issueId",
        f"{T}/apis/issues",
        _ops("ApiIssue", CRUD),
        required=("title", "description", "userId"),
        defaults={"state": "proposed"},
        filters="name userId state:eq",
    ),
    Kind(
        "issueComment",
        "Comment",
        "apis/{apiId}/issues/{issueId}/comments",
        "commentId",
        f"{T}/apis/issues/comments",
        _ops("ApiIssueComment", NO_PATCH),
        required=("text", "userId"),
        filters="name userId",
    ),
    Kind(
        "issueAttachment",
        "Attachment",
        "apis/{apiId}/issues/{issueId}/attachments",
        "attachmentId",
        f"{T}/apis/issues/attachments",
        _ops("ApiIssueAttachment", NO_PATCH),
        required=("title", "contentFormat", "content"),
        filters="name userId",
    ),
    Kind(
        "versionSet",
        "Api-version-set",
        "apiVersionSets",
        "versionSetId",
        f"{T}/apiVersionSets",
        _ops("ApiVersionSet", CRUD),
        required=("displayName", "versioningScheme"),
        defaults={"versionQueryName": None, "versionHeaderName": None},  # §15 [AVS20 e3]
    ),
    Kind(
        "backend",
        "Backend",
        "backends",
        "backendId",
        f"{T}/backends",
        _ops("Backend", CRUD),
        defaults={"title": None},  # §14 [BE20 e2]
        filters="name title url",
    ),
    Kind(
        "namedValue",
        "NamedValue",
        "namedValues",
        "namedValueId",
        f"{T}/namedValues",
        _ops("NamedValue", CRUD),
        lro=frozenset({"put", "patch"}),
        required=("displayName",),
        defaults={"tags": None, "secret": False},  # §12 [NV20 e3]
        read_only=("provisioningState",),
        filters="tags displayName",
    ),
    Kind(
        "policyFragment",
        "Policy fragment",
        "policyFragments",
        "id",
        f"{T}/policyFragments",
        _ops("PolicyFragment", NO_PATCH),
        lro=frozenset({"put"}),
        required=("value",),
        defaults={"format": "xml"},
        read_only=("provisioningState",),
        filters="name description value",
    ),
    Kind(
        "product",
        "Product",
        "products",
        "productId",
        f"{T}/products",
        _ops("Product", CRUD),
        required=("displayName",),
        defaults={"subscriptionRequired": True, "state": "notPublished"},
        filters="name displayName description terms state:eq",
    ),
    _policy_kind(
        "productPolicy",
        "Policy",
        "products/{productId}",
        f"{T}/products/policies",
        "ProductPolicy",
        "ProductPolicy_ListByProduct",
    ),
    Kind(
        "productApiLink",
        "Product API link",
        "products/{productId}/apiLinks",
        "apiLinkId",
        f"{T}/products/apiLinks",
        _ops(
            "ProductApiLink", ("list", "get", "put", "delete"), list="ProductApiLink_ListByProduct"
        ),
        required=("apiId",),
        filters="apiId",
        etags=False,
    ),
    Kind(
        "productGroupLink",
        "Product group link",
        "products/{productId}/groupLinks",
        "groupLinkId",
        f"{T}/products/groupLinks",
        _ops(
            "ProductGroupLink",
            ("list", "get", "put", "delete"),
            list="ProductGroupLink_ListByProduct",
        ),
        required=("groupId",),
        filters="groupId",
        etags=False,
    ),
    Kind(
        "productWiki",
        "Wiki",
        "products/{productId}/wikis",
        "wikiId",
        f"{T}/products/wikis",
        _ops("ProductWiki", CRUD, list="ProductWikis_list"),
        fixed=("default",),
        filters="name:eqcontains",
        counted=False,
    ),
    Kind(
        "group",
        "Group",
        "groups",
        "groupId",
        f"{T}/groups",
        _ops("Group", CRUD),
        required=("displayName",),
        defaults={"builtIn": False, "type": "custom", "externalId": None},  # §8.4 [GRP20 e4]
        read_only=("builtIn",),
        filters="name displayName description externalId:eq",
    ),
    Kind(
        "groupUser",
        "Group member",
        "groups/{groupId}/users",
        "userId",
        f"{T}/groups/users",
        {},
    ),
    Kind(
        "tag",
        "Tag",
        "tags",
        "tagId",
        f"{T}/tags",
        _ops("Tag", CRUD, head="Tag_GetEntityState"),
        required=("displayName",),
        filters="name displayName",
    ),
    Kind(
        "tagApiLink",
        "Tag API link",
        "tags/{tagId}/apiLinks",
        "apiLinkId",
        f"{T}/tags/apiLinks",
        _ops("TagApiLink", ("list", "get", "put", "delete"), list="TagApiLink_ListByProduct"),
        required=("apiId",),
        filters="apiId",
        etags=False,
    ),
    Kind(
        "tagOperationLink",
        "Tag operation link",
        "tags/{tagId}/operationLinks",
        "operationLinkId",
        f"{T}/tags/operationLinks",
        _ops(
            "TagOperationLink",
            ("list", "get", "put", "delete"),
            list="TagOperationLink_ListByProduct",
        ),
        required=("operationId",),
        filters="operationId",
        etags=False,
    ),
    Kind(
        "tagProductLink",
        "Tag product link",
        "tags/{tagId}/productLinks",
        "productLinkId",
        f"{T}/tags/productLinks",
        _ops(
            "TagProductLink",
            ("list", "get", "put", "delete"),
            list="TagProductLink_ListByProduct",
        ),
        required=("productId",),
        filters="productId",
        etags=False,
    ),
    Kind(
        "logger",
        "Logger",
        "loggers",
        "loggerId",
        f"{T}/loggers",
        _ops("Logger", CRUD),
        required=("loggerType",),
        defaults={"description": None, "isBuffered": True, "resourceId": None},  # §10
        filters="name description loggerType:eq resourceId",
    ),
    Kind(
        "diagnostic",
        "Diagnostic",
        "diagnostics",
        "diagnosticId",
        f"{T}/diagnostics",
        _ops("Diagnostic", CRUD),
        required=("loggerId",),
        filters="name",
    ),
    Kind(
        "globalSchema",
        "Schema",
        "schemas",
        "schemaId",
        f"{T}/schemas",
        _ops("GlobalSchema", NO_PATCH),
        lro=frozenset({"put"}),
        required=("schemaType",),
        read_only=("provisioningState",),
        filters="name",
    ),
    Kind(
        "user",
        "User",
        "users",
        "userId",
        f"{T}/users",
        _ops("User", CRUD),
        lro=frozenset({"delete"}),
        defaults={"state": "active"},
        read_only=("registrationDate", "groups"),
        filters="name firstName lastName email state:eq registrationDate:cmp note",
    ),
    Kind(
        "subscription",
        "Subscription",
        "subscriptions",
        "sid",
        f"{T}/subscriptions",
        _ops("Subscription", CRUD, list="Subscription_List"),
        required=("scope", "displayName"),
        read_only=("createdDate",),
        filters="name displayName stateComment ownerId scope userId productId state:eq",
    ),
    Kind(
        "tenantAccess",
        "Access configuration",
        "tenant",
        "accessName",
        f"{T}/tenant",
        _ops("TenantAccess", ("list", "head", "get", "put", "patch"), put="TenantAccess_Create"),
        fixed=("access", "gitAccess"),
        read_only=("id", "principalId"),
        put_needs_if_match=True,
    ),
)

KINDS: dict[str, Kind] = {k.name: k for k in _KIND_LIST}
POLICY_KINDS = ("policy", "apiPolicy", "operationPolicy", "productPolicy", "resolverPolicy")
