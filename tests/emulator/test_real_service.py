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
from xml.etree import ElementTree

import pytest
import yaml
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.routes import ROUTES
from tests.apispec.documents import CALCULATOR_WSDL, OPENAPI_PETSTORE_YAML, SWAGGER_PETSTORE

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
    ``%24skip=3``; the last page has no ``nextLink`` key; lists carry no ETag."""
    first = raw.call("GET", "apis/echo-api/operations", query={"$top": "3"})
    assert (len(first.body["value"]), first.body["count"]) == (3, 6)
    assert first.header("ETag") is None  # no ETag on lists
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
        ("wadl-link", "wadl-link-json", "wadl"),
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
    if loads == "wadl":
        resources = ElementTree.fromstring(text).iter("{http://wadl.dev.java.net/2009/02}resource")
        assert {r.get("path") for r in resources} == {"/pets", "/pets/{petId}"}
        return  # WADL is not an import format
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


# -- issue 11 (b): every collection of the 2024-05-01 description ------------------------------

PARAMETERLESS_GETS = sorted(
    {route.template for route in ROUTES if route.method == "GET" and "{" not in route.template}
    - {""}
)


@pytest.mark.parametrize(
    "collection", ["gateways", "documentations", "policyRestrictions", "workspaces"]
)
def test_the_collections_apiops_cli_met_as_501_are_empty_lists(
    fresh: RawClient, collection: str
) -> None:
    """Issue 11 (b): these lists, absent from the local copy of the description, answer
    what a new instance holds: ``{"value": [], "count": 0}``."""
    answer = fresh.call("GET", collection)
    assert answer.status == 200
    assert answer.body == {"value": [], "count": 0}


@pytest.mark.parametrize("collection", PARAMETERLESS_GETS)
def test_every_collection_answers_a_new_instance(fresh: RawClient, collection: str) -> None:
    """Issue 11 (b): every parameterless GET of the description answers a new instance
    without an error (the reports need the ``$filter`` Azure requires)."""
    query = (
        {"$filter": "timestamp ge datetime'2024-01-01T00:00:00'"}
        if collection.startswith("reports/")
        else None
    )
    answer = fresh.call("GET", collection, query=query)
    assert answer.status == 200, answer.raw[:300]


def test_gateways_can_be_written_and_their_keys_read(raw: RawClient, uid: str) -> None:
    """Issue 11 (b): writes where cheap: a self-hosted gateway is created (201), read,
    listed, gives keys and a token, and is deleted (200, then 204)."""
    sent = {"properties": {"locationData": {"name": "home"}, "description": "d"}}
    assert raw.call("PUT", f"gateways/{uid}", sent).status == 201
    got = raw.call("GET", f"gateways/{uid}")
    assert got.body["type"] == "Microsoft.ApiManagement/service/gateways"
    assert got.body["properties"]["locationData"] == {"name": "home"}
    assert uid in [g["name"] for g in raw.call("GET", "gateways").body["value"]]
    keys = raw.call("POST", f"gateways/{uid}/listKeys").body
    assert keys["primary"] and keys["secondary"] and keys["primary"] != keys["secondary"]
    token = raw.call(
        "POST",
        f"gateways/{uid}/generateToken",
        {"properties": {"keyType": "primary", "expiry": "2030-01-01T00:00:00Z"}},
    )
    assert token.status == 200 and token.body["value"]
    assert raw.call("DELETE", f"gateways/{uid}", headers={"If-Match": "*"}).status == 200
    assert raw.call("DELETE", f"gateways/{uid}", headers={"If-Match": "*"}).status == 204


def test_workspace_collections_need_their_workspace(raw: RawClient, uid: str) -> None:
    """Issue 11 (b): the workspace-scoped collections answer 404 ``Workspace not found.``
    until the workspace exists, then their (empty) lists."""
    missing = raw.call("GET", f"workspaces/{uid}/apis")
    assert missing.status == 404 and _error(missing.body)["message"] == "Workspace not found."
    assert raw.call("PUT", f"workspaces/{uid}", {"properties": {"displayName": uid}}).status == 201
    assert raw.call("GET", f"workspaces/{uid}/apis").body == {"value": [], "count": 0}
    api = {"properties": {"displayName": "a", "path": "a"}}
    assert raw.call("PUT", f"workspaces/{uid}/apis/a", api).status == 201
    assert [a["name"] for a in raw.call("GET", f"workspaces/{uid}/apis").body["value"]] == ["a"]


def test_secrets_of_identity_providers_are_read_only_through_list_secrets(raw: RawClient) -> None:
    """§16 [API20 e12]: no ``clientSecret`` in the answer of a write or a read; the
    ``listSecrets`` action returns it."""
    sent = {"properties": {"clientId": "id", "clientSecret": "s3cret"}}
    written = raw.call("PUT", "identityProviders/facebook", sent)
    assert written.status in (200, 201) and b"s3cret" not in written.raw
    assert b"s3cret" not in raw.call("GET", "identityProviders/facebook").raw
    assert raw.call("POST", "identityProviders/facebook/listSecrets").body == {
        "clientSecret": "s3cret"
    }


def test_portal_settings_are_served(raw: RawClient) -> None:
    """Issue 11 (b): sign-in, sign-up and delegation settings exist on a new instance."""
    names = [s["name"] for s in raw.call("GET", "portalsettings").body["value"]]
    assert names == ["signin", "signup", "delegation"]
    signup = raw.call("GET", "portalsettings/signup")
    assert signup.status == 200 and signup.header("ETag")
    assert signup.body["properties"]["enabled"] in (True, False)


# -- §1.3, §12: the long-running switch -----------------------------------------------------


@pytest.fixture(scope="module")
def styled(
    tmp_path_factory: pytest.TempPathFactory, recorder: Recorder
) -> Iterator[dict[str, RawClient]]:
    """One emulator per ``--lro-style`` that is not the default."""
    with (
        EmulatorProcess(tmp_path_factory.mktemp("async"), lro_style="async") as asynchronous,
        EmulatorProcess(tmp_path_factory.mktemp("described"), lro_style="described") as described,
    ):
        yield {
            "async": RawClient(asynchronous.connection, recorder),
            "described": RawClient(described.connection, recorder),
        }


def test_named_values_answer_with_the_body_by_default(raw: RawClient, uid: str) -> None:
    """§12, issue 11: the newest recording of a named value PUT (a 2023-09-01-preview log)
    answered 201 with its body, an update 200; the newest of a PATCH (2022-08-01,
    [NV23 p@60000]) is 202 + Location with ``asyncCode=200``, whose GET answers 200 with the
    body (the default ``--lro-style recorded``)."""
    sent = {"properties": {"displayName": uid, "value": "v"}}
    created = raw.call("PUT", f"namedValues/{uid}", sent)
    assert created.status == 201 and created.header("ETag") and created.header("Location") is None
    assert created.body["properties"]["value"] == "v"
    assert raw.call("PUT", f"namedValues/{uid}", sent).status == 200
    patched = raw.call(
        "PATCH", f"namedValues/{uid}", {"properties": {"value": "w"}}, headers={"If-Match": "*"}
    )
    final = raw.call("GET", "", absolute=_accepted(patched, "200"))
    assert (final.status, final.body["properties"]["value"]) == (200, "w")


def test_named_values_are_long_running_in_the_async_style(
    styled: dict[str, RawClient], uid: str
) -> None:
    """§12 [NV20 e2/e3], [NV23 p@9000, p@60000], §1.3 pattern A (``--lro-style async``, as
    2019-12-01 and 2022-08-01 answered): PUT is 202, empty, no ETag, ``Location`` with
    ``asyncId``/``asyncCode=201``; the GET on it is 201 with the body and the ETag; PATCH is
    202 with ``asyncCode=200``, its GET 200."""
    raw = styled["async"]
    sent = {"properties": {"displayName": uid, "value": "v", "secret": True}}
    location = _accepted(raw.call("PUT", f"namedValues/{uid}", sent), "201")
    assert f"/namedValues/{uid}?" in location
    final = raw.call("GET", "", absolute=location)
    assert final.status == 201 and final.header("ETag")
    assert final.body["properties"] == {
        "displayName": uid,
        "tags": None,
        "secret": True,
        "provisioningState": "Succeeded",
    }
    patched = raw.call(
        "PATCH", f"namedValues/{uid}", {"properties": {"secret": False}}, headers={"If-Match": "*"}
    )
    final = raw.call("GET", "", absolute=_accepted(patched, "200"))
    assert final.status == 200 and final.body["properties"]["value"] == "v"  # un-secreted: shown


def test_api_delete_follows_the_switch(
    raw: RawClient, styled: dict[str, RawClient], uid: str
) -> None:
    """§3.4 [API20 e19/e20]: by default an API DELETE is 200 then 204 (recorded); as
    2024-05-01 describes it (``described``, and ``async``) it is 202 + Location whose GET
    answers 204 once the API is gone."""
    body = {"properties": {"displayName": uid, "path": uid}}
    raw.call("PUT", f"apis/{uid}", body)
    assert raw.call("DELETE", f"apis/{uid}", headers={"If-Match": "*"}).status == 200
    for style in ("described", "async"):
        other = styled[style]
        other.call("PUT", f"apis/{uid}", body)
        location = _accepted(other.call("DELETE", f"apis/{uid}", headers={"If-Match": "*"}), "204")
        assert other.call("GET", "", absolute=location).status == 204
        assert other.call("GET", f"apis/{uid}").status == 404


def test_imports_and_schemas_answer_the_body_as_described(
    styled: dict[str, RawClient], uid: str
) -> None:
    """``--lro-style described``: an import and a schema PUT answer 201 with the body, as
    the 2024-05-01 description lists (the SDK 5.0 accepts only that)."""
    raw = styled["described"]
    body = {"properties": {"path": uid, "format": "openapi", "value": OPENAPI_PETSTORE_YAML}}
    created = raw.call("PUT", f"apis/{uid}", body)
    assert created.status == 201 and created.body["properties"]["displayName"] == "Swagger Petstore"
    schema = {
        "properties": {
            "contentType": "application/vnd.oai.openapi.components+json",
            "document": {"value": "{}"},
        }
    }
    assert raw.call("PUT", f"apis/{uid}/schemas/s", schema).status == 201


def test_the_sdk_creates_named_values_against_the_default(
    client: ApiManagementClient, raw: RawClient, uid: str
) -> None:
    """The official SDK's ``begin_create_or_update`` completes against the default style."""
    created = client.named_value.begin_create_or_update(
        raw.conn.resource_group,
        raw.conn.service,
        uid,
        {"properties": {"displayName": uid, "value": "v"}},
        polling_interval=0,
    ).result()
    assert created.display_name == uid


