from __future__ import annotations

import pytest

from apimsync.errors import ModelError
from apimsync.model import Api, Configuration, Kind, Policy, kind_of, make_resource


@pytest.mark.parametrize(
    ("resource_id", "kind"),
    [
        ("/apis/open-ai", Kind.API),
        ("/apis/open-ai;rev=2", Kind.API),
        ("/apis/open-ai/operations/post-query", Kind.OPERATION),
        ("/policies/policy", Kind.POLICY),
        ("/apis/open-ai/operations/post-query/policies/policy", Kind.POLICY),
        ("/products/starter/policies/policy", Kind.POLICY),
        ("/products/starter/apiLinks/open-ai", Kind.PRODUCT_API_LINK),
        ("/apis/echo/diagnostics/applicationinsights", Kind.DIAGNOSTIC),
        ("/namedValues/openai-key", Kind.NAMED_VALUE),
    ],
)
def test_an_id_names_its_kind(resource_id: str, kind: Kind) -> None:
    assert kind_of(resource_id) is kind
    assert make_resource(resource_id, {}).kind is kind


@pytest.mark.parametrize("bad", ["", "/", "/apis", "/apis/", "/widgets/x", "apis/x", "/apis/a/b"])
def test_a_malformed_id_is_refused_with_a_message(bad: str) -> None:
    with pytest.raises(ModelError, match="is not the id"):
        kind_of(bad)


def test_resources_are_frozen_and_compare_by_content_not_key_order() -> None:
    first = make_resource("/apis/a", {"path": "a", "protocols": ["https"]})
    second = make_resource("/apis/a", {"protocols": ["https"], "path": "a"})

    assert first == second and hash(first) == hash(second)
    assert isinstance(first, Api) and first.path == "a"
    with pytest.raises(AttributeError):
        first.id = "/apis/b"  # type: ignore[misc]


def test_with_properties_sets_and_removes_keys_without_touching_the_original() -> None:
    api = make_resource("/apis/a", {"path": "a", "serviceUrl": "https://old.test"})

    changed = api.with_properties(serviceUrl=None, displayName="A")

    assert dict(changed.properties) == {"path": "a", "displayName": "A"}
    assert api.get("serviceUrl") == "https://old.test"


def test_removing_an_api_removes_its_children_and_links_to_them() -> None:
    config = Configuration(
        [
            make_resource("/apis/a", {"path": "a"}),
            make_resource("/apis/a/operations/get", {"method": "GET"}),
            make_resource("/apis/a/operations/get/policies/policy", {"value": "<policies/>"}),
            make_resource("/products/p", {"displayName": "P"}),
            make_resource("/products/p/apiLinks/a", {"apiId": "/apis/a"}),
            make_resource("/tags/t", {"displayName": "T"}),
            make_resource(
                "/tags/t/operationLinks/a_get", {"operationId": "/apis/a/operations/get"}
            ),
        ]
    )

    remaining = config.without("/apis/a")

    assert remaining.ids() == {"/products/p", "/tags/t"}


def test_a_child_needs_its_parent() -> None:
    with pytest.raises(ModelError, match="does not exist"):
        Configuration().with_resources(make_resource("/apis/a/operations/get", {}))


def test_two_resources_cannot_share_an_id() -> None:
    with pytest.raises(ModelError, match="share the id"):
        Configuration([make_resource("/apis/a", {}), make_resource("/apis/a", {"path": "x"})])


def test_a_policy_knows_its_owner() -> None:
    assert Policy("/policies/policy").owner is None
    assert Policy("/products/p/policies/policy").owner == "/products/p"
