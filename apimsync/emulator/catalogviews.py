"""The read-only lists, singletons and actions of the collections in :mod:`catalog`.

What a new instance answers: its one region and SKU, its network status, the portal
settings (kept where the scm layout's sign-up and delegation settings live), tenant
settings, and lists that are empty until traffic or tags exist (reports, quotas,
``apisByTags``...). Secrets of identity providers, authorization servers and OpenID
Connect providers are kept out of reads and answered only by their ``listSecrets``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from apimsync.emulator import resources
from apimsync.emulator.actions import LOCATION
from apimsync.emulator.core import Ctx, Reply, not_found, validation_error
from apimsync.emulator.handlers import body_properties, merge, page
from apimsync.emulator.kinds import KINDS, Kind, T
from apimsync.emulator.odata import rules
from apimsync.emulator.store import Row, etag_for
from apimsync.emulator.tokens import new_key

Handler = Callable[[Ctx], Reply]
PORTAL_SETTINGS: dict[str, dict[str, Any]] = {
    "signin": {"enabled": False},
    "signup": {
        "enabled": True,
        "termsOfService": {"text": None, "enabled": False, "consentRequired": False},
    },
    "delegation": {
        "url": None,
        "subscriptions": {"enabled": False},
        "userRegistration": {"enabled": False},
    },
}
SECRET_FIELDS = {
    "catalog:authorizationServers": (
        "clientSecret",
        "resourceOwnerUsername",
        "resourceOwnerPassword",
    ),
    "catalog:identityProviders": ("clientSecret",),
    "catalog:openidConnectProviders": ("clientSecret",),
}
AUTHORIZATION_SERVER_DEFAULTS = {
    "description": None,
    "clientAuthenticationMethod": None,
    "tokenBodyParameters": None,
    "supportState": False,
}


def _empty(ctx: Ctx) -> Reply:
    return page(ctx, [], {})


def _no_records(ctx: Ctx) -> Reply:
    """Reports: no traffic has passed the emulated gateway (their ``$filter`` is taken)."""
    return Reply(200, {"value": [], "count": 0})


def _items(ctx: Ctx, items: list[dict[str, Any]]) -> Reply:
    return page(ctx, items, rules("name"))


# -- secrets ---------------------------------------------------------------------------


def _hide_secrets(kind_name: str) -> resources.Shape:
    hidden = SECRET_FIELDS[kind_name]

    def shape(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
        for name in hidden:
            props.pop(name, None)

    return shape


def _fill_authorization_server(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    """§16 [API20 e4]: the service fills these when a create omits them."""
    if old is None:
        row.props = {**AUTHORIZATION_SERVER_DEFAULTS, **row.props}


def _fill_description(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    """§16 [API20 e12]: an OpenID Connect provider gets ``description: null``."""
    row.props.setdefault("description", None)


for _name in SECRET_FIELDS:
    resources.SHAPE[_name] = _hide_secrets(_name)
resources.PREPARE["catalog:authorizationServers"] = _fill_authorization_server
resources.PREPARE["catalog:openidConnectProviders"] = _fill_description


def _row(ctx: Ctx, collection: str, param: str, title: str) -> Row:
    row = ctx.store.get(ctx.service, f"{collection}/{ctx.params[param]}")
    if row is None:
        raise not_found(title)
    return row


def list_secrets(collection: str, param: str, title: str) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        row = _row(ctx, collection, param, title)
        fields = SECRET_FIELDS[f"catalog:{collection}"]
        return Reply(200, {k: row.props.get(k) for k in fields}, {"ETag": row.etag})

    return handler


# -- gateways --------------------------------------------------------------------------


def _gateway(ctx: Ctx) -> Row:
    row = _row(ctx, "gateways", "gatewayId", "Gateway")
    if "_primary" not in row.props:
        row.props.update(_primary=new_key(), _secondary=new_key())
        ctx.store.put(ctx.service, row)
    return row


def gateway_keys(ctx: Ctx) -> Reply:
    with ctx.store.transaction():
        row = _gateway(ctx)
    body = {"primary": row.props["_primary"], "secondary": row.props["_secondary"]}
    return Reply(200, body, {"ETag": row.etag})


def gateway_regenerate(ctx: Ctx) -> Reply:
    which = str(body_properties(ctx).get("keyType") or (ctx.body or {}).get("keyType") or "")
    if which not in ("primary", "secondary"):
        raise validation_error("'keyType' must be primary or secondary.", target="keyType")
    with ctx.store.transaction():
        row = _gateway(ctx)
        row.props[f"_{which}"] = new_key()
        ctx.store.put(ctx.service, row)
    return Reply(204)


def gateway_token(ctx: Ctx) -> Reply:
    row = _gateway(ctx)
    return Reply(200, {"value": f"GatewayKey {row.name}&{secrets.token_hex(16)}"})


def gateway_debug(ctx: Ctx) -> Reply:
    _gateway(ctx)
    return Reply(200, {"token": secrets.token_hex(16)})


def gateway_trace(ctx: Ctx) -> Reply:
    _gateway(ctx)
    return Reply(200, {})


def gateway_invalidate(ctx: Ctx) -> Reply:
    _gateway(ctx)
    return Reply(200)


# -- portal settings -------------------------------------------------------------------


def _portal_name(ctx: Ctx) -> str:
    name = ctx.rel_path.rsplit("/", 1)[-1].lower()
    if name not in PORTAL_SETTINGS:
        raise not_found("PortalSetting")
    return name


def _portal_props(ctx: Ctx, name: str) -> dict[str, Any]:
    stored = ctx.store.meta(f"portal:{ctx.service.lower()}:{name}")
    found = json.loads(stored) if stored else None
    return found if isinstance(found, dict) else json.loads(json.dumps(PORTAL_SETTINGS[name]))


def _portal_etag(ctx: Ctx, name: str) -> str:
    text = ctx.store.meta(f"portal:{ctx.service.lower()}:{name}") or ""
    return etag_for(len(text) * 7919 + sum(map(ord, text)))


def _portal_resource(ctx: Ctx, name: str) -> dict[str, Any]:
    props = {k: v for k, v in _portal_props(ctx, name).items() if k != "validationKey"}
    return {
        "id": ctx.arm_id(f"portalsettings/{name}"),
        "type": f"{T}/portalsettings",
        "name": name,
        "properties": props,
    }


def get_portal_setting(ctx: Ctx) -> Reply:
    name = _portal_name(ctx)
    etag = _portal_etag(ctx, name)
    if ctx.method == "HEAD":
        return Reply(200, None, {"ETag": etag})
    return Reply(200, _portal_resource(ctx, name), {"ETag": etag})


def put_portal_setting(ctx: Ctx) -> Reply:
    name = _portal_name(ctx)
    given = body_properties(ctx)
    props = merge(_portal_props(ctx, name), given) if ctx.method == "PATCH" else given
    ctx.store.set_meta(f"portal:{ctx.service.lower()}:{name}", json.dumps(props))
    if ctx.method == "PATCH":
        return Reply(204)
    return Reply(200, _portal_resource(ctx, name), {"ETag": _portal_etag(ctx, name)})


def list_portal_settings(ctx: Ctx) -> Reply:
    return _items(ctx, [_portal_resource(ctx, name) for name in PORTAL_SETTINGS])


def delegation_secrets(ctx: Ctx) -> Reply:
    props = _portal_props(ctx, "delegation")
    return Reply(200, {"validationKey": props.get("validationKey")})


# -- lists of a new instance -----------------------------------------------------------


def regions(ctx: Ctx) -> Reply:
    return page(ctx, [{"name": LOCATION, "isMasterRegion": True, "isDeleted": False}], {})


def skus(ctx: Ctx) -> Reply:
    sku = {
        "resourceType": "Microsoft.ApiManagement/service",
        "sku": {"name": "Developer"},
        "capacity": {"minimum": 1, "maximum": 1, "default": 1, "scaleType": "none"},
    }
    return Reply(200, {"value": [sku]})


def _network_status() -> dict[str, Any]:
    return {"dnsServers": [], "connectivityStatus": [], "lastUpdated": None, "lastStarted": None}


def network_status(ctx: Ctx) -> Reply:
    """A bare JSON array, as the description declares for this list."""
    return Reply(200, [{"location": LOCATION, "networkStatus": _network_status()}])


def network_status_at(ctx: Ctx) -> Reply:
    if ctx.params["locationName"].replace(" ", "").lower() != LOCATION.replace(" ", "").lower():
        raise not_found("Location")
    return Reply(200, _network_status())


def outbound_endpoints(ctx: Ctx) -> Reply:
    return Reply(200, {"value": []})


def private_link_resources(ctx: Ctx) -> Reply:
    return Reply(200, {"value": [_private_link(ctx)]})


def _private_link(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": ctx.arm_id("privateLinkResources/Gateway"),
        "name": "Gateway",
        "type": f"{T}/privateLinkResources",
        "properties": {
            "groupId": "Gateway",
            "requiredMembers": ["Gateway"],
            "requiredZoneNames": ["privatelink.azure-api.net"],
        },
    }


def private_link_resource(ctx: Ctx) -> Reply:
    if ctx.params["privateLinkSubResourceName"].lower() != "gateway":
        raise not_found("PrivateLinkResource")
    return Reply(200, _private_link(ctx))


def tenant_settings(ctx: Ctx) -> Reply:
    return page(ctx, [_public_settings(ctx)], {})


def _public_settings(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": ctx.arm_id("settings/public"),
        "type": f"{T}/settings",
        "name": "public",
        "properties": {"settings": {"CustomPortalSettings.UserRegistrationTerms": ""}},
    }


def tenant_setting(ctx: Ctx) -> Reply:
    if ctx.params["settingsType"].lower() != "public":
        raise not_found("Settings")
    return Reply(200, _public_settings(ctx), {"ETag": etag_for(1)})


def quota(ctx: Ctx) -> Reply:
    raise not_found("QuotaCounter")


def workspace_link(ctx: Ctx) -> Reply:
    raise not_found("Workspace")


def list_issues(ctx: Ctx) -> Reply:
    kind = KINDS["issue"]
    rows = ctx.store.of_kind(ctx.service, "issue")
    return page(ctx, [resources.shape(ctx, kind, r) for r in rows], kind.filter_rules)


def get_issue(ctx: Ctx) -> Reply:
    wanted = ctx.params["issueId"].lower()
    for row in ctx.store.of_kind(ctx.service, "issue"):
        if row.name.lower() == wanted:
            return Reply(200, resources.shape(ctx, KINDS["issue"], row), {"ETag": row.etag})
    raise not_found("Issue")


def _tagged(ctx: Ctx, link_kind: str, key: str) -> list[dict[str, Any]]:
    items = []
    for link in ctx.store.of_kind(ctx.service, link_kind):
        tag = ctx.store.get(ctx.service, link.parent_key)
        target = ctx.store.get(ctx.service, link.ref) if link.ref else None
        if link_kind == "tagApiLink" and link.ref:
            api = ctx.api(link.ref.split("/", 1)[1])
            target = ctx.store.get(ctx.service, api.rev_path) if api.exists else None
        if tag is None or target is None:
            continue
        shown = {"id": f"/{ctx.display_path(target.path)}", "name": target.props.get("displayName")}
        if key == "api":  # the non-ARM api object of [TAG19 e6]
            shown |= {
                "apiRevision": target.props.get("apiRevision"),
                "description": target.props.get("description"),
                "serviceUrl": target.props.get("serviceUrl"),
                "path": target.props.get("path"),
                "protocols": None,
                "authenticationSettings": None,
                "subscriptionKeyParameterNames": None,
                "isCurrent": bool(target.props.get("isCurrent")),
            }
        items.append(
            {"tag": {"id": f"/{tag.path}", "name": tag.props.get("displayName")}, key: shown}
        )
    return items


def _non_arm(ctx: Ctx, items: list[dict[str, Any]]) -> Reply:
    """A non-ARM list: ``"nextLink": null`` on its last page (§1.4 [TAG19 e6, e11])."""
    reply = page(ctx, items, {}, record=lambda item: item)
    reply.body.setdefault("nextLink", None)
    return reply


def apis_by_tags(ctx: Ctx) -> Reply:
    return _non_arm(ctx, _tagged(ctx, "tagApiLink", "api"))


def products_by_tags(ctx: Ctx) -> Reply:
    return _non_arm(ctx, _tagged(ctx, "tagProductLink", "product"))


def tag_resources(ctx: Ctx) -> Reply:
    return _non_arm(
        ctx, _tagged(ctx, "tagApiLink", "api") + _tagged(ctx, "tagProductLink", "product")
    )


def validate_policies(ctx: Ctx) -> Reply:
    return Reply(200, {"status": "Succeeded", "error": None})


def refresh_certificate(ctx: Ctx) -> Reply:
    row = _row(ctx, "certificates", "certificateId", "Certificate")
    return Reply(
        200,
        {
            "id": ctx.arm_id(row.path),
            "name": row.name,
            "type": f"{T}/certificates",
            "properties": resources.public(row.props),
        },
        {"ETag": row.etag},
    )


def login_links(ctx: Ctx) -> Reply:
    provider, authorization = ctx.params["authorizationProviderId"], ctx.params["authorizationId"]
    path = f"authorizationProviders/{provider}/authorizations/{authorization}"
    if ctx.store.get(ctx.service, path) is None:
        raise not_found("Authorization")
    return Reply(
        200,
        {"loginLink": f"https://{ctx.service}.azure-api.net/login?state={secrets.token_hex(8)}"},
    )


def confirm_consent(ctx: Ctx) -> Reply:
    return Reply(200)


# -- workspace actions -------------------------------------------------------------------


def _acted_on(ctx: Ctx, title: str) -> Row:
    """The workspace resource an action (the path's last segment) acts on."""
    row = ctx.store.get(ctx.service, ctx.rel_path.rsplit("/", 1)[0])
    if row is None:
        raise not_found(title)
    return row


def _resource(ctx: Ctx, row: Row, kind: str) -> dict[str, Any]:
    return {
        "id": ctx.arm_id(row.path),
        "type": f"{T}/{kind}",
        "name": row.name,
        "properties": resources.public(row.props),
    }


def workspace_value(ctx: Ctx) -> Reply:
    row = _acted_on(ctx, "NamedValue")
    return Reply(200, {"value": row.props.get("value")}, {"ETag": row.etag})


def workspace_refresh(kind: str, title: str) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        row = _acted_on(ctx, title)
        return Reply(200, _resource(ctx, row, kind), {"ETag": row.etag})

    return handler


def workspace_fragment_references(ctx: Ctx) -> Reply:
    _acted_on(ctx, "PolicyFragment")
    return page(ctx, [], {})


def _subscription_keys(ctx: Ctx) -> Row:
    row = _acted_on(ctx, "Subscription")
    if "_primaryKey" not in row.props:
        row.props.update(_primaryKey=new_key(), _secondaryKey=new_key())
        ctx.store.put(ctx.service, row)
    return row


def workspace_subscription_secrets(ctx: Ctx) -> Reply:
    with ctx.store.transaction():
        row = _subscription_keys(ctx)
    body = {"primaryKey": row.props["_primaryKey"], "secondaryKey": row.props["_secondaryKey"]}
    return Reply(200, body, {"ETag": row.etag})


def workspace_regenerate(which: str) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        with ctx.store.transaction():
            row = _subscription_keys(ctx)
            row.props[f"_{which}Key"] = new_key()
            ctx.store.put(ctx.service, row)
        return Reply(204)

    return handler


def workspace_revisions(ctx: Ctx) -> Reply:
    """A workspace API has the one revision it was created as."""
    api = _acted_on(ctx, "Api")
    base = api.name
    path = str(api.props.get("path", "")).strip("/")
    item = {
        "id": f"/apis/{base};rev=1/revisions/{base};rev=1",
        "apiId": f"/apis/{base};rev=1",
        "apiRevision": "1",
        "createdDateTime": api.created,
        "updatedDateTime": api.updated,
        "description": None,
        "privateUrl": f"/{path}",
        "isOnline": True,
        "isCurrent": True,
    }
    return _non_arm(ctx, [item])


WORKSPACE = "workspaces/{workspaceId}"


def service_operation(ctx: Ctx) -> Reply:
    """Backup, restore, the stv2 migration, network updates: accepted and done at once;
    the Location answers the service resource."""
    op_id = secrets.token_hex(12)
    ctx.store.put_operation(op_id, ctx.service, {"status": "Succeeded", "_code": 200})
    query = {"api-version": ctx.api_version, "asyncId": op_id, "asyncCode": "200"}
    return Reply(202, None, {"Location": ctx.absolute("", query)})


def sso_token(ctx: Ctx) -> Reply:
    token = secrets.token_hex(16)
    return Reply(
        200, {"redirectUri": f"https://{ctx.service}.portal.azure-api.net/signin-sso?token={token}"}
    )


def connectivity_check(ctx: Ctx) -> Reply:
    """The emulator reaches no network: the check says so rather than invent a result."""
    body = {"hops": [], "connectionStatus": "Unknown", "probesSent": 0, "probesFailed": 0}
    return Reply(200, body)


PORTAL_OPERATIONS: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "Get", get_portal_setting),
    ("HEAD", "GetEntityTag", get_portal_setting),
    ("PUT", "CreateOrUpdate", put_portal_setting),
    ("PATCH", "Update", put_portal_setting),
)
SPECIAL: tuple[tuple[str, str, str, Handler], ...] = (
    *(
        ("POST", action, f"ApiManagementService_{operation}", service_operation)
        for action, operation in (
            ("backup", "Backup"),
            ("restore", "Restore"),
            ("migrateToStv2", "MigrateToStv2"),
            ("applynetworkconfigurationupdates", "ApplyNetworkConfigurationUpdates"),
        )
    ),
    ("POST", "getssotoken", "ApiManagementService_GetSsoToken", sso_token),
    (
        "POST",
        f"{WORKSPACE}/namedValues/{{namedValueId}}/listValue",
        "WorkspaceNamedValue_ListValue",
        workspace_value,
    ),
    (
        "POST",
        f"{WORKSPACE}/namedValues/{{namedValueId}}/refreshSecret",
        "WorkspaceNamedValue_RefreshSecret",
        workspace_refresh("workspaces/namedValues", "NamedValue"),
    ),
    (
        "POST",
        f"{WORKSPACE}/certificates/{{certificateId}}/refreshSecret",
        "WorkspaceCertificate_RefreshSecret",
        workspace_refresh("workspaces/certificates", "Certificate"),
    ),
    (
        "POST",
        f"{WORKSPACE}/policyFragments/{{id}}/listReferences",
        "WorkspacePolicyFragment_ListReferences",
        workspace_fragment_references,
    ),
    (
        "POST",
        f"{WORKSPACE}/subscriptions/{{sid}}/listSecrets",
        "WorkspaceSubscription_ListSecrets",
        workspace_subscription_secrets,
    ),
    (
        "POST",
        f"{WORKSPACE}/subscriptions/{{sid}}/regeneratePrimaryKey",
        "WorkspaceSubscription_RegeneratePrimaryKey",
        workspace_regenerate("primary"),
    ),
    (
        "POST",
        f"{WORKSPACE}/subscriptions/{{sid}}/regenerateSecondaryKey",
        "WorkspaceSubscription_RegenerateSecondaryKey",
        workspace_regenerate("secondary"),
    ),
    (
        "GET",
        f"{WORKSPACE}/apis/{{apiId}}/revisions",
        "WorkspaceApiRevision_ListByService",
        workspace_revisions,
    ),
    ("POST", "connectivityCheck", "PerformConnectivityCheckAsync", connectivity_check),
    ("GET", "issues", "Issue_ListByService", list_issues),
    ("GET", "issues/{issueId}", "Issue_Get", get_issue),
    ("GET", "apisByTags", "Api_ListByTags", apis_by_tags),
    ("GET", "productsByTags", "Product_ListByTags", products_by_tags),
    ("GET", "tagResources", "TagResource_ListByService", tag_resources),
    ("GET", "networkstatus", "NetworkStatus_ListByService", network_status),
    (
        "GET",
        "locations/{locationName}/networkstatus",
        "NetworkStatus_ListByLocation",
        network_status_at,
    ),
    (
        "GET",
        "outboundNetworkDependenciesEndpoints",
        "OutboundNetworkDependenciesEndpoints_ListByService",
        outbound_endpoints,
    ),
    ("GET", "policyDescriptions", "PolicyDescription_ListByService", _empty),
    ("GET", "portalsettings", "PortalSettings_ListByService", list_portal_settings),
    *(
        (method, f"portalsettings/{name}", f"{prefix}Settings_{operation}", handler)
        for name, prefix in (
            ("signin", "SignIn"),
            ("signup", "SignUp"),
            ("delegation", "Delegation"),
        )
        for method, operation, handler in PORTAL_OPERATIONS
    ),
    (
        "POST",
        "portalsettings/delegation/listSecrets",
        "DelegationSettings_ListSecrets",
        delegation_secrets,
    ),
    (
        "GET",
        "privateLinkResources",
        "PrivateEndpointConnection_ListPrivateLinkResources",
        private_link_resources,
    ),
    (
        "GET",
        "privateLinkResources/{privateLinkSubResourceName}",
        "PrivateEndpointConnection_GetPrivateLinkResource",
        private_link_resource,
    ),
    ("GET", "quotas/{quotaCounterKey}", "QuotaByCounterKeys_ListByService", quota),
    ("PATCH", "quotas/{quotaCounterKey}", "QuotaByCounterKeys_Update", quota),
    ("GET", "quotas/{quotaCounterKey}/periods/{quotaPeriodKey}", "QuotaByPeriodKeys_Get", quota),
    (
        "PATCH",
        "quotas/{quotaCounterKey}/periods/{quotaPeriodKey}",
        "QuotaByPeriodKeys_Update",
        quota,
    ),
    ("GET", "regions", "Region_ListByService", regions),
    *(
        ("GET", f"reports/{by}", f"Reports_List{by[0].upper()}{by[1:]}", _no_records)
        for by in (
            "byApi",
            "byUser",
            "byOperation",
            "byProduct",
            "byGeo",
            "bySubscription",
            "byTime",
            "byRequest",
        )
    ),
    ("GET", "settings", "TenantSettings_ListByService", tenant_settings),
    ("GET", "settings/{settingsType}", "TenantSettings_Get", tenant_setting),
    ("GET", "skus", "ApiManagementServiceSkus_ListAvailableServiceSkus", skus),
    ("GET", "workspaceLinks", "ApiManagementWorkspaceLinks_ListByService", _empty),
    ("GET", "workspaceLinks/{workspaceId}", "ApiManagementWorkspaceLink_Get", workspace_link),
    ("POST", "validatePolicies", "PolicyRestrictionValidations_ByService", validate_policies),
    (
        "POST",
        "authorizationServers/{authsid}/listSecrets",
        "AuthorizationServer_ListSecrets",
        list_secrets("authorizationServers", "authsid", "AuthorizationServer"),
    ),
    (
        "POST",
        "identityProviders/{identityProviderName}/listSecrets",
        "IdentityProvider_ListSecrets",
        list_secrets("identityProviders", "identityProviderName", "IdentityProvider"),
    ),
    (
        "POST",
        "openidConnectProviders/{opid}/listSecrets",
        "OpenIdConnectProvider_ListSecrets",
        list_secrets("openidConnectProviders", "opid", "OpenIdConnectProvider"),
    ),
    (
        "POST",
        "certificates/{certificateId}/refreshSecret",
        "Certificate_RefreshSecret",
        refresh_certificate,
    ),
    ("POST", "gateways/{gatewayId}/listKeys", "Gateway_ListKeys", gateway_keys),
    ("POST", "gateways/{gatewayId}/regenerateKey", "Gateway_RegenerateKey", gateway_regenerate),
    ("POST", "gateways/{gatewayId}/generateToken", "Gateway_GenerateToken", gateway_token),
    (
        "POST",
        "gateways/{gatewayId}/listDebugCredentials",
        "Gateway_ListDebugCredentials",
        gateway_debug,
    ),
    ("POST", "gateways/{gatewayId}/listTrace", "Gateway_ListTrace", gateway_trace),
    (
        "POST",
        "gateways/{gatewayId}/invalidateDebugCredentials",
        "Gateway_InvalidateDebugCredentials",
        gateway_invalidate,
    ),
    (
        "POST",
        "authorizationProviders/{authorizationProviderId}/authorizations/{authorizationId}/getLoginLinks",
        "AuthorizationLoginLinks_Post",
        login_links,
    ),
    (
        "POST",
        "authorizationProviders/{authorizationProviderId}/authorizations/{authorizationId}/confirmConsentCode",
        "Authorization_ConfirmConsentCode",
        confirm_consent,
    ),
)