# -- §6: API schemas ----------------------------------------------------------------------------


def test_schema_puts_are_long_running_and_documents_stored_as_recorded(
    raw: RawClient, uid: str
) -> None:
    """§6 [SCH20 e6-e9]: a schema PUT is 202 + Location (asyncCode 201, then 200 on
    update); swagger definitions sent as text are parsed into ``document.definitions``
    (double-nested when the text has its own ``definitions``); an OpenAPI components
    document keeps its exact text in ``document.value``."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    text = '{"definitions":{ "pet": {"type": "object"}}}'
    sent = {
        "properties": {
            "contentType": "application/vnd.ms-azure-apim.swagger.definitions+json",
            "document": {"value": text},
        }
    }
    final = raw.call(
        "GET", "", absolute=_accepted(raw.call("PUT", f"apis/{uid}/schemas/a", sent), "201")
    )
    assert final.status == 201
    assert final.body["type"] == "Microsoft.ApiManagement/service/apis/schemas"
    assert final.body["properties"]["document"] == {
        "definitions": {"definitions": {"pet": {"type": "object"}}}
    }
    _accepted(raw.call("PUT", f"apis/{uid}/schemas/a", sent), "200")
    components = '{\r\n  "components": { "schemas": {} }\r\n}'
    sent = {
        "properties": {
            "contentType": "application/vnd.oai.openapi.components+json",
            "document": {"value": components},
        }
    }
    _accepted(raw.call("PUT", f"apis/{uid}/schemas/b", sent), "201")
    assert raw.call("GET", f"apis/{uid}/schemas/b").body["properties"]["document"] == {
        "value": components
    }


# -- full ARM ids wherever a service-relative id is taken --------------------------------------


def test_full_arm_ids_are_accepted_in_references(raw: RawClient, uid: str) -> None:
    """Issue 11: ``apiVersionSetId``, pool ``services[].id`` (backend ids) and the ids of
    product/group/API links are taken as full ARM ids as well as ``/kind/name``
    (``sourceApiId`` and ``loggerId``: the revision and diagnostic tests above)."""
    arm = raw.service_path
    raw.call(
        "PUT",
        f"apiVersionSets/{uid}",
        {"properties": {"displayName": uid, "versioningScheme": "Segment"}},
    )
    api = {
        "properties": {
            "displayName": uid,
            "path": uid,
            "apiVersion": "v1",
            "apiVersionSetId": arm(f"apiVersionSets/{uid}"),
        }
    }
    assert raw.call("PUT", f"apis/{uid}", api).status == 201
    raw.call(
        "PUT", f"backends/{uid}", {"properties": {"url": "https://b.example", "protocol": "http"}}
    )
    pool = {"properties": {"type": "Pool", "pool": {"services": [{"id": arm(f"backends/{uid}")}]}}}
    assert raw.call("PUT", f"backends/{uid}-pool", pool).status == 201
    raw.call("PUT", f"products/{uid}", {"properties": {"displayName": uid}})
    api_link = raw.call(
        "PUT", f"products/{uid}/apiLinks/l1", {"properties": {"apiId": arm(f"apis/{uid}")}}
    )
    group_link = raw.call(
        "PUT",
        f"products/{uid}/groupLinks/l2",
        {"properties": {"groupId": arm("groups/developers")}},
    )
    assert (api_link.status, group_link.status) == (201, 201)
    raw.call("PUT", f"tags/{uid}", {"properties": {"displayName": uid}})
    tag_link = raw.call(
        "PUT", f"tags/{uid}/apiLinks/l3", {"properties": {"apiId": arm(f"apis/{uid}")}}
    )
    assert tag_link.status == 201
    assert [a["name"] for a in raw.call("GET", f"products/{uid}/apis").body["value"]] == [uid]
    assert "developers" in [
        g["name"] for g in raw.call("GET", f"products/{uid}/groups").body["value"]
    ]


# -- §2.3, §2.4, §2.6: policies that do not exist, and formats ------------------------------


def test_the_global_policy_can_be_deleted_and_created_again(styled: dict[str, RawClient]) -> None:
    """§2.3 [POL20 e8, e3, e5], [POL23 p@13000]: DELETE the global policy is 200, GET then
    404 ``PoliciesConfiguration not found.``, a PUT then 201."""
    raw = styled["described"]
    value = raw.call("GET", "policies/policy").body["properties"]["value"]
    assert raw.call("DELETE", "policies/policy", headers={"If-Match": "*"}).status == 200
    gone = raw.call("GET", "policies/policy")
    assert gone.status == 404 and _error(gone.body)["message"] == "PoliciesConfiguration not found."
    assert raw.call("PUT", "policies/policy", {"properties": {"value": value}}).status == 201


def test_a_policy_put_with_if_match_star_creates(raw: RawClient, uid: str) -> None:
    """§1.2, §2.4 [POL20 e11, e20]: ``If-Match: *`` on an absent API policy is 201, not 412;
    a product policy PUT without If-Match is 201 [POL20 e28]."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    document = {"properties": {"value": "<policies><inbound><base /></inbound></policies>"}}
    assert (
        raw.call("PUT", f"apis/{uid}/policies/policy", document, headers={"If-Match": "*"}).status
        == 201
    )
    raw.call("PUT", f"products/{uid}", {"properties": {"displayName": uid}})
    assert raw.call("PUT", f"products/{uid}/policies/policy", document).status == 201


