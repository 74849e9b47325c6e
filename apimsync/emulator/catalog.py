"""Every other collection of the 2024-05-01 description, as data.

The local copy of the description (``shared/specs/apim-2024-05-01``) lacks many of its
files; the public Azure/azure-rest-api-specs repository
(``specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/
2024-05-01``: apimgateways.json, apimdocumentations.json, apimpolicyrestrictions.json,
apimworkspaces.json and the rest) has them. The collections below are those files'
paths that the local copy lacks; their parameter names and operation ids were read from
the request builders of azure-mgmt-apimanagement 5.0, which is generated from the same
files (an operation id is the builder's group and method: ``Gateway_ListByService``).
They are written here by hand as data; nothing of either source is copied.

Each entry of :data:`SERVICE_COLLECTIONS` and :data:`WORKSPACE_COLLECTIONS` reads
``(collection, param, OpPrefix, verbs, [verb=OperationName, ...])``: the collection's template
under the service (or under ``workspaces/{workspaceId}``), the item's parameter, the
prefix of its operation ids, the verbs it serves (``crud`` for all six) and operation
names that differ from the usual ``ListByService``/``GetEntityTag``/``Get``/
``CreateOrUpdate``/``Update``/``Delete``. They become ordinary :class:`Kind` s: a new
instance holds none of them (empty lists, 404 for items), writes store what is sent.
"""

from __future__ import annotations

from apimsync.emulator.kinds import CRUD, Kind, T

_VERB_SETS = {
    "crud": CRUD,
    "nopatch": ("list", "head", "get", "put", "delete"),
    "noheadpatch": ("list", "get", "put", "delete"),
    "links": ("list", "head", "put", "delete"),
    "nodelete": ("list", "head", "get", "put", "patch"),
}

SERVICE_COLLECTIONS: tuple[tuple[str, ...], ...] = (
    ("authorizationProviders", "authorizationProviderId", "AuthorizationProvider", "noheadpatch"),
    (
        "authorizationProviders/{authorizationProviderId}/authorizations",
        "authorizationId",
        "Authorization",
        "noheadpatch",
        "list=ListByAuthorizationProvider",
    ),
    (
        "authorizationProviders/{authorizationProviderId}/authorizations/{authorizationId}/accessPolicies",
        "authorizationAccessPolicyId",
        "AuthorizationAccessPolicy",
        "noheadpatch",
        "list=ListByAuthorization",
    ),
    ("authorizationServers", "authsid", "AuthorizationServer", "crud"),
    ("caches", "cacheId", "Cache", "crud"),
    ("certificates", "certificateId", "Certificate", "nopatch"),
    ("contentTypes", "contentTypeId", "ContentType", "noheadpatch"),
    ("contentTypes/{contentTypeId}/contentItems", "contentItemId", "ContentItem", "nopatch"),
    ("documentations", "documentationId", "Documentation", "crud"),
    ("templates", "templateName", "EmailTemplate", "crud"),
    ("gateways", "gatewayId", "Gateway", "crud"),
    ("gateways/{gatewayId}/apis", "apiId", "GatewayApi", "links"),
    (
        "gateways/{gatewayId}/certificateAuthorities",
        "certificateId",
        "GatewayCertificateAuthority",
        "nopatch",
    ),
    (
        "gateways/{gatewayId}/hostnameConfigurations",
        "hcId",
        "GatewayHostnameConfiguration",
        "nopatch",
    ),
    ("identityProviders", "identityProviderName", "IdentityProvider", "crud"),
    ("notifications", "notificationName", "Notification", "list,get,put"),
    (
        "notifications/{notificationName}/recipientEmails",
        "email",
        "NotificationRecipientEmail",
        "links",
        "list=ListByNotification",
        "head=CheckEntityExists",
    ),
    (
        "notifications/{notificationName}/recipientUsers",
        "userId",
        "NotificationRecipientUser",
        "links",
        "list=ListByNotification",
        "head=CheckEntityExists",
    ),
    ("openidConnectProviders", "opid", "OpenIdConnectProvider", "crud"),
    ("policyRestrictions", "policyRestrictionId", "PolicyRestriction", "crud"),
    ("portalRevisions", "portalRevisionId", "PortalRevision", "nodelete"),
    ("portalconfigs", "portalConfigId", "PortalConfig", "nodelete"),
    (
        "privateEndpointConnections",
        "privateEndpointConnectionName",
        "PrivateEndpointConnection",
        "noheadpatch",
        "get=GetByName",
    ),
    ("workspaces", "workspaceId", "Workspace", "crud"),
)

