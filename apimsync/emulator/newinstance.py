"""What a new API Management instance holds before anyone changes it.

The default global policy (catalogue §2.2, verbatim), the three built-in groups (§8.4;
the Administrators text as 2022-08-01 returned it, §8.1), the ``echo-api`` with its six
operations (§3.5) and the products ``starter`` and ``unlimited`` (§8.1), each linked to
the three groups (§8.2, [PRDG e3]) and to ``echo-api`` (§8.3, [PRDA e3]), plus the
administrator account and the access keys. Where the catalogue is silent, the values
are those of real exports in ``shared/corpus`` (eshop-v15, seed-openai-v17, quiz-v8):
both products carry echo-api and all three groups there; the operations' names,
descriptions and parameters, the Starter product policy and three echo-api operation
policies are theirs as well.
"""

from __future__ import annotations

from typing import Any

from apimsync.emulator.core import Ctx
from apimsync.emulator.kinds import KINDS
from apimsync.emulator.resources import prepare_tenant_access
from apimsync.emulator.store import Row

BUILTIN_GROUPS = {
    "administrators": (
        "Administrators",
        "Administrators is a built-in group containing the admin email account provided at "
        "the time of service creation. Its membership is managed by the system.",
    ),
    "developers": (
        "Developers",
        "Developers is a built-in group. Its membership is managed by the system. "
        "Signed-in users fall into this group.",
    ),
    "guests": (
        "Guests",
        "Guests is a built-in group. Its membership is managed by the system. "
        "Unauthenticated users visiting the developer portal fall into this group.",
    ),
}
_COMMENT_LINES = (
    "IMPORTANT:",
    "- Policy elements can appear only within the <inbound>, <outbound>, <backend> section "
    "elements.",
    "- Only the <forward-request> policy element can appear within the <backend> section element.",
    "- To apply a policy to the incoming request (before it is forwarded to the backend "
    "service), place a corresponding policy element within the <inbound> section element.",
    "- To apply a policy to the outgoing response (before it is sent back to the caller), "
    "place a corresponding policy element within the <outbound> section element.",
    "- To add a policy position the cursor at the desired insertion point and click on the "
    "round button associated with the policy.",
    "- To remove a policy, delete the corresponding policy statement from the policy document.",
)
_LAST_LINE = "- Policies are applied in the order of their appearance, from the top down."
_INHERITANCE_LINES = (
    "- Position the <base> element within a section element to inherit all policies from the "
    "corresponding section element in the enclosing scope.",
    "- Remove the <base> element to prevent inheriting policies from the corresponding section "
    "element in the enclosing scope.",
)


def _lines(*lines: str) -> str:
    return "\r\n".join(lines)


DEFAULT_GLOBAL_POLICY = _lines(
    "<!--",
    *(f"    {line}" for line in (*_COMMENT_LINES, _LAST_LINE)),
    "-->",
    "<policies>",
    "\t<inbound />",
    "\t<backend>",
    "\t\t<forward-request />",
    "\t</backend>",
    "\t<outbound />",
    "</policies>",
)
"""Catalogue §2.2 [POL20 e2], [POL23 p@13000], byte for byte."""

_SECTIONS_WITH_BASE = ("\t<backend>", "\t\t<base />", "\t</backend>")
STARTER_POLICY = _lines(
    "<!--",
    *(f"            {line}" for line in (*_COMMENT_LINES, *_INHERITANCE_LINES, _LAST_LINE)),
    "        -->",
    "<policies>",
    "\t<inbound>",
    '\t\t<rate-limit calls="5" renewal-period="60" />',
    '\t\t<quota calls="100" renewal-period="604800" />',
    "\t\t<base />",
    "\t</inbound>",
    *_SECTIONS_WITH_BASE,
    "\t<outbound>",
    "\t\t<base />",
    "\t</outbound>",
    "</policies>",
)

