from __future__ import annotations

import pytest

from apimsync.errors import ModelError
from apimsync.model import (
    Api,
    Configuration,
    Kind,
    Policy,
    api_id_without_revision,
    kind_of,
    make_resource,
    revision_api_id,
    revision_number,
    revision_of,
)


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


def _two_revisions() -> Configuration:
    return Configuration(
        [
            make_resource("/apis/a", {"path": "a", "apiRevision": "1", "isCurrent": True}),
            make_resource("/apis/a/operations/get", {"method": "GET", "urlTemplate": "/"}),
            make_resource("/apis/a/policies/policy", {"value": "<policies>one</policies>"}),
            make_resource("/apis/a/releases/r1", {"apiId": "/apis/a;rev=1"}),
            make_resource("/apis/a;rev=2", {"path": "a", "apiRevision": "2"}),
            make_resource("/apis/a;rev=2/operations/get", {"method": "GET", "urlTemplate": "/2"}),
            make_resource(
                "/apis/a;rev=2/operations/get/policies/policy",
                {"value": "<policies>two</policies>"},
            ),
            make_resource("/apis/ab;rev=3", {"path": "ab", "apiRevision": "3"}),
        ]
    )


@pytest.mark.parametrize(
    ("resource_id", "revision", "base"),
    [
        ("/apis/a", None, "/apis/a"),
        ("/apis/a;rev=2", "2", "/apis/a"),
        ("/apis/a;rev=2/operations/get", "2", "/apis/a"),
        ("/apis/a;rev=12/operations/get/policies/policy", "12", "/apis/a"),
        ("/backends/b", None, "/backends/b"),
    ],
)
def test_a_revision_id_names_its_revision_and_its_api(
    resource_id: str, revision: str | None, base: str
) -> None:
    assert revision_of(resource_id) == revision
    assert api_id_without_revision(resource_id) == base


def test_the_revision_of_an_api_comes_from_its_properties_then_its_id() -> None:
    assert revision_number(make_resource("/apis/a", {"apiRevision": "4"})) == "4"
    assert revision_number(make_resource("/apis/a;rev=3", {})) == "3"
    assert revision_number(make_resource("/apis/a", {})) == "1"
    assert revision_api_id("/apis/a;rev=5", "2") == "/apis/a;rev=2"


def test_an_api_lists_its_revisions_current_first() -> None:
    revisions = _two_revisions().revisions("/apis/a;rev=2")

    assert [r.id for r in revisions] == ["/apis/a", "/apis/a;rev=2"]


def test_removing_an_api_removes_every_revision_but_removing_a_revision_only_that() -> None:
    config = _two_revisions()

    assert config.without("/apis/a").ids() == {"/apis/ab;rev=3"}
    assert config.without("/apis/a;rev=2").ids() == {
        "/apis/a",
        "/apis/a/operations/get",
        "/apis/a/policies/policy",
        "/apis/a/releases/r1",
        "/apis/ab;rev=3",
    }


def test_making_another_revision_current_swaps_the_revisions_and_their_children() -> None:
    config = _two_revisions()

    released = config.with_current_revision("/apis/a", "2")

    current, old = released.get("/apis/a"), released.get("/apis/a;rev=1")
    assert current is not None and old is not None
    assert dict(current.properties) == {"path": "a", "apiRevision": "2", "isCurrent": True}
    assert dict(old.properties) == {"path": "a", "apiRevision": "1"}
    operation = released.get("/apis/a/operations/get")
    assert operation is not None and operation.get("urlTemplate") == "/2"
    policy = released.get("/apis/a/operations/get/policies/policy")
    assert policy is not None and "two" in str(policy.get("value"))
    old_policy = released.get("/apis/a;rev=1/policies/policy")
    assert old_policy is not None and "one" in str(old_policy.get("value"))
    assert "/apis/a;rev=2" not in released
    assert "/apis/a/releases/r1" in released  # releases belong to the API, not a revision
    assert released.get("/apis/ab;rev=3") == config.get("/apis/ab;rev=3")
    assert len(released) == len(config)
    assert released.with_current_revision("/apis/a", "1") == config


def test_making_a_missing_revision_current_is_refused() -> None:
    with pytest.raises(ModelError, match="no revision 7"):
        _two_revisions().with_current_revision("/apis/a", "7")
