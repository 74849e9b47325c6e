"""Conformance with the real service: each test is one behaviour of
``shared/docs/real-service-behaviour.md`` (the catalogue), cited by section and keys.

The catalogue was read from recordings of the real service at several api-versions;
where it shows drift, the emulator follows the newest recorded behaviour and the test
says so. Requests go over HTTPS to the session emulator (``raw``: status codes,
headers and bodies exactly; ``client``: the real azure-mgmt-apimanagement SDK).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import EmulatorProcess
from tests.apispec.documents import OPENAPI_PETSTORE_YAML, SWAGGER_PETSTORE

from .conftest import RawClient, Recorder, Response


def _error(response_body: object) -> dict[str, object]:
    assert isinstance(response_body, dict)
    error = response_body["error"]
    assert isinstance(error, dict)
    return error


# -- §0 / issue 11 (a): api-versions -----------------------------------------------------


@pytest.mark.parametrize(
    "version", ["2019-12-01", "2022-08-01", "2023-09-01-preview", "2025-09-01-preview"]
)
def test_api_versions_azure_serves_are_accepted(raw: RawClient, version: str) -> None:
    """Issue 11 (a); §0.1 (recordings at 2019-12-01 ... 2022-08-01): every api-version the
    service serves is accepted, and the answer has the 2024-05-01 shape (``count``)."""
    answer = raw.call("GET", "groups", api_version=version)
    assert answer.status == 200
    assert answer.body["count"] == len(answer.body["value"]) >= 3


def test_an_unknown_api_version_gets_the_arm_error(raw: RawClient) -> None:
    """Issue 11 (a): an api-version the service does not serve is refused with ARM's 400
    ``InvalidApiVersionParameter``, naming the versions it does serve."""
    answer = raw.call("GET", "apis", api_version="2099-01-01")
    assert answer.status == 400
    error = _error(answer.body)
    assert error["code"] == "InvalidApiVersionParameter"
    assert "'2099-01-01'" in str(error["message"]) and "2024-05-01" in str(error["message"])


# -- issue 11 (d): the resource-group read ----------------------------------------------


def test_the_resource_group_read_clients_make_first(raw: RawClient) -> None:
    """Issue 11 (d): ``GET /subscriptions/{sub}/resourceGroups/{rg}`` answers the group
    (at the Microsoft.Resources api-version the client uses); other groups are 404."""
    sub, group = raw.conn.subscription_id, raw.conn.resource_group
    found = raw.call(
        "GET", "", absolute=f"/subscriptions/{sub}/resourceGroups/{group}?api-version=2021-04-01"
    )
    assert found.status == 200
    assert found.body["id"] == f"/subscriptions/{sub}/resourceGroups/{group}"
    assert found.body["type"] == "Microsoft.Resources/resourceGroups"
    assert found.body["properties"]["provisioningState"] == "Succeeded"
    other = raw.call(
        "GET", "", absolute=f"/subscriptions/{sub}/resourceGroups/elsewhere?api-version=2021-04-01"
    )
    assert other.status == 404
    assert _error(other.body)["code"] == "ResourceGroupNotFound"


# -- §1.5: error bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("apis/nothere", "Api not found."),
        ("products/nothere", "Product not found."),
        ("backends/nothere", "Backend not found."),
        ("apiVersionSets/nothere", "Api-version-set not found."),
        ("namedValues/nothere", "NamedValue not found."),
        ("apis/echo-api/operations/nothere", "Operation not found."),
        (
            "apis/echo-api/operations/modify-resource/policies/policy",
            "PoliciesConfiguration not found.",
        ),
        ("products/unlimited/policies/policy", "PoliciesConfiguration not found."),
        ("apis/echo-api/tags/nothere", "Tag not found."),
    ],
)
def test_404_bodies(raw: RawClient, path: str, message: str) -> None:
    """§1.5 [API20 e9], [PRD20 e8], [BE20 e5], [AVS20 e8], [NV23 p@9000], [OPS20 p@44000],
    [POL20 e18, e25], [TAG19 e9]: a missing entity is ``404`` with
    ``{"error": {"code": "ResourceNotFound", "message": "<Entity> not found.", "details": null}}``
    (named values: the 2022-08-01 message, the newest recorded)."""
    answer = raw.call("GET", path)
    assert answer.status == 404
    assert answer.body == {
        "error": {"code": "ResourceNotFound", "message": message, "details": None}
    }


def test_head_of_a_missing_entity_is_404_without_a_body(raw: RawClient) -> None:
    """§1.1 [ADIAG23 p@30000]: HEAD on a missing entity is 404 with an empty body."""
    answer = raw.call("HEAD", "loggers/nothere")
    assert answer.status == 404
    assert answer.raw == b""


def test_an_arm_id_as_the_api_segment_is_404_without_a_body(raw: RawClient) -> None:
    """§1.5 [POL20 e10]: ``/apis/%2Fsubscriptions%2F...%2Fapis%2Fecho-api/policies/policy``
    is 404 with an empty body, not the JSON error."""
    arm_id = raw.service_path("apis/echo-api").replace("/", "%2F")
    target = raw.service_path(f"apis/{arm_id}/policies/policy") + "?api-version=2024-05-01"
    answer = raw.call("GET", "", absolute=target)
    assert answer.status == 404
    assert answer.raw == b""


def test_sdk_sees_404_as_resource_not_found(client: ApiManagementClient, raw: RawClient) -> None:
    """§1.5: the SDK maps the service's 404 to ResourceNotFoundError."""
    with pytest.raises(ResourceNotFoundError, match="Api not found"):
        client.api.get(raw.conn.resource_group, raw.conn.service, "nothere")


