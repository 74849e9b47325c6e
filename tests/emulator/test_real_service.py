"""Conformance with the real service: each test is one behaviour of
``shared/docs/real-service-behaviour.md`` (the catalogue), cited by section and keys.

The catalogue was read from recordings of the real service at several api-versions;
where it shows drift, the emulator follows the newest recorded behaviour and the test
says so. Requests go over HTTPS to the session emulator (``raw``: status codes,
headers and bodies exactly; ``client``: the real azure-mgmt-apimanagement SDK).
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.apimanagement import ApiManagementClient

from .conftest import RawClient


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