def test_rawxml_of_a_policy_without_expressions_is_the_xml_text(raw: RawClient) -> None:
    """§2.6 [POL20 e6, e12, e14]: ``format=xml`` and ``format=rawxml`` give the same text for
    a policy without expressions; each answer names its format."""
    xml = raw.call("GET", "products/starter/policies/policy", query={"format": "xml"}).body
    rawxml = raw.call("GET", "products/starter/policies/policy", query={"format": "rawxml"}).body
    assert xml["properties"]["format"] == "xml" and rawxml["properties"]["format"] == "rawxml"
    assert xml["properties"]["value"] == rawxml["properties"]["value"]


# -- §8.2, §8.3, §9: links ------------------------------------------------------------------------


def test_links_answer_with_the_linked_entitys_etag(raw: RawClient, uid: str) -> None:
    """§8.2 [PRDG e3, e6-e8], §8.3 [PRDA e3, e4, e7, e8]: link PUTs with an empty body are 201
    with the group's / API's ETag; the product-API link answer has ``protocols: null``
    while the list shows the API's protocols; link DELETEs need no If-Match and are 200."""
    raw.call("PUT", f"products/{uid}", {"properties": {"displayName": uid}})
    group = raw.call("PUT", f"products/{uid}/groups/guests")
    assert group.status == 201 and group.header("ETag") == raw.call("GET", "groups/guests").header(
        "ETag"
    )
    assert group.body["id"].endswith(f"/products/{uid}/groups/guests")
    assert group.body["type"] == "Microsoft.ApiManagement/service/products/groups"
    api = raw.call("PUT", f"products/{uid}/apis/echo-api")
    assert api.status == 201 and api.header("ETag") == raw.call("GET", "apis/echo-api").header(
        "ETag"
    )
    assert api.body["properties"]["protocols"] is None
    listed = raw.call("GET", f"products/{uid}/apis").body["value"]
    assert [a["properties"]["protocols"] for a in listed] == [["https"]]
    assert raw.call("DELETE", f"products/{uid}/apis/echo-api").status == 200
    assert raw.call("GET", f"products/{uid}/apis").body == {"value": [], "count": 0}