# -- §2.2, §3.5, §8: what a new instance holds --------------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> Iterator[RawClient]:
    """A service nobody has changed yet (the session's is shared by every test)."""
    with EmulatorProcess(tmp_path_factory.mktemp("fresh")) as running:
        yield RawClient(running.connection, recorder)


DEFAULT_GLOBAL_POLICY = (
    "<!--\r\n    IMPORTANT:\r\n    - Policy elements can appear only within the <inbound>, "
    "<outbound>, <backend> section elements.\r\n    - Only the <forward-request> policy element "
    "can appear within the <backend> section element.\r\n    - To apply a policy to the incoming "
    "request (before it is forwarded to the backend service), place a corresponding policy "
    "element within the <inbound> section element.\r\n    - To apply a policy to the outgoing "
    "response (before it is sent back to the caller), place a corresponding policy element "
    "within the <outbound> section element.\r\n    - To add a policy position the cursor at the "
    "desired insertion point and click on the round button associated with the policy.\r\n    "
    "- To remove a policy, delete the corresponding policy statement from the policy document."
    "\r\n    - Policies are applied in the order of their appearance, from the top down.\r\n-->"
    "\r\n<policies>\r\n\t<inbound />\r\n\t<backend>\r\n\t\t<forward-request />\r\n\t</backend>"
    "\r\n\t<outbound />\r\n</policies>"
)


def test_a_new_instance_has_the_default_global_policy(fresh: RawClient) -> None:
    """§2.2 [POL20 e2], [POL23 p@13000]: the default global policy, byte for byte, as
    ``{"format": "xml", "value": ...}`` under ``policies/policy``."""
    answer = fresh.call("GET", "policies/policy")
    assert answer.status == 200
    assert answer.body["type"] == "Microsoft.ApiManagement/service/policies"
    assert answer.body["name"] == "policy"
    assert answer.body["properties"] == {"format": "xml", "value": DEFAULT_GLOBAL_POLICY}
    assert "etag" not in answer.body and answer.header("ETag")


def test_a_new_instance_has_echo_api_with_six_operations(fresh: RawClient) -> None:
    """§3.5 [POL20 e9, e17]: ``echo-api`` ("Echo API", path ``echo``, the echo backend,
    https) with its six operations; no API policy; ``modify-resource`` has no policy."""
    api = fresh.call("GET", "apis/echo-api").body["properties"]
    assert (api["displayName"], api["path"], api["protocols"]) == ("Echo API", "echo", ["https"])
    assert api["serviceUrl"] == "http://echoapi.cloudapp.net/api"
    assert (api["apiRevision"], api["isCurrent"], api["description"]) == ("1", True, None)
    operations = fresh.call("GET", "apis/echo-api/operations").body
    assert sorted(o["name"] for o in operations["value"]) == [
        "create-resource",
        "modify-resource",
        "remove-resource",
        "retrieve-header-only",
        "retrieve-resource",
        "retrieve-resource-cached",
    ]
    assert operations["count"] == 6
    modify = fresh.call("GET", "apis/echo-api/operations/modify-resource").body["properties"]
    assert "request" not in modify  # [POL20 e17]: no request at all when it has none
    assert fresh.call("GET", "apis/echo-api/policies/policy").status == 404
    assert (
        fresh.call("GET", "apis/echo-api/operations/modify-resource/policies/policy").status == 404
    )


def test_a_new_instance_has_starter_and_unlimited_with_their_links(fresh: RawClient) -> None:
    """§8.1 [PRD20 e2], [PRDG e2, e3], §8.3 [PRDA e3], §2.3 [POL20 e25]: products
    ``starter`` and ``unlimited``, published, each open to the three built-in groups and
    carrying echo-api; ``unlimited`` has no product policy."""
    products = {p["name"]: p["properties"] for p in fresh.call("GET", "products").body["value"]}
    assert sorted(products) == ["starter", "unlimited"]
    starter, unlimited = products["starter"], products["unlimited"]
    assert (starter["terms"], starter["approvalRequired"], starter["state"]) == (
        "",
        False,
        "published",
    )
    assert (unlimited["terms"], unlimited["approvalRequired"], unlimited["subscriptionsLimit"]) == (
        None,
        True,
        1,
    )
    for product in products:
        groups = fresh.call("GET", f"products/{product}/groups").body["value"]
        assert sorted(g["name"] for g in groups) == ["administrators", "developers", "guests"]
        assert all(g["type"] == "Microsoft.ApiManagement/service/products/groups" for g in groups)
        apis = fresh.call("GET", f"products/{product}/apis").body["value"]
        assert [a["name"] for a in apis] == ["echo-api"]
    assert fresh.call("GET", "products/unlimited/policies/policy").status == 404


