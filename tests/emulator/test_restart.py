"""State survives a restart: same token, same CA, same resources, same ETags."""

from __future__ import annotations

from pathlib import Path

from apimsync.emulator import EmulatorProcess

from .conftest import RawClient, make_client

POLICY = '<policies><inbound><set-variable name="a" value="@("x")" /></inbound></policies>'


def _populate(raw: RawClient) -> None:
    raw.call(
        "PUT", "namedValues/nv", {"properties": {"displayName": "nv", "value": "v", "secret": True}}
    )
    raw.call("PUT", "apis/echo", {"properties": {"displayName": "Echo", "path": "mine"}})
    raw.call(
        "PUT",
        "apis/echo/operations/op",
        {"properties": {"displayName": "op", "method": "GET", "urlTemplate": "/"}},
    )
    raw.call(
        "PUT", "apis/echo/policies/policy", {"properties": {"format": "rawxml", "value": POLICY}}
    )
    raw.call("PUT", "apis/echo;rev=2", {"properties": {"sourceApiId": "/apis/echo"}})
    raw.call("PUT", "products/p", {"properties": {"displayName": "P"}})
    raw.call("PUT", "products/p/apis/echo")
    raw.call("PUT", "backends/b", {"properties": {"url": "https://b.example", "protocol": "http"}})


def _snapshot(raw: RawClient) -> dict[str, object]:
    paths = [
        "apis",
        "apis/echo/operations",
        "apis/echo;rev=2/operations",
        "products/p/apis",
        "backends",
        "namedValues",
        "groups",
        "tenant",
        "policies",
    ]
    state: dict[str, object] = {p: raw.call("GET", p).body for p in paths}
    state["policy"] = raw.call("GET", "apis/echo/policies/policy", query={"format": "rawxml"}).body
    state["etag"] = raw.call("GET", "apis/echo").header("ETag")
    state["secret"] = raw.call("POST", "namedValues/nv/listValue").body
    state["keys"] = raw.call("POST", "tenant/gitAccess/listSecrets").body
    return state


def test_restart_keeps_everything(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path, mode="subprocess", services=("one", "two")) as first:
        before_conn = first.connection
        raw = RawClient(before_conn, None)
        _populate(raw)
        before = _snapshot(raw)
    assert not (tmp_path / "connection.json").exists()
    with EmulatorProcess(tmp_path, services=("one", "two")) as second:
        after_conn = second.connection
        assert after_conn.token == before_conn.token
        assert after_conn.ca_bundle == before_conn.ca_bundle
        assert Path(after_conn.ca_bundle).read_bytes() == Path(before_conn.ca_bundle).read_bytes()
        assert after_conn.subscription_id == before_conn.subscription_id
        after = _snapshot(RawClient(after_conn, None))
        client = make_client(after_conn, None)
        assert client.api.get(after_conn.resource_group, "one", "echo").display_name == "Echo"
    assert _normalise(after, after_conn.endpoint) == _normalise(before, before_conn.endpoint)


def _normalise(state: dict[str, object], endpoint: str) -> str:
    return repr(state).replace(endpoint, "ENDPOINT")
