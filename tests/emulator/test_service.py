"""The service resource, authentication, api-version, addressing and TLS."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import Connection, EmulatorProcess

from .conftest import SERVICES, RawClient, StaticTokenCredential


def test_service_resource(client: ApiManagementClient, conn: Connection) -> None:
    service = client.api_management_service.get(conn.resource_group, conn.service)
    assert service.name == conn.service
    assert service.type == "Microsoft.ApiManagement/service"
    assert service.scm_url == f"{conn.endpoint}/scm/{conn.service}"
    assert service.gateway_url == f"https://{conn.service}.azure-api.net"
    assert service.sku.name == "Developer"
    assert service.provisioning_state == "Succeeded"
    assert service.publisher_email


def test_services_in_resource_group(client: ApiManagementClient, conn: Connection) -> None:
    names = [
        s.name for s in client.api_management_service.list_by_resource_group(conn.resource_group)
    ]
    assert names == list(SERVICES)


def test_each_service_has_its_own_resources(raw: RawClient, uid: str) -> None:
    body = {"properties": {"displayName": uid}}
    assert raw.call("PUT", f"tags/{uid}", body, service=SERVICES[1]).status == 201
    assert raw.call("GET", f"tags/{uid}", service=SERVICES[1]).status == 200
    assert raw.call("GET", f"tags/{uid}").status == 404


def test_unknown_service_is_404(raw: RawClient) -> None:
    answer = raw.call("GET", "apis", service="nosuchservice")
    assert answer.status == 404
    assert answer.body["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
    ids=["missing", "wrong-token", "wrong-scheme"],
)
def test_requests_without_the_token_are_401(raw: RawClient, headers: dict[str, str]) -> None:
    answer = raw.call("GET", "apis", headers=headers, auth=False)
    assert answer.status == 401
    assert answer.body["error"]["code"] == "AuthenticationFailed"
    assert (
        answer.header(
            "WWW-Authenticate",
        )
        is not None
    )


def test_sdk_with_a_wrong_token_is_refused(conn: Connection) -> None:
    client = ApiManagementClient(
        StaticTokenCredential("not-the-token"),
        conn.subscription_id,
        base_url=conn.endpoint,
        connection_verify=conn.ca_bundle,
        retry_total=0,
    )
    with pytest.raises(ClientAuthenticationError) as caught:
        client.api.get(conn.resource_group, conn.service, "whatever")
    assert caught.value.status_code == 401


def test_api_version_is_required(raw: RawClient) -> None:
    missing = raw.call("GET", "apis", api_version=None)
    assert missing.status == 400
    assert missing.body["error"]["code"] == "MissingApiVersionParameter"
    wrong = raw.call("GET", "apis", api_version="2021-07-01")  # never a version
    assert wrong.status == 400
    assert wrong.body["error"]["code"] == "InvalidApiVersionParameter"


def test_unimplemented_resource_types_say_so(raw: RawClient) -> None:
    answer = raw.call("GET", "widgets")
    assert answer.status == 501
    assert answer.body["error"]["code"] == "NotImplemented"


def test_404_has_an_arm_error_body(client: ApiManagementClient, rg: str, svc: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        client.backend.get(rg, svc, "does-not-exist")
    assert caught.value.status_code == 404
    assert caught.value.error.code == "ResourceNotFound"


def test_connection_file_and_tls(emulator: EmulatorProcess, conn: Connection) -> None:
    written = Connection.from_file(emulator.data_dir / "connection.json")
    assert written == conn
    assert conn.endpoint.startswith("https://127.0.0.1:")
    assert Path(conn.ca_bundle).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_localhost_name_is_trusted_too(conn: Connection) -> None:
    port = conn.endpoint.rsplit(":", 1)[1]
    local = Connection(
        f"https://localhost:{port}",
        conn.ca_bundle,
        conn.token,
        conn.subscription_id,
        conn.resource_group,
        conn.service,
    )
    assert RawClient(local, None).call("GET", "").status == 200


def test_secrets_never_reach_the_log(
    emulator: EmulatorProcess, raw: RawClient, conn: Connection, uid: str
) -> None:
    secret = f"s3cret-{uid}"
    body = {"properties": {"displayName": uid, "value": secret, "secret": True}}
    assert raw.call("PUT", f"namedValues/{uid}", body).status == 201
    assert raw.call("POST", f"namedValues/{uid}/listValue").body == {"value": secret}
    log = (emulator.data_dir / "emulator.log").read_text(encoding="utf-8")
    assert conn.token not in log
    assert secret not in log
    assert "namedValues/{namedValueId}" in log


def test_chunked_request_bodies_are_read(conn: Connection, uid: str) -> None:
    raw = RawClient(conn, None)
    connection = http.client.HTTPSConnection(raw.host, raw.port, context=raw.context, timeout=30)
    body = json.dumps({"properties": {"displayName": uid}}).encode()
    connection.request(
        "PUT",
        raw.service_path(f"tags/{uid}") + "?api-version=2024-05-01",
        body=iter([body[:10], body[10:]]),
        headers={"Authorization": f"Bearer {conn.token}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    assert connection.getresponse().status == 201
    connection.close()
    assert raw.call("GET", f"tags/{uid}").body["properties"]["displayName"] == uid


def test_each_emulator_logs_to_its_own_folder(emulator: EmulatorProcess, tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path) as other:
        endpoint = other.connection.endpoint
        RawClient(other.connection, None).call("GET", "backends")
    own = (emulator.data_dir / "emulator.log").read_text(encoding="utf-8")
    theirs = (tmp_path / "emulator.log").read_text(encoding="utf-8")
    assert f"listening on {endpoint}" in theirs and "GET /backends 200" in theirs
    assert endpoint not in own