def test_a_new_instance_has_the_three_built_in_groups(fresh: RawClient) -> None:
    """§8.4 [GRP20 e2], §8.1 [PRD23 p@15000]: administrators, developers and guests,
    ``builtIn: true, type: "system", externalId: null``; the Administrators description as
    2022-08-01 returned it (newest recorded; 2020 had another text)."""
    groups = {g["name"]: g["properties"] for g in fresh.call("GET", "groups").body["value"]}
    assert sorted(groups) == ["administrators", "developers", "guests"]
    for properties in groups.values():
        assert (properties["builtIn"], properties["type"]) == (True, "system")
        assert properties.get("externalId") is None
    assert groups["administrators"]["description"].startswith(
        "Administrators is a built-in group containing the admin email account"
    )
    assert groups["guests"]["displayName"] == "Guests"


# -- §2.5: policies are re-serialised -------------------------------------------------------


def test_policy_xml_comes_back_with_tabs_and_crlf(raw: RawClient, uid: str) -> None:
    """§2.5 [POL20 e11]: 2-space indentation becomes tabs, line endings CRLF, ``<base/>``
    is written ``<base />``, no newline after the root; ``format`` is reported as xml
    although the request sent none [POL20 e4]."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    sent = (
        '<policies>\r\n  <inbound>\r\n    <set-header name="x-sdk-call" exists-action="append">'
        "\r\n      <value>true</value>\r\n    </set-header>\r\n    <base/>\r\n  </inbound>\r\n"
        "</policies>\r\n"
    )
    answer = raw.call("PUT", f"apis/{uid}/policies/policy", {"properties": {"value": sent}})
    assert answer.status == 201
    assert answer.body["properties"] == {
        "format": "xml",
        "value": '<policies>\r\n\t<inbound>\r\n\t\t<set-header name="x-sdk-call" '
        'exists-action="append">\r\n\t\t\t<value>true</value>\r\n\t\t</set-header>\r\n'
        "\t\t<base />\r\n\t</inbound>\r\n</policies>",
    }


def test_policy_leading_whitespace_goes_and_section_order_stays(raw: RawClient, uid: str) -> None:
    """§2.5 [GQL23 p@29000], [POL20 e20]: whitespace before the root goes, mixed space and
    tab indentation is normalised; sections keep the order they were sent in."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    raw.call(
        "PUT",
        f"apis/{uid}/operations/op",
        {"properties": {"displayName": "op", "method": "GET", "urlTemplate": "/"}},
    )
    sent = (
        "\r\n   <policies>\n\t  <inbound />\n  <outbound />\n\t<backend>\n  <base />\n"
        "</backend>\n</policies>"
    )
    answer = raw.call(
        "PUT", f"apis/{uid}/operations/op/policies/policy", {"properties": {"value": sent}}
    )
    assert answer.body["properties"]["value"] == (
        "<policies>\r\n\t<inbound />\r\n\t<outbound />\r\n\t<backend>\r\n\t\t<base />\r\n"
        "\t</backend>\r\n</policies>"
    )


# -- §1.1, §1.2: envelope, status codes -------------------------------------------------------


def test_json_is_pretty_printed_with_crlf(raw: RawClient) -> None:
    """§1.1: response JSON is 2-space indented with CRLF line endings."""
    answer = raw.call("GET", "groups/guests")
    assert answer.raw.startswith(b'{\r\n  "id": ')
    assert b"\n" not in answer.raw.replace(b"\r\n", b"")


def test_sub_resources_carry_the_etag_in_the_header_only(raw: RawClient) -> None:
    """§1.1 [POL20 e2, e7], [PRD20 e4]: no ``etag`` property in a sub-resource body; HEAD
    is 200 with the ETag and an empty body."""
    got = raw.call("GET", "products/starter")
    assert "etag" not in got.body and "etag" not in got.body["properties"]
    head = raw.call("HEAD", "products/starter")
    assert (head.status, head.raw, head.header("Content-Length")) == (200, b"", "0")
    assert head.header("ETag") == got.header("ETag")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("apis/{uid}", {"properties": {"displayName": "d", "path": "{uid}"}}),
        ("namedValues/{uid}", {"properties": {"displayName": "{uid}", "value": "v"}}),
        (
            "apiVersionSets/{uid}",
            {"properties": {"displayName": "d", "versioningScheme": "Segment"}},
        ),
        ("products/{uid}", {"properties": {"displayName": "d"}}),
        ("backends/{uid}", {"properties": {"url": "https://b.example", "protocol": "http"}}),
    ],
)
def test_delete_is_200_then_204(
    raw: RawClient, uid: str, path: str, body: dict[str, object]
) -> None:
    """§1.2, §19.6 [NV20 e10/e11], [API20 e19/e20], [AVS20 e9/e10]: DELETE of an entity that
    existed is 200 with an empty body; repeated it is 204, never 404."""
    target = path.format(uid=uid)
    raw.call("PUT", target, _format(body, uid))
    first = raw.call("DELETE", target, headers={"If-Match": "*"})
    assert (first.status, first.raw, first.header("Content-Length")) == (200, b"", "0")
    again = raw.call("DELETE", target, headers={"If-Match": "*"})
    assert (again.status, again.raw) == (204, b"")