ECHO_API: dict[str, Any] = {
    "displayName": "Echo API",
    "apiRevision": "1",
    "description": None,
    "subscriptionRequired": True,
    "serviceUrl": "http://echoapi.cloudapp.net/api",
    "path": "echo",
    "protocols": ["https"],
    "authenticationSettings": {"oAuth2": None, "openid": None},
    "subscriptionKeyParameterNames": {
        "header": "Ocp-Apim-Subscription-Key",
        "query": "subscription-key",
    },
    "isCurrent": True,
}
_PARAM1 = {
    "name": "param1",
    "description": 'A sample parameter that is required and has a default value of "sample".',
    "type": "string",
    "defaultValue": "sample",
    "required": True,
    "values": ["sample"],
}
_PARAM2 = {
    "name": "param2",
    "description": "Another sample parameter, set to not required.",
    "values": [],
}
_OK = [{"statusCode": 200, "representations": [], "headers": []}]
_SAME_BACKEND = 'the same "echo" backend as above.'


def _operation(
    name: str, method: str, template: str, description: str, **extra: Any
) -> dict[str, Any]:
    return {
        "displayName": name,
        "method": method,
        "urlTemplate": template,
        "templateParameters": [],
        "description": description,
        "responses": _OK,
        "policies": None,
        **extra,
    }


ECHO_OPERATIONS: dict[str, dict[str, Any]] = {
    "create-resource": _operation(
        "Create resource",
        "POST",
        "/resource",
        "A demonstration of a POST call based on the echo backend above. The request body is "
        "expected to contain JSON-formatted data (see example below). A policy is used to "
        "automatically transform any request sent in JSON directly to XML. In a real-world "
        "scenario this could be used to enable modern clients to speak to a legacy backend.",
        request={
            "queryParameters": [],
            "headers": [],
            "representations": [
                {
                    "contentType": "application/json",
                    "examples": {
                        "default": {
                            "value": {
                                "vehicleType": "train",
                                "maxSpeed": 125,
                                "avgSpeed": 90,
                                "speedUnit": "mph",
                            }
                        }
                    },
                }
            ],
        },
    ),
    "modify-resource": _operation(
        "Modify Resource",
        "PUT",
        "/resource",
        f"A demonstration of a PUT call handled by {_SAME_BACKEND} You can now specify a "
        "request body in addition to headers and it will be returned as well.",
    ),
    "remove-resource": _operation(
        "Remove resource",
        "DELETE",
        "/resource",
        "A demonstration of a DELETE call which traditionally deletes the resource. It is based "
        'on the same "echo" backend as in all other operations so nothing is actually deleted.',
    ),
    "retrieve-header-only": _operation(
        "Retrieve header only",
        "HEAD",
        "/resource",
        "The HEAD operation returns only headers. In this demonstration a policy is used to set "
        "additional headers when the response is returned and to enable JSONP.",
    ),
    "retrieve-resource": _operation(
        "Retrieve resource",
        "GET",
        "/resource",
        'A demonstration of a GET call on a sample resource. It is handled by an "echo" backend '
        "which returns a response equal to the request (the supplied headers and body are being "
        "returned as received).",
        request={
            "queryParameters": [_PARAM1, {**_PARAM2, "type": "number"}],
            "headers": [],
            "representations": [],
        },
        responses=[{**_OK[0], "description": "Returned in all cases."}],
    ),
    "retrieve-resource-cached": _operation(
        "Retrieve resource (cached)",
        "GET",
        "/resource-cached",
        f"A demonstration of a GET call with caching enabled on {_SAME_BACKEND} Cache TTL is set "
        "to 1 hour. When you make the first request the headers you supplied will be cached. "
        "Subsequent calls will return the same headers as the first time even if you change "
        "them in your request.",
        request={
            "queryParameters": [_PARAM1, {**_PARAM2, "type": "string"}],
            "headers": [],
            "representations": [],
        },
    ),
}


def _base_sections(inbound: tuple[str, ...] = (), outbound: tuple[str, ...] = ()) -> str:
    return _lines(
        "<policies>",
        "\t<inbound>",
        "\t\t<base />",
        *(f"\t\t{line}" for line in inbound),
        "\t</inbound>",
        *_SECTIONS_WITH_BASE,
        "\t<outbound>",
        "\t\t<base />",
        *(f"\t\t{line}" for line in outbound),
        "\t</outbound>",
        "</policies>",
    )


