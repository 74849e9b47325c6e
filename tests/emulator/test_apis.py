"""APIs, revisions, releases, operations, schemas: through the real SDK."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement import ApiManagementClient

from .conftest import RawClient


def with_etag(response: Any, deserialized: Any, headers: dict[str, str]) -> tuple[Any, str]:
    return deserialized, headers["ETag"]


def create_api(client: ApiManagementClient, rg: str, svc: str, api_id: str, **props: Any) -> Any:
    properties = {"displayName": api_id, "path": api_id, "serviceUrl": "https://backend.example"}
    properties.update(props)
    poller = client.api.begin_create_or_update(
        rg, svc, api_id, {"properties": properties}, polling_interval=0
    )
    return poller.result()


def delete_api(raw: RawClient, api_id: str, if_match: str = "*") -> int:
    """DELETE an API (or revision) over HTTPS: the service answers 200 as recorded (§3.4),
    which the SDK's begin_delete (expecting 202/204) refuses."""
    return raw.call("DELETE", f"apis/{api_id}", headers={"If-Match": if_match}).status


def create_operation(
    client: ApiManagementClient, rg: str, svc: str, api_id: str, op_id: str
) -> Any:
    body = {
        "properties": {
            "displayName": op_id,
            "method": "GET",
            "urlTemplate": "/items/{id}",
            "templateParameters": [{"name": "id", "type": "string", "required": True}],
        }
    }
    return client.api_operation.create_or_update(rg, svc, api_id, op_id, body)


def test_create_read_update_delete(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    api = create_api(client, rg, svc, uid, description="first")
    assert api.name == uid
    assert api.type == "Microsoft.ApiManagement/service/apis"
    assert api.id.endswith(f"/service/{svc}/apis/{uid}")
    assert (api.api_revision, api.is_current, api.is_online) == ("1", True, True)
    assert api.subscription_required is True
    got, etag = client.api.get(rg, svc, uid, cls=with_etag)
    assert got.description == "first"
    assert etag.startswith('"')
    assert client.api.get_entity_tag(rg, svc, uid) is True

    updated = client.api.update(rg, svc, uid, etag, {"properties": {"description": "second"}})
    assert updated.description == "second"
    assert updated.path == uid  # PATCH merges: what it does not name stays
    again = create_api(client, rg, svc, uid, description="third")
    assert again.description == "third"

    assert delete_api(raw, uid) == 200
    with pytest.raises(ResourceNotFoundError) as caught:
        client.api.get(rg, svc, uid)
    assert caught.value.error.code == "ResourceNotFound"


def test_created_201_updated_200_without_lro_headers(raw: RawClient, uid: str) -> None:
    """A plain API PUT is synchronous (catalogue §1.3, [API20 e5])."""
    body = {"properties": {"displayName": uid, "path": uid}}
    created = raw.call("PUT", f"apis/{uid}", body)
    assert created.status == 201
    assert created.header("ETag")
    assert created.header("Location") is None and created.header("Azure-AsyncOperation") is None
    assert created.body["properties"]["provisioningState"] == "Succeeded"
    assert raw.call("PUT", f"apis/{uid}", body).status == 200
    assert delete_api(raw, uid) == 200
    assert delete_api(raw, uid) == 204


def test_etag_conflicts_are_412(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    create_api(client, rg, svc, uid)
    _, etag = client.api.get(rg, svc, uid, cls=with_etag)
    client.api.update(rg, svc, uid, etag, {"properties": {"description": "changed"}})
    for attempt in (
        lambda: client.api.update(rg, svc, uid, etag, {"properties": {"description": "stale"}}),
        lambda: client.api.begin_create_or_update(
            rg, svc, uid, {"properties": {"path": uid}}, if_match=etag, polling_interval=0
        ).result(),
    ):
        with pytest.raises(HttpResponseError) as caught:
            attempt()
        assert caught.value.status_code == 412
        assert caught.value.error.code == "PreconditionFailed"
    assert delete_api(raw, uid, if_match=etag) == 412
    assert client.api.get(rg, svc, uid).description == "changed"


def test_if_match_is_required_where_the_spec_says(raw: RawClient, uid: str) -> None:
    raw.call("PUT", f"tags/{uid}", {"properties": {"displayName": uid}})
    missing = raw.call("DELETE", f"tags/{uid}")
    assert missing.status == 400
    assert raw.call("PATCH", f"tags/{uid}", {"properties": {"displayName": "x"}}).status == 400
    assert raw.call("DELETE", f"tags/{uid}", headers={"If-Match": "*"}).status == 200


def test_missing_things_are_404(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    with pytest.raises(ResourceNotFoundError):
        client.api.get(rg, svc, uid)
    with pytest.raises(ResourceNotFoundError):
        client.api_operation.get(rg, svc, uid, "op")
    with pytest.raises(ResourceNotFoundError):
        create_operation(client, rg, svc, uid, "op")
    with pytest.raises(ResourceNotFoundError):
        client.api.update(rg, svc, uid, "*", {"properties": {"description": "x"}})


def test_required_properties_are_validated(raw: RawClient, uid: str) -> None:
    no_path = raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid}})
    assert no_path.status == 400
    assert no_path.body["error"]["code"] == "ValidationError"
    assert no_path.body["error"]["details"][0]["target"] == "path"
    raw.call("PUT", f"apis/{uid}", {"properties": {"displayName": uid, "path": uid}})
    bad_template = raw.call(
        "PUT",
        f"apis/{uid}/operations/op",
        {"properties": {"displayName": "x", "method": "GET", "urlTemplate": "/a/{id}"}},
    )
    assert bad_template.status == 400
    taken = raw.call("PUT", f"apis/{uid}-other", {"properties": {"displayName": "o", "path": uid}})
    assert taken.status == 400
    assert taken.body["error"]["details"][0]["target"] == "path"