def _format(value: object, uid: str) -> object:
    if isinstance(value, dict):
        return {k: _format(v, uid) for k, v in value.items()}
    return value.format(uid=uid) if isinstance(value, str) else value


# -- §3: APIs ---------------------------------------------------------------------------


def test_api_create_is_synchronous_with_the_service_defaults(raw: RawClient, uid: str) -> None:
    """§3.1 [API20 e5], [PURI20 e3], [GQL23 p@13000]: a plain API PUT is 201 with the body
    and no LRO headers; defaults filled: ``apiRevision "1"``, ``subscriptionRequired``,
    ``isCurrent``, both key names, ``authenticationSettings`` with null ``oAuth2`` and
    ``openid``; ``protocols`` re-ordered http, https. A GET adds the two empty arrays that
    2022-08-01 GETs (not PUT answers) carry."""
    sent = {"properties": {"displayName": uid, "path": uid, "protocols": ["https", "http"]}}
    created = raw.call("PUT", f"apis/{uid}", sent)
    assert created.status == 201 and created.header("ETag")
    assert created.header("Location") is None and created.header("Azure-AsyncOperation") is None
    properties = created.body["properties"]
    assert properties["protocols"] == ["http", "https"]
    assert (properties["apiRevision"], properties["subscriptionRequired"]) == ("1", True)
    assert properties["isCurrent"] is True and properties["description"] is None
    assert properties["authenticationSettings"] == {"oAuth2": None, "openid": None}
    assert properties["subscriptionKeyParameterNames"] == {
        "header": "Ocp-Apim-Subscription-Key",
        "query": "subscription-key",
    }
    got = raw.call("GET", f"apis/{uid}").body["properties"]
    assert got["authenticationSettings"] == {
        "oAuth2": None,
        "openid": None,
        "oAuth2AuthenticationSettings": [],
        "openidAuthenticationSettings": [],
    }


def test_api_patch_with_empty_authentication_settings_clears_them(raw: RawClient, uid: str) -> None:
    """§3.3 [API20 e11, e8]: PATCH ``authenticationSettings: {}`` clears ``oAuth2``; what the
    PATCH does not name stays. (PATCH answers 200 + body: 2022-08-01, the newest, §1.2.)"""
    oauth = {"authorizationServerId": "server", "scope": "s"}
    sent = {"displayName": uid, "path": uid, "serviceUrl": "https://b.example"}
    raw.call("PUT", "authorizationServers/server", _AUTH_SERVER)
    raw.call(
        "PUT", f"apis/{uid}", {"properties": {**sent, "authenticationSettings": {"oAuth2": oauth}}}
    )
    patch = {"properties": {"description": "d", "authenticationSettings": {}}}
    answer = raw.call("PATCH", f"apis/{uid}", patch, headers={"If-Match": "*"})
    assert answer.status == 200
    got = raw.call("GET", f"apis/{uid}").body["properties"]
    assert got["authenticationSettings"]["oAuth2"] is None
    assert (got["serviceUrl"], got["description"]) == ("https://b.example", "d")


_AUTH_SERVER = {
    "properties": {
        "displayName": "server",
        "clientRegistrationEndpoint": "https://login.example/register",
        "authorizationEndpoint": "https://login.example/authorize",
        "grantTypes": ["authorizationCode"],
        "clientId": "client",
    }
}


# -- §7: operations -----------------------------------------------------------------------