WORKSPACE_COLLECTIONS: tuple[tuple[str, ...], ...] = (
    ("apiVersionSets", "versionSetId", "ApiVersionSet", "crud"),
    ("apis", "apiId", "Api", "crud"),
    ("apis/{apiId}/diagnostics", "diagnosticId", "ApiDiagnostic", "crud", "list=ListByWorkspace"),
    ("apis/{apiId}/operations", "operationId", "ApiOperation", "crud", "list=ListByApi"),
    (
        "apis/{apiId}/operations/{operationId}/policies",
        "policyId",
        "ApiOperationPolicy",
        "nopatch",
        "list=ListByOperation",
    ),
    ("apis/{apiId}/policies", "policyId", "ApiPolicy", "nopatch", "list=ListByApi"),
    ("apis/{apiId}/releases", "releaseId", "ApiRelease", "crud"),
    ("apis/{apiId}/schemas", "schemaId", "ApiSchema", "nopatch", "list=ListByApi"),
    ("backends", "backendId", "Backend", "crud", "list=ListByWorkspace"),
    ("certificates", "certificateId", "Certificate", "nopatch", "list=ListByWorkspace"),
    ("diagnostics", "diagnosticId", "Diagnostic", "crud", "list=ListByWorkspace"),
    ("groups", "groupId", "Group", "crud"),
    (
        "groups/{groupId}/users",
        "userId",
        "GroupUser",
        "links",
        "list=List",
        "head=CheckEntityExists",
        "put=Create",
    ),
    ("loggers", "loggerId", "Logger", "crud", "list=ListByWorkspace"),
    ("namedValues", "namedValueId", "NamedValue", "crud"),
    ("notifications", "notificationName", "Notification", "list,get,put"),
    (
        "notifications/{notificationName}/recipientEmails",
        "email",
        "NotificationRecipientEmail",
        "links",
        "list=ListByNotification",
        "head=CheckEntityExists",
    ),
    (
        "notifications/{notificationName}/recipientUsers",
        "userId",
        "NotificationRecipientUser",
        "links",
        "list=ListByNotification",
        "head=CheckEntityExists",
    ),
    ("policies", "policyId", "Policy", "nopatch", "list=ListByApi"),
    ("policyFragments", "id", "PolicyFragment", "nopatch"),
    ("products", "productId", "Product", "crud"),
    (
        "products/{productId}/apiLinks",
        "apiLinkId",
        "ProductApiLink",
        "noheadpatch",
        "list=ListByProduct",
    ),
    (
        "products/{productId}/groupLinks",
        "groupLinkId",
        "ProductGroupLink",
        "noheadpatch",
        "list=ListByProduct",
    ),
    ("products/{productId}/policies", "policyId", "ProductPolicy", "nopatch", "list=ListByProduct"),
    ("schemas", "schemaId", "GlobalSchema", "nopatch"),
    ("subscriptions", "sid", "Subscription", "crud", "list=List"),
    ("tags", "tagId", "Tag", "crud", "head=GetEntityState"),
    ("tags/{tagId}/apiLinks", "apiLinkId", "TagApiLink", "noheadpatch", "list=ListByProduct"),
    (
        "tags/{tagId}/operationLinks",
        "operationLinkId",
        "TagOperationLink",
        "noheadpatch",
        "list=ListByProduct",
    ),
    (
        "tags/{tagId}/productLinks",
        "productLinkId",
        "TagProductLink",
        "noheadpatch",
        "list=ListByProduct",
    ),
)

_STANDARD = {
    "list": "ListByService",
    "head": "GetEntityTag",
    "get": "Get",
    "put": "CreateOrUpdate",
    "patch": "Update",
    "delete": "Delete",
}
WORKSPACE = "workspaces/{workspaceId}"


def _kind(line: tuple[str, ...], scope: str) -> Kind:
    collection, param, prefix, verbs, *renames = line
    names = dict(_STANDARD, **dict(r.split("=", 1) for r in renames))
    chosen = _VERB_SETS.get(verbs) or tuple(verbs.split(","))
    op_prefix = f"Workspace{prefix}" if scope else prefix
    full = f"{scope}/{collection}" if scope else collection
    literal = "/".join(s for s in full.split("/") if not s.startswith("{"))
    return Kind(
        name=f"catalog:{literal}",
        title=prefix,
        collection=full,
        param=param,
        arm_type=f"{T}/{literal}",
        ops={verb: f"{op_prefix}_{names[verb]}" for verb in chosen},
        filters="name",
    )


def _kinds() -> tuple[Kind, ...]:
    service = [_kind(line, "") for line in SERVICE_COLLECTIONS]
    workspace = [_kind(line, WORKSPACE) for line in WORKSPACE_COLLECTIONS]
    return (*service, *workspace)


CATALOG_KINDS = _kinds()