def test_tags_assign_detach_and_apis_by_tags(raw: RawClient, uid: str) -> None:
    """§9 [TAG19 e4-e14]: assigning a tag to an API (empty body) is 201 with the tag's
    ETag under the nested id; ``apisByTags`` answers the non-ARM shape with relative ids,
    display names and ``"nextLink": null``; a detach is 200, repeated 204, then the tag is
    404 ``Tag not found.`` on the API; the tag's own ETag never changed."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": f"{uid} api", "path": uid}})
    tag = raw.call("PUT", f"tags/{uid}", {"properties": {"displayName": f"{uid} tag"}})
    assigned = raw.call("PUT", f"apis/{uid}/tags/{uid}")
    assert assigned.status == 201 and assigned.header("ETag") == tag.header("ETag")
    assert assigned.body["id"].endswith(f"/apis/{uid}/tags/{uid}")
    found = [
        i for i in raw.call("GET", "apisByTags").body["value"] if i["tag"]["id"] == f"/tags/{uid}"
    ]
    assert found == [
        {
            "tag": {"id": f"/tags/{uid}", "name": f"{uid} tag"},
            "api": {
                "id": f"/apis/{uid}",
                "name": f"{uid} api",
                "apiRevision": "1",
                "description": None,
                "serviceUrl": None,
                "path": uid,
                "protocols": None,
                "authenticationSettings": None,
                "subscriptionKeyParameterNames": None,
                "isCurrent": True,
            },
        }
    ]
    assert raw.call("GET", "apisByTags").body["nextLink"] is None
    assert raw.call("DELETE", f"apis/{uid}/tags/{uid}").status == 200
    assert raw.call("DELETE", f"apis/{uid}/tags/{uid}").status == 204
    detached = raw.call("GET", f"apis/{uid}/tags/{uid}")
    assert detached.status == 404 and _error(detached.body)["message"] == "Tag not found."
    assert raw.call("HEAD", f"tags/{uid}").header("ETag") == tag.header("ETag")


# -- §1.4, §12, §16: the rest ---------------------------------------------------------------


def test_a_name_filter_finds_a_built_in_product(raw: RawClient) -> None:
    """§1.4 [POL20 e24], [PRDG e2]: ``$filter=name eq 'Unlimited'`` finds ``unlimited``."""
    found = raw.call("GET", "products", query={"$filter": "name eq 'Unlimited'"}).body["value"]
    assert [p["name"] for p in found] == ["unlimited"]


def test_key_vault_named_values(raw: RawClient, uid: str) -> None:
    """§12 [NV23 p@60000]: a Key Vault named value has no ``value``; the service fills
    ``identityClientId: null`` and a ``lastStatus``."""
    secret = "https://vault.example.vault.azure.net/secrets/sdkcert1"
    sent = {
        "properties": {"displayName": uid, "secret": True, "keyVault": {"secretIdentifier": secret}}
    }
    properties = raw.call("PUT", f"namedValues/{uid}", sent).body["properties"]
    assert "value" not in properties and properties["secret"] is True
    key_vault = properties["keyVault"]
    assert (key_vault["secretIdentifier"], key_vault["identityClientId"]) == (secret, None)
    assert key_vault["lastStatus"]["code"] == "Success"


def test_service_filled_fields_of_other_entities(raw: RawClient, uid: str) -> None:
    """§16 [API20 e4, e12]: an authorization server gets ``description``,
    ``clientAuthenticationMethod`` and ``tokenBodyParameters`` null and ``supportState``
    false; an OpenID Connect provider gets ``description: null`` and answers no
    ``clientSecret``."""
    server = raw.call("PUT", f"authorizationServers/{uid}", _AUTH_SERVER).body["properties"]
    assert (server["description"], server["clientAuthenticationMethod"]) == (None, None)
    assert (server["tokenBodyParameters"], server["supportState"]) == (None, False)
    sent = {
        "properties": {
            "displayName": uid,
            "metadataEndpoint": "https://idp.example/.well-known",
            "clientId": "c",
            "clientSecret": "s",
        }
    }
    provider = raw.call("PUT", f"openidConnectProviders/{uid}", sent).body["properties"]
    assert provider["description"] is None and "clientSecret" not in provider


def test_graphql_resolvers_answer_ids_not_their_display_name(raw: RawClient, uid: str) -> None:
    """§16 [GQL23 p@29000]: a resolver PUT answers ``internalId``, ``publicId``, its
    ``description`` and ``path``; not the ``displayName`` sent."""
    raw.call(
        "PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid, "type": "graphql"}}
    )
    sent = {
        "properties": {
            "displayName": "resolver_test1",
            "path": "Query/allFamilies",
            "description": "d",
        }
    }
    created = raw.call("PUT", f"apis/{uid}/resolvers/r1", sent)
    assert created.status == 201
    properties = created.body["properties"]
    assert "displayName" not in properties
    assert properties["publicId"] == "r1" and re.fullmatch(
        r"[0-9a-f]{24}", properties["internalId"]
    )
    assert (properties["path"], properties["description"]) == ("Query/allFamilies", "d")


def test_a_wsdl_import_makes_a_soap_pass_through_api(raw: RawClient, uid: str) -> None:
    """§5 (WSDL, as the real exports in shared/corpus show it): ``format: wsdl`` with a
    ``wsdlSelector`` creates a ``soap`` API whose operations are ``POST
    /?soapAction=...``."""
    selector = {"wsdlServiceName": "Calculator", "wsdlEndpointName": "CalculatorSoap12"}
    body = {
        "properties": {
            "path": uid,
            "format": "wsdl",
            "value": CALCULATOR_WSDL,
            "wsdlSelector": selector,
        }
    }
    location = _accepted(raw.call("PUT", f"apis/{uid}", body), "201")
    api = raw.call("GET", "", absolute=location).body["properties"]
    assert (api["type"], api["displayName"]) == ("soap", "Calculator")
    assert api["serviceUrl"] == "http://www.dneonline.com/calculator.asmx"
    operation = raw.call("GET", f"apis/{uid}/operations/Add").body["properties"]
    assert operation["urlTemplate"] == "/?soapAction=http://tempuri.org/Add"


def test_release_lists_omit_the_api_id(raw: RawClient, uid: str) -> None:
    """§4 [REV20 p@120000]: a release's GET shows ``apiId``, the list's items do not."""
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    raw.call(
        "PUT", f"apis/{uid}/releases/r1", {"properties": {"apiId": f"/apis/{uid}", "notes": "n"}}
    )
    assert (
        raw.call("GET", f"apis/{uid}/releases/r1")
        .body["properties"]["apiId"]
        .endswith(f"/apis/{uid}")
    )
    (item,) = raw.call("GET", f"apis/{uid}/releases").body["value"]
    assert "apiId" not in item["properties"] and item["properties"]["notes"] == "n"


def test_names_keep_the_callers_casing(raw: RawClient, uid: str) -> None:
    """§1.1 [GRP20 e4], [LOG20 e2]: ``name`` keeps the casing the caller used."""
    name = f"SdkGroup{uid.upper()}"
    created = raw.call("PUT", f"groups/{name}", {"properties": {"displayName": name}})
    assert created.body["name"] == name and created.body["id"].endswith(f"/groups/{name}")


@pytest.mark.parametrize(
    "action", ["backup", "restore", "migrateToStv2", "applynetworkconfigurationupdates"]
)
def test_service_operations_are_accepted(raw: RawClient, action: str) -> None:
    """Issue 11: the service's own long-running POSTs answer 202 and a Location whose GET
    answers the service, not 501."""
    answer = raw.call(
        "POST", action, {"storageAccount": "s", "containerName": "c", "backupName": "b"}
    )
    assert answer.status == 202
    done = raw.call("GET", "", absolute=str(answer.header("Location")))
    assert done.status == 200 and done.body["type"] == "Microsoft.ApiManagement/service"


def test_workspace_actions(raw: RawClient, uid: str) -> None:
    """Issue 11 (b): the actions of workspace-scoped resources answer too."""
    ws = f"workspaces/{uid}"
    raw.call("PUT", ws, {"properties": {"displayName": uid}})
    raw.call(
        "PUT",
        f"{ws}/namedValues/nv",
        {"properties": {"displayName": "nv", "value": "v", "secret": True}},
    )
    assert raw.call("POST", f"{ws}/namedValues/nv/listValue").body == {"value": "v"}
    raw.call("PUT", f"{ws}/subscriptions/s", {"properties": {"displayName": "s", "scope": "/apis"}})
    first = raw.call("POST", f"{ws}/subscriptions/s/listSecrets").body
    assert first["primaryKey"] and first["secondaryKey"]
    assert raw.call("POST", f"{ws}/subscriptions/s/regeneratePrimaryKey").status == 204
    assert (
        raw.call("POST", f"{ws}/subscriptions/s/listSecrets").body["primaryKey"]
        != first["primaryKey"]
    )
    raw.call("PUT", f"{ws}/apis/a", {"properties": {"displayName": "a", "path": "a"}})
    revisions = raw.call("GET", f"{ws}/apis/a/revisions").body
    assert [r["apiRevision"] for r in revisions["value"]] == ["1"] and revisions["nextLink"] is None
    assert raw.call("POST", f"{ws}/namedValues/missing/listValue").status == 404