def test_operations_are_normalised(raw: RawClient, uid: str) -> None:
    """§7 [REV20 p@68000], [REV23 p@84000]: a leading ``/`` is added to ``urlTemplate``;
    empty ``templateParameters``, ``queryParameters`` and response ``headers`` are filled
    in; ``policies: null``; a parameter sent with ``required: false`` comes back without
    the key while ``true`` stays."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    sent = {
        "properties": {
            "displayName": "op",
            "method": "GET",
            "urlTemplate": "template_azsmnet2820",
            "request": {
                "headers": [
                    {"name": "a", "type": "string", "required": False},
                    {"name": "b", "type": "int", "required": True},
                ]
            },
            "responses": [{"statusCode": 1980785443, "description": "odd"}],
        }
    }
    created = raw.call("PUT", f"apis/{uid}/operations/op", sent)
    assert created.status == 201
    properties = raw.call("GET", f"apis/{uid}/operations/op").body["properties"]
    assert properties["urlTemplate"] == "/template_azsmnet2820"
    assert properties["templateParameters"] == []
    assert properties["policies"] is None
    assert properties["request"]["queryParameters"] == []
    assert properties["request"]["headers"] == [
        {"name": "a", "type": "string"},
        {"name": "b", "type": "int", "required": True},
    ]
    assert properties["responses"] == [
        {"statusCode": 1980785443, "description": "odd", "representations": [], "headers": []}
    ]
    # apimsync's scm schema refuses such a status; keep it out of the session's saves
    raw.call("DELETE", f"apis/{uid}", headers={"If-Match": "*"})


def test_operation_lists_page_with_a_total_count(raw: RawClient) -> None:
    """§7 [OPS20 p@20000], §1.4 [PRD20 e9-e11]: ``$top=3`` of echo-api's six operations is
    three items, ``count`` 6 and an absolute ``nextLink`` keeping the query and adding
    ``%24skip=3``; the last page has no ``nextLink`` key."""
    first = raw.call("GET", "apis/echo-api/operations", query={"$top": "3"})
    assert (len(first.body["value"]), first.body["count"]) == (3, 6)
    link = first.body["nextLink"]
    assert link.startswith("https://") and link.endswith("&%24skip=3")
    assert "%24top=3" in link and "api-version=2024-05-01" in link
    last = raw.call("GET", "", absolute=link)
    assert (len(last.body["value"]), last.body["count"]) == (3, 6)
    assert "nextLink" not in last.body


# -- §8: products and groups --------------------------------------------------------------


def test_a_new_product_is_linked_to_administrators(raw: RawClient, uid: str) -> None:
    """§8.1 [PRD20 e3, e7], [PRD23 p@15000]: the create answer (201) lists the
    Administrators group the service linked; GET has no ``groups``; PATCH (200 + body,
    2022-08-01) shows ``"groups": []``; the link is real."""
    created = raw.call("PUT", f"products/{uid}", {"properties": {"displayName": uid}})
    assert created.status == 201
    assert [g["name"] for g in created.body["properties"]["groups"]] == ["Administrators"]
    group = created.body["properties"]["groups"][0]
    assert (group["builtIn"], group["type"], group["externalId"]) == (True, "system", None)
    assert group["id"].endswith("/groups/administrators")
    assert "groups" not in raw.call("GET", f"products/{uid}").body["properties"]
    patched = raw.call(
        "PATCH", f"products/{uid}", {"properties": {"terms": "t"}}, headers={"If-Match": "*"}
    )
    assert (patched.status, patched.body["properties"]["groups"]) == (200, [])
    linked = raw.call("GET", f"products/{uid}/groups").body["value"]
    assert [g["name"] for g in linked] == ["administrators"]


def test_a_custom_group_gets_the_service_fields(raw: RawClient, uid: str) -> None:
    """§8.4 [GRP20 e4]: ``builtIn: false, type: "custom", externalId: null`` are added."""
    created = raw.call(
        "PUT", f"groups/{uid}", {"properties": {"displayName": uid, "description": "d"}}
    )
    assert created.status == 201
    properties = created.body["properties"]
    assert (properties["builtIn"], properties["type"], properties["externalId"]) == (
        False,
        "custom",
        None,
    )


def test_a_built_in_group_written_back_unchanged_is_accepted(raw: RawClient) -> None:
    """Issue 11 (e), §8.4: a client that writes back a built-in group as it read it gets
    200 and the group unchanged; only a change is refused (400)."""
    current = raw.call("GET", "groups/developers")
    unchanged = raw.call("PUT", "groups/developers", {"properties": current.body["properties"]})
    assert unchanged.status == 200
    assert unchanged.body["properties"] == current.body["properties"]
    changed = dict(current.body["properties"], description="mine now")
    refused = raw.call("PUT", "groups/developers", {"properties": changed})
    assert refused.status == 400
    assert raw.call("GET", "groups/developers").body["properties"] == current.body["properties"]


# -- §10, §11, §12, §14, §15: defaults the service fills ----------------------------------


def test_logger_credentials_become_a_named_value_reference(raw: RawClient, uid: str) -> None:
    """§10 [LOG20 e2, e3], [LOGEH21 p@31000], [ADIAG23 p@14000]: the instrumentation key is
    not echoed but replaced by ``{{Logger-Credentials--<24 hex>}}`` (double hyphen: 2021
    and 2023, the newest); defaults ``isBuffered: true``, ``resourceId`` and
    ``description`` null; the list shows the same."""
    sent = {
        "properties": {
            "loggerType": "applicationInsights",
            "credentials": {"instrumentationKey": "secret-key"},
        }
    }
    created = raw.call("PUT", f"loggers/{uid}", sent)
    assert created.status == 201
    properties = created.body["properties"]
    assert re.fullmatch(
        r"\{\{Logger-Credentials--[0-9a-f]{24}\}\}", properties["credentials"]["instrumentationKey"]
    )
    assert (properties["isBuffered"], properties["resourceId"], properties["description"]) == (
        True,
        None,
        None,
    )
    listed = {item["name"]: item for item in raw.call("GET", "loggers").body["value"]}
    assert listed[uid]["properties"]["credentials"] == properties["credentials"]
    assert b"secret-key" not in raw.call("GET", f"loggers/{uid}").raw


@pytest.mark.parametrize("scope", ["", "apis/echo-api/"])
def test_diagnostics_get_the_service_defaults(raw: RawClient, uid: str, scope: str) -> None:
    """§11 [ADIAG23 p@14000]: a diagnostic created with only ``loggerId`` (a full ARM id)
    gets ``httpCorrelationProtocol "Legacy"``, ``logClientIp true`` and a mask-all-query
    ``dataMasking`` on frontend and backend requests. Service-level diagnostics were
    recorded only at 2019-01-01; the 2022-08-01 defaults (the newest) serve both."""
    raw.call(
        "PUT",
        f"loggers/{uid}",
        {
            "properties": {
                "loggerType": "applicationInsights",
                "credentials": {"instrumentationKey": "k"},
            }
        },
    )
    logger_id = raw.service_path(f"loggers/{uid}")
    created = raw.call(
        "PUT", f"{scope}diagnostics/applicationinsights", {"properties": {"loggerId": logger_id}}
    )
    assert created.status in (200, 201)
    side = {
        "request": {
            "headers": None,
            "body": None,
            "dataMasking": {"queryParams": [{"value": "*", "mode": "Hide"}]},
        },
        "response": None,
    }
    assert created.body["properties"] == {
        "alwaysLog": None,
        "httpCorrelationProtocol": "Legacy",
        "logClientIp": True,
        "loggerId": logger_id,
        "sampling": None,
        "frontend": side,
        "backend": side,
    }
    raw.call("DELETE", f"{scope}diagnostics/applicationinsights", headers={"If-Match": "*"})


def test_named_value_defaults_and_secret_values(raw: RawClient, uid: str) -> None:
    """§12 [NV20 e3, e7-e9]: ``tags: null`` and ``secret: false`` filled in; a secret's
    ``value`` key is absent from PUT answer, GET and list, and ``listValue`` returns it
    with the entity's ETag."""
    plain = raw.call(
        "PUT", f"namedValues/{uid}", {"properties": {"displayName": uid, "value": "v"}}
    )
    assert plain.body["properties"]["tags"] is None and plain.body["properties"]["secret"] is False
    secret = {
        "properties": {
            "displayName": f"{uid}s",
            "value": "hidden",
            "secret": True,
            "tags": ["secret"],
        }
    }
    created = raw.call("PUT", f"namedValues/{uid}s", secret)
    assert "value" not in created.body["properties"]
    assert "value" not in raw.call("GET", f"namedValues/{uid}s").body["properties"]
    listed = {i["name"]: i for i in raw.call("GET", "namedValues").body["value"]}
    assert "value" not in listed[f"{uid}s"]["properties"]
    revealed = raw.call("POST", f"namedValues/{uid}s/listValue")
    assert revealed.body == {"value": "hidden"}
    assert revealed.header("ETag") == raw.call("GET", f"namedValues/{uid}s").header("ETag")