ECHO_OPERATION_POLICIES = {
    "create-resource": _base_sections(
        inbound=('<json-to-xml apply="always" consider-accept-header="false" />',)
    ),
    "retrieve-header-only": _base_sections(
        outbound=(
            '<set-header name="X-My-Sample" exists-action="override">',
            "\t<value>This is a sample</value>",
            "\t<!-- for multiple headers with the same name add additional value elements -->",
            "</set-header>",
            '<jsonp callback-parameter-name="ProcessResponse" />',
        )
    ),
    "retrieve-resource-cached": _base_sections(
        inbound=(
            '<cache-lookup vary-by-developer="false" vary-by-developer-groups="false">',
            "\t<vary-by-header>Accept</vary-by-header>",
            "\t<vary-by-header>Accept-Charset</vary-by-header>",
            "</cache-lookup>",
            '<rewrite-uri template="/resource" />',
        ),
        outbound=('<cache-store duration="3600" />',),
    ),
}

PRODUCTS: dict[str, dict[str, Any]] = {
    "starter": {
        "displayName": "Starter",
        "description": "Subscribers will be able to run 5 calls/minute up to a maximum of 100 "
        "calls/week.",
        "terms": "",
        "subscriptionRequired": True,
        "approvalRequired": False,
        "subscriptionsLimit": 1,
        "state": "published",
    },
    "unlimited": {
        "displayName": "Unlimited",
        "description": "Subscribers have completely unlimited access to the API. Administrator "
        "approval is required.",
        "terms": None,
        "subscriptionRequired": True,
        "approvalRequired": True,
        "subscriptionsLimit": 1,
        "state": "published",
    },
}
ADMINISTRATOR = {
    "firstName": "Administrator",
    "lastName": "",
    "email": "admin@example.com",
    "state": "active",
    "identities": [{"provider": "Azure", "id": "admin@example.com"}],
}


def _policy(value: str) -> dict[str, Any]:
    return {"value": value, "format": "xml"}


def _seed_echo_api(ctx: Ctx) -> None:
    store, service = ctx.store, ctx.service
    api = "apis/echo-api;rev=1"
    store.put(service, Row("api", api, dict(ECHO_API), grp="apis/echo-api"))
    for name, props in ECHO_OPERATIONS.items():
        store.put(service, Row("operation", f"{api}/operations/{name}", dict(props)))
    for name, value in ECHO_OPERATION_POLICIES.items():
        path = f"{api}/operations/{name}/policies/policy"
        store.put(service, Row("operationPolicy", path, _policy(value)))


def _seed_products(ctx: Ctx) -> None:
    store, service = ctx.store, ctx.service
    for product, props in PRODUCTS.items():
        store.put(service, Row("product", f"products/{product}", dict(props)))
        link = {"apiId": ctx.arm_id("apis/echo-api")}
        path = f"products/{product}/apiLinks/echo-api"
        store.put(service, Row("productApiLink", path, link, ref="apis/echo-api"))
        for group in BUILTIN_GROUPS:
            path = f"products/{product}/groupLinks/{group}"
            link = {"groupId": ctx.arm_id(f"groups/{group}")}
            store.put(service, Row("productGroupLink", path, link, ref=f"groups/{group}"))
    store.put(
        service, Row("productPolicy", "products/starter/policies/policy", _policy(STARTER_POLICY))
    )


def seed_service(ctx: Ctx) -> None:
    """Create what every new instance holds (once: a restarted emulator keeps its state)."""
    store, service = ctx.store, ctx.service
    if store.get(service, "tenant/access") is not None:
        return
    with store.transaction():
        for name in ("access", "gitAccess"):
            row = Row("tenantAccess", f"tenant/{name}", {"enabled": True})
            prepare_tenant_access(ctx, KINDS["tenantAccess"], row, None)
            store.put(service, row)
        for group_id, (display, description) in BUILTIN_GROUPS.items():
            props = {"displayName": display, "description": description, "builtIn": True}
            store.put(service, Row("group", f"groups/{group_id}", {**props, "type": "system"}))
        store.put(service, Row("user", "users/1", dict(ADMINISTRATOR)))
        store.put(service, Row("groupUser", "groups/administrators/users/1", {}, ref="users/1"))
        store.put(service, Row("policy", "policies/policy", _policy(DEFAULT_GLOBAL_POLICY)))
        _seed_echo_api(ctx)
        _seed_products(ctx)
