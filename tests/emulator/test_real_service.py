"""Conformance with the real service: each test is one behaviour of
``shared/docs/real-service-behaviour.md`` (the catalogue), cited by section and keys.

The catalogue was read from recordings of the real service at several api-versions;
where it shows drift, the emulator follows the newest recorded behaviour and the test
says so. Requests go over HTTPS to the session emulator (``raw``: status codes,
headers and bodies exactly; ``client``: the real azure-mgmt-apimanagement SDK).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import EmulatorProcess

from .conftest import RawClient, Recorder


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