def test_backend_defaults_and_credentials_in_clear(raw: RawClient, uid: str) -> None:
    """§14 [BE20 e2, e3]: ``title: null`` filled in; credentials come back in clear; keys
    not sent (``resourceId``, ``proxy``) stay absent."""
    credentials = {
        "header": {"x-my-1": ["val1", "val2"]},
        "authorization": {"scheme": "basic", "parameter": "opensesame"},
    }
    sent = {
        "properties": {"url": "https://b.example", "protocol": "http", "credentials": credentials}
    }
    created = raw.call("PUT", f"backends/{uid}", sent)
    assert created.status == 201
    properties = created.body["properties"]
    assert properties["title"] is None and properties["credentials"] == credentials
    assert "resourceId" not in properties and "proxy" not in properties


def test_version_sets_keep_the_other_name_when_the_scheme_changes(raw: RawClient, uid: str) -> None:
    """§15 [AVS20 e3, e6, e7]: ``versionQueryName: null`` is filled in; switching the
    scheme to Query keeps ``versionHeaderName``."""
    sent = {
        "properties": {"displayName": uid, "versioningScheme": "Header", "versionHeaderName": "x-v"}
    }
    created = raw.call("PUT", f"apiVersionSets/{uid}", sent)
    assert created.body["properties"]["versionQueryName"] is None
    patch = {"properties": {"versioningScheme": "Query", "versionQueryName": "v"}}
    raw.call("PATCH", f"apiVersionSets/{uid}", patch, headers={"If-Match": "*"})
    got = raw.call("GET", f"apiVersionSets/{uid}").body["properties"]
    assert (got["versioningScheme"], got["versionQueryName"], got["versionHeaderName"]) == (
        "Query",
        "v",
        "x-v",
    )


# -- §5, §1.3: import and export ------------------------------------------------------------


def _accepted(answer: Response, code: str) -> str:
    """Pattern A (§1.3): 202, empty, no ETag, no Azure-AsyncOperation or Retry-After; the
    Location is the resource's URL with a 24-hex ``asyncId`` and the final ``asyncCode``."""
    assert (answer.status, answer.raw) == (202, b"")
    assert answer.header("ETag") is None and answer.header("Azure-AsyncOperation") is None
    assert answer.header("Retry-After") is None
    location = str(answer.header("Location"))
    query = parse_qs(urlsplit(location).query)
    assert re.fullmatch(r"[0-9a-f]{24}", query["asyncId"][0])
    assert query["asyncCode"] == [code]
    return location


