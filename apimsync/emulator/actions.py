"""The service resource, POST actions and the few lists that are not a kind's children."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from apimsync.emulator import tokens
from apimsync.emulator.core import Ctx, Reply, not_found, validation_error
from apimsync.emulator.handlers import body_properties, fill, long_running, page
from apimsync.emulator.kinds import KINDS, POLICY_KINDS, T
from apimsync.emulator.resources import git_token_expiry, shape
from apimsync.emulator.store import Row, Store, utc_now
from apimsync.emulator.tokens import new_key

LOCATION = "West US"


def _row(ctx: Ctx, template: str, kind: str) -> Row:
    row = ctx.store.get(ctx.service, fill(ctx, template))
    if row is None:
        raise not_found(KINDS[kind].title)
    return row


# -- the service -----------------------------------------------------------------------


def service_resource(ctx: Ctx) -> dict[str, Any]:
    """The API Management service resource (``ApiManagementServiceResource``)."""
    host = f"{ctx.service}.azure-api.net"
    created = ctx.store.meta(f"created:{ctx.service}") or ""
    return {
        "id": ctx.service_id,
        "name": ctx.service,
        "type": T,
        "location": LOCATION,
        "etag": ctx.store.meta(f"etag:{ctx.service}") or "AAAAAAAAAAA=",
        "tags": {},
        "sku": {"name": "Developer", "capacity": 1},
        "properties": {
            "publisherEmail": "admin@example.com",
            "publisherName": "apimsync emulator",
            "notificationSenderEmail": "apimgmt-noreply@mail.windowsazure.com",
            "provisioningState": "Succeeded",
            "targetProvisioningState": "",
            "createdAtUtc": created,
            "gatewayUrl": f"https://{host}",
            "gatewayRegionalUrl": f"https://{ctx.service}-westus-01.regional.azure-api.net",
            "portalUrl": f"https://{ctx.service}.portal.azure-api.net",
            "developerPortalUrl": f"https://{ctx.service}.developer.azure-api.net",
            "managementApiUrl": f"https://{ctx.service}.management.azure-api.net",
            "scmUrl": f"{ctx.endpoint}/scm/{ctx.service}",
            "hostnameConfigurations": [
                {
                    "type": "Proxy",
                    "hostName": host,
                    "negotiateClientCertificate": False,
                    "defaultSslBinding": True,
                    "certificateSource": "BuiltIn",
                }
            ],
            "publicIPAddresses": ["127.0.0.1"],
            "virtualNetworkType": "None",
            "disableGateway": False,
            "natGatewayState": "Disabled",
            "platformVersion": "stv2",
            "publicNetworkAccess": "Enabled",
            "developerPortalStatus": "Enabled",
            "legacyPortalStatus": "Disabled",
            "apiVersionConstraint": {},
        },
    }


def get_service(ctx: Ctx) -> Reply:
    return Reply(200, service_resource(ctx))


def get_operation_result(ctx: Ctx) -> Reply:
    body = ctx.store.get_operation(ctx.service, ctx.params["operationId"])
    if body is None:
        raise not_found("Operation")
    return Reply(200, {k: v for k, v in body.items() if not k.startswith("_")})


# -- policies --------------------------------------------------------------------------


def list_all_policies(ctx: Ctx) -> Reply:
    """Policy ids, no documents (as the spec's AllPoliciesContract): the documents are not
    decoded and only the page's ids are resolved to their display form."""
    items = []
    for path in ctx.store.paths_of_kind(ctx.service, *POLICY_KINDS):
        name = hashlib.sha256(path.lower().encode("utf-8")).hexdigest()[:24]
        items.append(
            {
                "id": ctx.arm_id(f"allPolicies/{name}"),
                "type": f"{T}/allPolicies",
                "name": name,
                "properties": {"referencePolicyId": path, "complianceState": "Compliant"},
            }
        )
    reply = page(ctx, items, {}, count=False)
    for item in reply.body["value"]:
        properties = item["properties"]
        properties["referencePolicyId"] = ctx.display_id(properties["referencePolicyId"])
    return reply


def list_fragment_references(ctx: Ctx) -> Reply:
    fragment = _row(ctx, "policyFragments/{id}", "policyFragment")
    pattern = re.compile(
        r"<include-fragment\s[^>]*fragment-id\s*=\s*[\"']" + re.escape(fragment.name) + r"[\"']",
        re.IGNORECASE,
    )
    items = [
        {"id": ctx.display_id(row), "type": KINDS[row.kind].arm_type, "name": row.name}
        for row in ctx.store.of_kind(ctx.service, *POLICY_KINDS)
        if pattern.search(str(row.props.get("value", "")))
    ]
    return page(ctx, items, {})


# -- named values, backends ------------------------------------------------------------


def list_named_value(ctx: Ctx) -> Reply:
    row = _row(ctx, "namedValues/{namedValueId}", "namedValue")
    value = row.props.get("value")
    body = {"value": value} if isinstance(value, str) else {}
    return Reply(200, body, {"ETag": row.etag})


def refresh_named_value(ctx: Ctx) -> Reply:
    with ctx.store.transaction():
        row = _row(ctx, "namedValues/{namedValueId}", "namedValue")
        key_vault = row.props.get("keyVault")
        if isinstance(key_vault, dict):
            key_vault["lastStatus"] = {"code": "Success", "timeStampUtc": utc_now()}
            ctx.store.put(ctx.service, row)
    reply = Reply(200, shape(ctx, KINDS["namedValue"], row), {"ETag": row.etag})
    return long_running(ctx, reply, 200, resource_path=row.path)


def reconnect_backend(ctx: Ctx) -> Reply:
    _row(ctx, "backends/{backendId}", "backend")
    return Reply(202)


# -- users -----------------------------------------------------------------------------


def _signing_key(ctx: Ctx, user_id: str, key_type: str) -> str:
    access = "tenant/gitAccess" if user_id.lower() == "git" else "tenant/access"
    if user_id.lower() != "git":
        _row(ctx, "users/{userId}", "user")
    row = ctx.store.get(ctx.service, access)
    if row is None:
        raise not_found("Access configuration")
    return str(row.props[f"_{key_type}Key"])


def user_token(ctx: Ctx) -> Reply:
    props = body_properties(ctx)
    key_type = props.get("keyType")
    if key_type not in ("primary", "secondary"):
        raise validation_error("'keyType' must be primary or secondary.", target="keyType")
    expiry = git_token_expiry(props.get("expiry"))
    user_id = ctx.params["userId"]
    key = _signing_key(ctx, user_id, str(key_type))
    return Reply(200, {"value": tokens.mint_git_password(user_id, expiry, key)})


def user_sso_url(ctx: Ctx) -> Reply:
    user = _row(ctx, "users/{userId}", "user")
    token = hashlib.sha256(f"{ctx.service}/{user.key}".encode()).hexdigest()[:32]
    url = f"https://{ctx.service}.portal.azure-api.net/signin-sso?token={user.name}%26{token}"
    return Reply(200, {"value": url})


def user_identities(ctx: Ctx) -> Reply:
    user = _row(ctx, "users/{userId}", "user")
    identities = user.props.get("identities") or []
    return Reply(200, {"value": identities, "count": len(identities)})


def user_password_send(ctx: Ctx) -> Reply:
    _row(ctx, "users/{userId}", "user")
    return Reply(204)


# -- tenant access and subscription keys -----------------------------------------------


def _tenant(ctx: Ctx) -> Row:
    name = ctx.params["accessName"]
    if name.lower() not in ("access", "gitaccess"):
        raise not_found("Access configuration")
    return _row(ctx, "tenant/{accessName}", "tenantAccess")


def tenant_secrets(ctx: Ctx) -> Reply:
    row = _tenant(ctx)
    principal = "git" if row.name.lower() == "gitaccess" else "integration"
    body = {
        "id": row.name,
        "principalId": principal,
        "primaryKey": row.props["_primaryKey"],
        "secondaryKey": row.props["_secondaryKey"],
        "enabled": bool(row.props.get("enabled")),
    }
    return Reply(200, body, {"ETag": row.etag})


def _regenerate(ctx: Ctx, row: Row, which: str) -> Reply:
    row.props[f"_{which}Key"] = new_key()
    ctx.store.put(ctx.service, row)
    return Reply(204)


def tenant_regenerate(which: str) -> Any:
    def handler(ctx: Ctx) -> Reply:
        with ctx.store.transaction():
            return _regenerate(ctx, _tenant(ctx), which)

    return handler


def subscription_secrets(ctx: Ctx) -> Reply:
    row = _row(ctx, "subscriptions/{sid}", "subscription")
    body = {"primaryKey": row.props["_primaryKey"], "secondaryKey": row.props["_secondaryKey"]}
    return Reply(200, body, {"ETag": row.etag})


def subscription_regenerate(which: str) -> Any:
    def handler(ctx: Ctx) -> Reply:
        with ctx.store.transaction():
            return _regenerate(ctx, _row(ctx, "subscriptions/{sid}", "subscription"), which)

    return handler


def verify_git_password(store: Store, service: str, password: str) -> bool:
    """Whether ``password`` is a live git password of ``service`` (for the git endpoint)."""
    row = store.get(service, "tenant/gitAccess")
    if row is None or not row.props.get("enabled"):
        return False
    keys = (str(row.props.get("_primaryKey", "")), str(row.props.get("_secondaryKey", "")))
    return tokens.verify_git_password(password, keys, user="git")