def test_operations(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    create_api(client, rg, svc, uid)
    op = create_operation(client, rg, svc, uid, "get-item")
    assert op.id.endswith(f"/apis/{uid}/operations/get-item")
    assert op.template_parameters[0].name == "id"
    got = client.api_operation.get(rg, svc, uid, "get-item")
    assert (got.method, got.url_template) == ("GET", "/items/{id}")
    client.api_operation.update(rg, svc, uid, "get-item", "*", {"properties": {"method": "POST"}})
    assert client.api_operation.get(rg, svc, uid, "get-item").method == "POST"
    names = [o.name for o in client.api_operation.list_by_api(rg, svc, uid)]
    assert names == ["get-item"]
    client.api_operation.delete(rg, svc, uid, "get-item", "*")
    assert list(client.api_operation.list_by_api(rg, svc, uid)) == []


def test_deleting_an_api_deletes_its_children_and_links(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    create_api(client, rg, svc, uid)
    create_operation(client, rg, svc, uid, "op")
    policy = {"properties": {"value": "<policies><inbound><base /></inbound></policies>"}}
    client.api_policy.create_or_update(rg, svc, uid, "policy", policy)
    client.api_operation_policy.create_or_update(rg, svc, uid, "op", "policy", policy)
    client.api_release.create_or_update(rg, svc, uid, "r1", {"properties": {"notes": "n"}})
    client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    client.product_api.create_or_update(rg, svc, uid, uid)
    client.tag.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    client.tag.assign_to_api(rg, svc, uid, uid)
    client.tag.assign_to_operation(rg, svc, uid, "op", uid)

    assert delete_api(raw, uid) == 200
    create_api(client, rg, svc, uid)  # same id again: nothing of the old API survives
    assert list(client.api_operation.list_by_api(rg, svc, uid)) == []
    assert client.api_policy.list_by_api(rg, svc, uid).value == []
    assert list(client.api_release.list_by_service(rg, svc, uid)) == []
    assert list(client.product_api.list_by_product(rg, svc, uid)) == []
    assert list(client.product_api_link.list_by_product(rg, svc, uid)) == []
    assert list(client.tag_api_link.list_by_product(rg, svc, uid)) == []
    assert list(client.tag_operation_link.list_by_product(rg, svc, uid)) == []
    assert raw.call("HEAD", f"products/{uid}/apis/{uid}").status == 404


def test_revisions_and_releases(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    create_api(client, rg, svc, uid, description="v1")
    create_operation(client, rg, svc, uid, "op")
    rev2 = client.api.begin_create_or_update(
        rg,
        svc,
        f"{uid};rev=2",
        {"properties": {"sourceApiId": f"/apis/{uid}", "apiRevisionDescription": "second"}},
        polling_interval=0,
    ).result()
    # a non-current revision has no isCurrent key at all (catalogue §4)
    assert (rev2.name, rev2.api_revision, rev2.is_current) == (f"{uid};rev=2", "2", None)
    assert rev2.path == uid and rev2.description == "v1"  # copied from the source
    assert [o.name for o in client.api_operation.list_by_api(rg, svc, f"{uid};rev=2")] == ["op"]
    revisions = list(client.api_revision.list_by_service(rg, svc, uid))
    # newest first, as recorded (catalogue §4 [REV20 p@104000])
    assert [(r.api_revision, r.is_current) for r in revisions] == [("2", False), ("1", True)]
    assert revisions[0].description == "second"
    everything = {a.name for a in client.api.list_by_service(rg, svc, filter=f"path eq '{uid}'")}
    assert everything == {uid, f"{uid};rev=2"}
    current = {
        a.name
        for a in client.api.list_by_service(
            rg, svc, filter=f"path eq '{uid}' and isCurrent eq true"
        )
    }
    assert current == {uid}

    release = client.api_release.create_or_update(
        rg, svc, uid, "go-live", {"properties": {"apiId": f"/apis/{uid};rev=2", "notes": "ship"}}
    )
    assert release.notes == "ship"
    assert release.created_date_time is not None
    assert client.api.get(rg, svc, uid).api_revision == "2"
    assert client.api.get(rg, svc, f"{uid};rev=1").is_current is None
    assert delete_api(raw, f"{uid};rev=2") == 400  # the current revision
    assert delete_api(raw, f"{uid};rev=1") == 200
    assert [r.api_revision for r in client.api_revision.list_by_service(rg, svc, uid)] == ["2"]


def test_api_schemas(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    create_api(client, rg, svc, uid)
    document = {"components": {"schemas": {"Pet": {"type": "object"}}}}
    body = {
        "properties": {
            "contentType": "application/vnd.oai.openapi.components+json",
            "document": document,
        }
    }
    accepted = raw.call("PUT", f"apis/{uid}/schemas/s1", body)
    assert accepted.status == 202  # long-running as recorded (§6); the SDK expects 200/201
    raw.call("GET", "", absolute=accepted.header("Location"))
    schema = client.api_schema.get(rg, svc, uid, "s1")
    assert schema.provisioning_state == "Succeeded"
    assert schema.components == document["components"]
    assert [s.name for s in client.api_schema.list_by_api(rg, svc, uid)] == ["s1"]
    client.api_schema.delete(rg, svc, uid, "s1", "*")
    assert list(client.api_schema.list_by_api(rg, svc, uid)) == []


def test_paging_beyond_the_page_size(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    for i in range(105):
        raw.call("PUT", f"tags/{uid}-{i:03d}", {"properties": {"displayName": f"{uid} {i}"}})
    names = [
        t.name for t in client.tag.list_by_service(rg, svc, filter=f"startswith(name, '{uid}')")
    ]
    assert names == [f"{uid}-{i:03d}" for i in range(105)]
    first = raw.call("GET", "tags", query={"$filter": f"startswith(name,'{uid}')"})
    assert (len(first.body["value"]), first.body["count"]) == (100, 105)
    second = raw.call("GET", "", absolute=first.body["nextLink"])
    assert len(second.body["value"]) == 5 and "nextLink" not in second.body
    small = [
        t.name
        for t in client.tag.list_by_service(rg, svc, filter=f"startswith(name,'{uid}')", top=7)
    ]
    assert len(small) == 105
    page = raw.call(
        "GET", "tags", query={"$filter": f"startswith(name,'{uid}')", "$top": "7", "$skip": "100"}
    )
    assert [t["name"] for t in page.body["value"]] == [f"{uid}-{i:03d}" for i in range(100, 105)]
    assert raw.call("GET", "tags", query={"$top": "0"}).status == 400
    query = {"$filter": f"startswith(name,'{uid}')", "$orderby": "name desc", "$top": "3"}
    newest = raw.call("GET", "tags", query=query).body["value"]
    assert [t["name"] for t in newest] == [f"{uid}-104", f"{uid}-103", f"{uid}-102"]
    assert raw.call("GET", "tags", query={"$orderby": "bogus"}).status == 400


FILTER_IDS = "flt" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def filter_apis(client: ApiManagementClient, rg: str, svc: str) -> str:
    u = FILTER_IDS
    for suffix, name, host in (
        ("a", "Alpha", "alpha"),
        ("b", "Beta", "beta"),
        ("c", "Gamma", "gamma"),
    ):
        create_api(
            client,
            rg,
            svc,
            f"{u}-{suffix}",
            displayName=f"{name} {u}",
            path=f"{u}/{suffix}",
            serviceUrl=f"https://{host}.{u}.example",
        )
    return u


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name eq '{u}-b'", ["b"]),
        ("displayName eq 'Beta {u}'", ["b"]),
        ("startswith(displayName, 'Alpha') and endswith(displayName, '{u}')", ["a"]),
        ("contains(serviceUrl, 'beta.{u}')", ["b"]),
        ("endswith(path,'{u}/c')", ["c"]),
        ("substringof('gamma.{u}', serviceUrl)", ["c"]),
        ("contains(path,'{u}/') and not (name eq '{u}-a')", ["b", "c"]),
        ("name eq '{u}-a' or name eq '{u}-c'", ["a", "c"]),
        ("startswith(name,'{u}') and name ne '{u}-a' and path gt '{u}/b'", ["c"]),
        ("NAME EQ '{U}-A'", ["a"]),
    ],
)
def test_filters(
    client: ApiManagementClient,
    rg: str,
    svc: str,
    filter_apis: str,
    expression: str,
    expected: list[str],
) -> None:
    u = filter_apis
    found = [
        a.name
        for a in client.api.list_by_service(rg, svc, filter=expression.format(u=u, U=u.upper()))
    ]
    assert found == [f"{u}-{s}" for s in expected]


@pytest.mark.parametrize(
    "expression",
    [
        "bogus eq 'x'",
        "name eq",
        "startswith(name)",
        "isCurrent gt true",
        "name like 'x'",
        "(name eq 'x'",
    ],
)
def test_unsupported_filters_are_400(raw: RawClient, expression: str) -> None:
    answer = raw.call("GET", "apis", query={"$filter": expression})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "ValidationError"


def test_import_of_an_inline_openapi_document(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    document = {
        "openapi": "3.0.1",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "https://pets.example"}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "summary": "List pets",
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/pets/{id}": {
                "delete": {
                    "operationId": "deletePet",
                    "responses": {"204": {"description": "gone"}},
                }
            },
        },
    }
    body = {"properties": {"format": "openapi+json", "value": json.dumps(document), "path": uid}}
    assert raw.call("PUT", f"apis/{uid}", body).status == 202  # long-running as recorded (§5)
    api = client.api.get(rg, svc, uid)
    assert (api.display_name, api.service_url) == ("Pets", "https://pets.example")
    ops = {o.name: o for o in client.api_operation.list_by_api(rg, svc, uid)}
    assert set(ops) == {"listPets", "deletePet"}
    assert ops["deletePet"].template_parameters[0].name == "id"


def test_version_sets_and_expansion(
    client: ApiManagementClient, rg: str, svc: str, uid: str
) -> None:
    version_set = client.api_version_set.create_or_update(
        rg, svc, uid, {"properties": {"displayName": uid, "versioningScheme": "Segment"}}
    )
    create_api(
        client, rg, svc, f"{uid}-v1", apiVersion="v1", apiVersionSetId=version_set.id, path=uid
    )
    create_api(
        client, rg, svc, f"{uid}-v2", apiVersion="v2", apiVersionSetId=version_set.id, path=uid
    )
    listed = list(
        client.api.list_by_service(rg, svc, filter=f"path eq '{uid}'", expand_api_version_set=True)
    )
    assert {a.api_version_set.name for a in listed} == {uid}
    with pytest.raises(HttpResponseError) as caught:
        client.api_version_set.create_or_update(
            rg, svc, f"{uid}-q", {"properties": {"displayName": "q", "versioningScheme": "Query"}}
        )
    assert caught.value.status_code == 400
