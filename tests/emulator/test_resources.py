"""Backends, named values, loggers, diagnostics, products and links, groups, tags, users."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement import ApiManagementClient

from .conftest import RawClient
from .test_apis import create_api, create_operation, with_etag


def test_backends_single_and_pool(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    one = client.backend.create_or_update(
        rg, svc, f"{uid}-1", {"properties": {"url": "https://one.example", "protocol": "http"}}
    )
    client.backend.create_or_update(
        rg, svc, f"{uid}-2", {"properties": {"url": "https://two.example", "protocol": "http"}}
    )
    pool = client.backend.create_or_update(
        rg,
        svc,
        f"{uid}-pool",
        {
            "properties": {
                "type": "Pool",
                "pool": {
                    "services": [
                        {"id": one.id, "priority": 1},
                        {"id": f"/backends/{uid}-2", "weight": 3},
                    ]
                },
            }
        },
    )
    assert pool.type_properties_type == "Pool"
    assert [s.id for s in pool.pool.services] == [one.id, f"/backends/{uid}-2"]
    _, etag = client.backend.get(rg, svc, f"{uid}-1", cls=with_etag)
    client.backend.update(rg, svc, f"{uid}-1", etag, {"properties": {"description": "primary"}})
    got = client.backend.get(rg, svc, f"{uid}-1")
    assert (got.description, got.url) == ("primary", "https://one.example")
    titles = [
        b.name for b in client.backend.list_by_service(rg, svc, filter=f"startswith(name,'{uid}')")
    ]
    assert titles == [f"{uid}-1", f"{uid}-2", f"{uid}-pool"]
    for bad in (
        {"type": "Pool", "pool": {"services": [{"id": f"/backends/{uid}-missing"}]}},
        {"type": "Pool", "pool": {"services": [{"id": pool.id}]}},
        {"url": "https://x.example"},
    ):
        with pytest.raises(HttpResponseError) as caught:
            client.backend.create_or_update(rg, svc, f"{uid}-bad", {"properties": bad})
        assert caught.value.status_code == 400


def test_secret_named_values_stay_hidden(
    client: ApiManagementClient, rg: str, svc: str, uid: str
) -> None:
    secret = client.named_value.begin_create_or_update(
        rg,
        svc,
        f"{uid}-s",
        {"properties": {"displayName": f"{uid}-s", "value": "hush", "secret": True}},
        polling_interval=0,
    ).result()
    assert secret.value is None and secret.secret is True
    plain = client.named_value.begin_create_or_update(
        rg,
        svc,
        f"{uid}-p",
        {"properties": {"displayName": f"{uid}-p", "value": "open", "tags": ["t"]}},
        polling_interval=0,
    ).result()
    assert plain.value == "open"
    assert client.named_value.get(rg, svc, f"{uid}-s").value is None
    listed = {
        n.name: n.value
        for n in client.named_value.list_by_service(
            rg, svc, filter=f"startswith(displayName,'{uid}')"
        )
    }
    assert listed == {f"{uid}-p": "open", f"{uid}-s": None}
    assert client.named_value.list_value(rg, svc, f"{uid}-s").value == "hush"
    updated = client.named_value.begin_update(
        rg, svc, f"{uid}-s", "*", {"properties": {"value": "quieter"}}, polling_interval=0
    ).result()
    assert updated.value is None
    assert client.named_value.list_value(rg, svc, f"{uid}-s").value == "quieter"


def test_key_vault_named_values(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    key_vault = {"secretIdentifier": "https://vault.example/secrets/x", "identityClientId": "c"}
    created = client.named_value.begin_create_or_update(
        rg,
        svc,
        uid,
        {"properties": {"displayName": uid, "keyVault": key_vault}},
        polling_interval=0,
    ).result()
    assert created.secret is True and created.value is None
    assert created.key_vault.secret_identifier == key_vault["secretIdentifier"]
    assert created.key_vault.last_status.code == "Success"
    refreshed = client.named_value.begin_refresh_secret(rg, svc, uid, polling_interval=0).result()
    assert refreshed.key_vault.last_status.code == "Success"


def test_named_value_names_are_checked(raw: RawClient, uid: str) -> None:
    answer = raw.call(
        "PUT", f"namedValues/{uid}", {"properties": {"displayName": "has space", "value": "v"}}
    )
    assert answer.status == 400
    assert raw.call("PUT", f"namedValues/{uid}", {"properties": {"displayName": uid}}).status == 400


def test_loggers_keep_credentials_in_named_values(
    client: ApiManagementClient, rg: str, svc: str, uid: str
) -> None:
    logger = client.logger.create_or_update(
        rg,
        svc,
        uid,
        {
            "properties": {
                "loggerType": "applicationInsights",
                "credentials": {"instrumentationKey": "ikey"},
            }
        },
    )
    reference = logger.credentials["instrumentationKey"]
    assert reference.startswith("{{Logger-Credentials--") and reference.endswith("}}")
    assert logger.is_buffered is True
    assert client.named_value.list_value(rg, svc, reference[2:-2]).value == "ikey"
    diagnostic = client.diagnostic.create_or_update(
        rg,
        svc,
        "applicationinsights",
        {"properties": {"loggerId": logger.id, "alwaysLog": "allErrors"}},
    )
    assert diagnostic.logger_id == logger.id
    with pytest.raises(HttpResponseError) as caught:
        client.diagnostic.create_or_update(
            rg, svc, "azuremonitor", {"properties": {"loggerId": "/loggers/nope"}}
        )
    assert caught.value.status_code == 400
    create_api(client, rg, svc, uid)
    api_diagnostic = client.api_diagnostic.create_or_update(
        rg, svc, uid, "applicationinsights", {"properties": {"loggerId": f"/loggers/{uid}"}}
    )
    assert api_diagnostic.id.endswith(f"/apis/{uid}/diagnostics/applicationinsights")
    assert [d.name for d in client.api_diagnostic.list_by_service(rg, svc, uid)] == [
        "applicationinsights"
    ]


def test_products_and_both_styles_of_links(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    product = client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    assert (product.subscription_required, product.state) == (True, "notPublished")
    create_api(client, rg, svc, f"{uid}-a")
    create_api(client, rg, svc, f"{uid}-b")
    client.group.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})

    link = client.product_api_link.create_or_update(
        rg, svc, uid, "l1", {"properties": {"apiId": f"/apis/{uid}-a"}}
    )
    assert link.api_id.endswith(f"/service/{svc}/apis/{uid}-a")
    client.product_api.create_or_update(rg, svc, uid, f"{uid}-b")
    assert [a.name for a in client.product_api.list_by_product(rg, svc, uid)] == [
        f"{uid}-a",
        f"{uid}-b",
    ]
    assert len(list(client.product_api_link.list_by_product(rg, svc, uid))) == 2
    assert client.product_api.check_entity_exists(rg, svc, uid, f"{uid}-a") is True
    assert [p.name for p in client.api_product.list_by_apis(rg, svc, f"{uid}-b")] == [uid]
    assert raw.call("PUT", f"products/{uid}/apis/{uid}-b").status == 200

    client.product_group_link.create_or_update(
        rg, svc, uid, "g1", {"properties": {"groupId": f"/groups/{uid}"}}
    )
    client.product_group.create_or_update(rg, svc, uid, "developers")
    groups = [g.name for g in client.product_group.list_by_product(rg, svc, uid)]
    assert groups == ["administrators", "developers", uid]  # administrators: from the create

    client.product_api.delete(rg, svc, uid, f"{uid}-a")
    assert [a.name for a in client.product_api.list_by_product(rg, svc, uid)] == [f"{uid}-b"]
    client.product_group_link.delete(rg, svc, uid, "g1")
    remaining = [g.name for g in client.product_group.list_by_product(rg, svc, uid)]
    assert remaining == ["administrators", "developers"]
    missing = raw.call(
        "PUT", f"products/{uid}/apiLinks/l9", {"properties": {"apiId": "/apis/missing"}}
    )
    assert missing.status == 400

    client.group.delete(rg, svc, uid, "*")
    client.product.delete(rg, svc, uid, "*", delete_subscriptions=True)
    assert raw.call("GET", f"products/{uid}/apiLinks").status == 404
    client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    assert list(client.product_api.list_by_product(rg, svc, uid)) == []


def test_groups_and_built_ins(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    builtins = {
        g.name: g
        for g in client.group.list_by_service(
            rg, svc, filter="startswith(name,'a') or startswith(name,'d') or name eq 'guests'"
        )
    }
    assert {"administrators", "developers", "guests"} <= set(builtins)
    assert (
        builtins["developers"].built_in is True
        and builtins["developers"].type_properties_type == "system"
    )
    with pytest.raises(HttpResponseError) as caught:
        client.group.delete(rg, svc, "developers", "*")
    assert caught.value.status_code == 400
    group = client.group.create_or_update(
        rg, svc, uid, {"properties": {"displayName": uid, "description": "d"}}
    )
    assert (group.built_in, group.type_properties_type) == (False, "custom")
    external = {"displayName": "e", "type": "external", "externalId": "aad://x/groups/y"}
    assert (
        client.group.create_or_update(
            rg, svc, f"{uid}-e", {"properties": external}
        ).type_properties_type
        == "external"
    )


def test_tags_and_tag_links(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    client.tag.create_or_update(rg, svc, uid, {"properties": {"displayName": f"Tag {uid}"}})
    create_api(client, rg, svc, uid)
    create_operation(client, rg, svc, uid, "op")
    client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})

    client.tag_api_link.create_or_update(
        rg, svc, uid, "api1", {"properties": {"apiId": f"/apis/{uid}"}}
    )
    client.tag_operation_link.create_or_update(
        rg, svc, uid, "op1", {"properties": {"operationId": f"/apis/{uid}/operations/op"}}
    )
    client.tag.assign_to_product(rg, svc, uid, uid)
    assert [t.name for t in client.tag.list_by_api(rg, svc, uid)] == [uid]
    assert client.tag.get_by_operation(rg, svc, uid, "op", uid).display_name == f"Tag {uid}"
    assert client.tag.get_entity_state_by_product(rg, svc, uid, uid) is True
    assert [link.name for link in client.tag_product_link.list_by_product(rg, svc, uid)] == [uid]
    by_tags = raw.call("GET", f"apis/{uid}/operationsByTags").body["value"]
    assert [(r["tag"]["name"], r["operation"]["name"]) for r in by_tags] == [(f"Tag {uid}", "op")]

    client.tag.detach_from_api(rg, svc, uid, uid)
    assert list(client.tag.list_by_api(rg, svc, uid)) == []
    client.tag.delete(rg, svc, uid, "*")
    assert list(client.tag.list_by_product(rg, svc, uid)) == []
    assert list(client.tag.list_by_operation(rg, svc, uid, "op")) == []


def test_tag_descriptions(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    create_api(client, rg, svc, uid)
    with pytest.raises(ResourceNotFoundError):
        client.api_tag_description.create_or_update(
            rg, svc, uid, uid, {"properties": {"description": "d"}}
        )
    client.tag.create_or_update(rg, svc, uid, {"properties": {"displayName": "Shown"}})
    described = client.api_tag_description.create_or_update(
        rg, svc, uid, uid, {"properties": {"description": "d"}}
    )
    assert (described.display_name, described.description) == ("Shown", "d")
    assert described.tag_id.endswith(f"/tags/{uid}")


def test_users_groups_and_subscriptions(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    user = client.user.create_or_update(
        rg,
        svc,
        uid,
        {
            "properties": {
                "email": f"{uid}@example.com",
                "firstName": "F",
                "lastName": "L",
                "password": "p",
            }
        },
    )
    assert user.state == "active" and user.registration_date is not None
    assert user.identities[0].provider == "Basic"
    client.group.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    client.group_user.create(rg, svc, uid, uid)
    assert [u.name for u in client.group_user.list(rg, svc, uid)] == [uid]
    assert [g.name for g in client.user_group.list(rg, svc, uid)] == [uid]
    assert client.group_user.check_entity_exists(rg, svc, uid, uid) is True
    assert [g.display_name for g in client.user.get(rg, svc, uid).groups] == [uid]

    client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    subscription = client.subscription.create_or_update(
        rg,
        svc,
        uid,
        {"properties": {"scope": f"/products/{uid}", "displayName": uid, "ownerId": user.id}},
    )
    assert subscription.primary_key is None  # keys only through listSecrets
    keys = client.subscription.list_secrets(rg, svc, uid)
    client.subscription.regenerate_primary_key(rg, svc, uid)
    again = client.subscription.list_secrets(rg, svc, uid)
    assert again.primary_key != keys.primary_key and again.secondary_key == keys.secondary_key
    client.subscription.regenerate_secondary_key(rg, svc, uid)
    assert client.subscription.list_secrets(rg, svc, uid).secondary_key != keys.secondary_key
    assert [s.name for s in client.user_subscription.list(rg, svc, uid)] == [uid]
    assert [s.name for s in client.product_subscriptions.list(rg, svc, uid)] == [uid]
    assert "password" not in raw.call("GET", f"users/{uid}").raw.decode()

    client.user.begin_delete(rg, svc, uid, "*", polling_interval=0).result()
    assert list(client.group_user.list(rg, svc, uid)) == []
    assert raw.call("GET", f"subscriptions/{uid}").status == 404


def test_global_schemas_and_wikis(client: ApiManagementClient, rg: str, svc: str, uid: str) -> None:
    schema = client.global_schema.begin_create_or_update(
        rg,
        svc,
        uid,
        {"properties": {"schemaType": "json", "document": {"type": "object"}}},
        polling_interval=0,
    ).result()
    assert schema.document == {"type": "object"}
    create_api(client, rg, svc, uid)
    wiki = client.api_wiki.create_or_update(
        rg, svc, uid, {"properties": {"documents": [{"documentationId": "d1"}]}}
    )
    assert wiki.name == "default"
    assert client.api_wiki.get_entity_tag(rg, svc, uid) is True
    assert [w.name for w in client.api_wikis.list(rg, svc, uid)] == ["default"]