def test_a_swagger_import_is_long_running_and_maps_as_recorded(raw: RawClient, uid: str) -> None:
    """§5 [REV20 e2/e3, e6, p@84000]: an import answers 202 + Location (asyncCode 201);
    the GET on it answers 201 with the API (``format``/``value`` not echoed): title,
    description, ``schemes[0]://host+basePath``, ``protocols`` = schemes, the defaults of a
    plain create. Operations: operationId as name and display name, ``default`` -> 500,
    required query parameters in the template, formats folded into descriptions, formData
    as ``multipart/form-data`` form parameters, typed representations of one schema."""
    body = {"properties": {"path": uid, "format": "swagger-json", "value": SWAGGER_PETSTORE}}
    location = _accepted(raw.call("PUT", f"apis/{uid}", body), "201")
    final = raw.call("GET", "", absolute=location)
    assert final.status == 201 and final.header("ETag")
    api = final.body["properties"]
    assert "format" not in api and "value" not in api
    assert (api["displayName"], api["description"]) == (
        "Swagger Petstore Extensive",
        "A sample API",
    )
    assert (api["serviceUrl"], api["protocols"]) == (
        "http://petstore.swagger.wordnik.com/api",
        ["http"],
    )
    assert (api["subscriptionRequired"], api["isCurrent"], api["apiRevision"]) == (True, True, "1")
    operations = {
        o["name"]: o["properties"] for o in raw.call("GET", f"apis/{uid}/operations").body["value"]
    }
    assert sorted(operations) == ["addPet", "deletePet", "dummyid1", "findPets"]
    assert operations["findPets"]["displayName"] == "findPets"
    assert [r["statusCode"] for r in operations["findPets"]["responses"]] == [200, 500]
    dummy = operations["dummyid1"]
    assert dummy["urlTemplate"] == "/mySamplePath?dummyReqQueryParam={dummyReqQueryParam}"
    assert [q["name"] for q in dummy["request"]["queryParameters"]] == ["dummyNotReqQueryParam"]
    assert dummy["request"]["headers"][0]["description"] == (
        "Format - date (as full-date in RFC3339). dummyDateHeaderParam description"
    )
    assert dummy["request"]["representations"][0]["contentType"] == "multipart/form-data"
    deleting = operations["deletePet"]["templateParameters"][0]
    assert deleting["description"] == "Format - int64. ID of pet to delete"
    representation = operations["findPets"]["responses"][0]["representations"][0]
    assert representation["typeName"] == "petArray" and re.fullmatch(
        r"[0-9a-f]{24}", representation["schemaId"]
    )
    schemas = raw.call("GET", f"apis/{uid}/schemas").body["value"]
    assert [s["name"] for s in schemas] == [representation["schemaId"]]


def test_an_openapi_yaml_import_is_always_https(raw: RawClient, uid: str) -> None:
    """§5 [OAS20 e2/e3]: OpenAPI 3 YAML (``format: openapi``): ``serviceUrl`` from
    ``servers[0]`` but ``protocols ["https"]`` whatever its scheme; ``description`` null."""
    body = {"properties": {"path": uid, "format": "openapi", "value": OPENAPI_PETSTORE_YAML}}
    location = _accepted(raw.call("PUT", f"apis/{uid}", body), "201")
    api = raw.call("GET", "", absolute=location).body["properties"]
    assert (api["serviceUrl"], api["protocols"]) == ("http://petstore.swagger.io/v1", ["https"])
    assert api["description"] is None and api["displayName"] == "Swagger Petstore"
    again = raw.call("PUT", f"apis/{uid}", body)
    _accepted(again, "200")  # re-importing updates: asyncCode 200


def test_a_bad_document_is_a_400_naming_the_problem(raw: RawClient, uid: str) -> None:
    body = {"properties": {"path": uid, "format": "openapi+json", "value": '{"openapi": "3.0.0"}'}}
    answer = raw.call("PUT", f"apis/{uid}", body)
    assert answer.status == 400
    assert "no 'info.title'" in _error(answer.body)["message"]
    assert raw.call("GET", f"apis/{uid}").status == 404  # nothing half-written


@pytest.mark.parametrize(
    ("wanted", "answered", "loads"),
    [
        ("openapi-link", "openapi-link", "yaml"),
        ("openapi+json-link", "openapi+json-link", "json"),
        ("swagger-link", "swagger-link-json", "json"),
    ],
)
def test_export_answers_a_link_the_emulator_serves(
    raw: RawClient, uid: str, wanted: str, answered: str, loads: str
) -> None:
    """§5 [OAS20 e5], issue 11 (c): ``GET apis/{id}?export=true&format=...`` answers 200,
    the API's ETag and the non-ARM ``{"id", "format", "value": {"link"}}``; the link (HTTPS,
    this emulator, no token needed, named after the display name) serves the exported
    document, which imports back into the same operations."""
    body = {"properties": {"path": uid, "format": "openapi", "value": OPENAPI_PETSTORE_YAML}}
    raw.call("PUT", f"apis/{uid}", body)
    api = raw.call("GET", f"apis/{uid}")
    exported = raw.call("GET", f"apis/{uid}", query={"export": "true", "format": wanted})
    assert exported.status == 200 and exported.header("ETag") == api.header("ETag")
    assert set(exported.body) == {"id", "format", "value"}
    assert exported.body["id"] == api.body["id"] and exported.body["format"] == answered
    link = exported.body["value"]["link"]
    assert link.startswith(raw.conn.endpoint + "/") and "/Swagger Petstore." in link
    document = raw.call("GET", "", absolute=link.replace(" ", "%20"), auth=False)
    assert document.status == 200
    text = document.raw.decode("utf-8")
    parsed = yaml.safe_load(text) if loads == "yaml" else json.loads(text)
    assert set(parsed["paths"]) == {"/pets", "/pets/{petId}"}
    copy = f"{uid}copy"
    reimport = {
        "properties": {
            "path": copy,
            "format": wanted if wanted != "swagger-link" else "swagger-link-json",
            "value": link,
        }
    }
    assert raw.call("PUT", f"apis/{copy}", reimport).status == 202

    def names(api: str) -> list[str]:
        return sorted(o["name"] for o in raw.call("GET", f"apis/{api}/operations").body["value"])

    assert names(copy) == names(uid) == ["createPets", "listPets", "showPetById"]


def test_export_through_the_sdk(client: ApiManagementClient, raw: RawClient) -> None:
    """Issue 11 (c): the SDK's ``api_export.get`` reads the export result."""
    result = client.api_export.get(
        raw.conn.resource_group, raw.conn.service, "echo-api", "openapi-link", "true"
    )
    assert result.export_result_format == "openapi-link"
    assert result.value.link.startswith(raw.conn.endpoint)


# -- §4: revisions and releases -------------------------------------------------------------


def test_revisions_copy_operations_and_a_release_switches_the_current_one(
    raw: RawClient, uid: str
) -> None:
    """§4 [REV20 p@68000, p@84000, p@104000, p@120000, p@136000], [REV23 p@84000, p@140000]:
    ``PUT apis/x;rev=2`` (URL-encoded ``;``) with a full ARM ``sourceApiId`` is a
    synchronous 201; ids and names carry ``;rev=2`` unencoded; the new revision copies the
    source's operations and has no ``isCurrent`` key; ``/revisions`` is the non-ARM list
    (relative ids, ``nextLink: null``, the current one as ``x;rev=1`` with a private URL
    without ``;rev``); a release of rev 2 makes it current and answers the base API's full
    ARM id as ``apiId``."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    raw.call(
        "PUT",
        f"apis/{uid}/operations/op",
        {"properties": {"displayName": "op", "method": "GET", "urlTemplate": "/"}},
    )
    source = raw.service_path(f"apis/{uid}")
    sent = {
        "properties": {
            "sourceApiId": source,
            "apiRevisionDescription": "second",
            "isCurrent": False,
        }
    }
    created = raw.call("PUT", f"apis/{uid}%3Brev%3D2", sent)
    assert created.status == 201 and created.header("Location") is None
    assert created.body["name"] == f"{uid};rev=2" and created.body["id"].endswith(
        f"/apis/{uid};rev=2"
    )
    properties = created.body["properties"]
    assert (properties["apiRevision"], properties["apiRevisionDescription"]) == ("2", "second")
    assert "isCurrent" not in properties
    assert "isCurrent" not in raw.call("GET", f"apis/{uid};rev=2").body["properties"]
    copied = raw.call("GET", f"apis/{uid};rev=2/operations").body
    assert [o["name"] for o in copied["value"]] == ["op"] and copied["count"] == 1

    revisions = raw.call("GET", f"apis/{uid}/revisions").body
    assert revisions["nextLink"] is None and revisions["count"] == 2
    newest, oldest = revisions["value"]
    assert newest["id"] == f"/apis/{uid};rev=2/revisions/{uid};rev=2"
    assert (newest["apiId"], newest["isCurrent"], newest["privateUrl"]) == (
        f"/apis/{uid};rev=2",
        False,
        f"/{uid};rev=2",
    )
    assert (oldest["apiId"], oldest["isCurrent"], oldest["privateUrl"]) == (
        f"/apis/{uid};rev=1",
        True,
        f"/{uid}",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z", oldest["createdDateTime"])

    release = {"properties": {"apiId": f"/apis/{uid};rev=2", "notes": "go"}}
    released = raw.call("PUT", f"apis/{uid}/releases/r1", release)
    assert released.status == 201
    assert released.body["properties"]["apiId"] == source
    after = raw.call("GET", f"apis/{uid}/revisions").body["value"]
    assert [(r["apiRevision"], r["isCurrent"], r["privateUrl"]) for r in after] == [
        ("2", True, f"/{uid}"),
        ("1", False, f"/{uid};rev=1"),
    ]
    assert raw.call("GET", f"apis/{uid}").body["properties"]["apiRevision"] == "2"


def test_an_empty_release_list(raw: RawClient) -> None:
    """§4 [REV20 p@120000], §1.4 [AVS20 e2]: an empty list is ``{"value": [], "count": 0}``."""
    assert raw.call("GET", "apis/echo-api/releases").body == {"value": [], "count": 0}
