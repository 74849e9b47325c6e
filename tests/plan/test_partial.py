"""Partial plans as data: what is considered, what is read, what is planned.

The instance side here is a Configuration standing for what the reads returned; the
reads themselves are tested against the emulator (tests/targets/test_reading_selected.py)
and the whole command in tests/commands/test_incremental.py.
"""

from __future__ import annotations

import pytest

from apimsync.model import Configuration, Kind, Resource, make_resource
from apimsync.plan.changes import Action, PartialScope
from apimsync.plan.conflicts import ValueTaken
from apimsync.plan.partial import OwnersMissing, PartialPlanner
from apimsync.plan.references import MissingOnInstance
from apimsync.validate.findings import Finding, Severity

SCOPE = PartialScope("deployed/prod", "0123456789abcdef0123456789abcdef01234567")
POLICY = "<policies><inbound><base /></inbound></policies>"


def api(name: str, path: str | None = None, **extra: object) -> Resource:
    return make_resource(
        f"/apis/{name}",
        {"displayName": name, "path": path or name, "protocols": ["https"], **extra},
    )


def operation(api_name: str, name: str, url: str = "/x") -> Resource:
    return make_resource(
        f"/apis/{api_name}/operations/{name}",
        {"displayName": name, "method": "GET", "urlTemplate": url},
    )


def policy(owner: str, text: str = POLICY) -> Resource:
    return make_resource(f"{owner}/policies/policy", {"format": "rawxml", "value": text})


def backend(name: str, url: str = "https://b.example.test") -> Resource:
    return make_resource(f"/backends/{name}", {"url": url, "protocol": "http"})


def api_link(product: str, name: str, api_name: str) -> Resource:
    return make_resource(f"/products/{product}/apiLinks/{name}", {"apiId": f"/apis/{api_name}"})


def product(name: str) -> Resource:
    return make_resource(f"/products/{name}", {"displayName": name, "state": "published"})


def base() -> list[Resource]:
    return [
        api("echo"),
        operation("echo", "get"),
        policy("/apis/echo/operations/get"),
        api("orders"),
        operation("orders", "list"),
        backend("b1"),
        product("p"),
        api_link("p", "echo", "echo"),
    ]


def replaced(resources: list[Resource], *changes: Resource) -> Configuration:
    by_id = {r.id: r for r in resources}
    by_id.update({r.id: r for r in changes})
    return Configuration(by_id.values())


def without(resources: list[Resource], *ids: str) -> Configuration:
    return Configuration(r for r in resources if r.id not in ids and not r.id.startswith(ids))


def ids(resources: object) -> set[str]:
    return {r.id for r in resources}  # type: ignore[attr-defined]


# -- what is considered ----------------------------------------------------------------


def test_only_resources_whose_configuration_differs_are_considered() -> None:
    old = Configuration(base())
    changed_policy = policy("/apis/echo/operations/get", POLICY.replace("<base />", "<base/>x"))
    new = replaced(base(), changed_policy, backend("b2"))

    planner = PartialPlanner(new, old)

    assert planner.considered == {changed_policy.id.casefold(), "/backends/b2"}
    assert planner.deleted == {}


def test_a_deleted_resource_is_considered_and_a_case_change_deletes_nothing() -> None:
    old = Configuration(base())
    recased = make_resource("/backends/B1", backend("b1").properties)
    new = replaced([r for r in base() if r.id != "/backends/b1"], recased)
    new = Configuration(r for r in new if not r.id.startswith("/apis/orders"))

    planner = PartialPlanner(new, old)

    assert set(planner.deleted) == {"/apis/orders", "/apis/orders/operations/list"}
    assert "/backends/b1" in planner.considered  # the id's spelling changed: read it again


def test_without_the_old_files_everything_is_changed_and_nothing_deleted() -> None:
    planner = PartialPlanner(Configuration(base()), None)

    assert planner.considered == {r.id.casefold() for r in base()}
    assert planner.deleted == {}


# -- what is read ----------------------------------------------------------------------


def test_links_are_listed_by_owner_deleted_owners_by_children() -> None:
    old = Configuration(base())
    new = replaced(
        [r for r in base() if not r.id.startswith("/apis/orders")],
        api_link("p", "new-link", "echo"),
        api("fresh", path="fresh/v1"),
        make_resource("/namedValues/key", {"displayName": "Key", "value": "v"}),
    )
    planner = PartialPlanner(new, old)

    reads = planner.first_reads(())

    assert set(reads.ids) == {
        "/apis/orders",
        "/apis/orders/operations/list",
        "/apis/fresh",
        "/namedValues/key",
    }
    assert reads.links == (("/products/p", Kind.PRODUCT_API_LINK),)
    assert reads.children == ("/apis/orders",)
    assert reads.named_values == ("Key",)
    assert reads.api_paths == ("fresh/v1",)


def finding(code: str, subject: str) -> Finding:
    return Finding(
        "api-management/policies/apis/echo.xml", 3, 5, Severity.WARNING, code, "m", subject
    )


def test_offline_unresolved_references_are_read_by_id_or_display_name() -> None:
    planner = PartialPlanner(Configuration(base()), Configuration(base()))
    unresolved = [
        finding("unknown-backend", "shared-backend"),
        finding("unknown-named-value", "Tenant Id"),
        finding("unknown-fragment", "cors"),
        finding("unknown-logger", "../x"),  # not a name any resource has: nothing to read
    ]

    reads = planner.first_reads(unresolved)

    assert reads.ids == ("/backends/shared-backend", "/policyFragments/cors")
    assert reads.named_values == ("Tenant Id",)
    assert not reads.links and not reads.children and not reads.api_paths


def test_nothing_changed_reads_nothing() -> None:
    planner = PartialPlanner(Configuration(base()), Configuration(base()))
    assert not planner.first_reads(())


# -- the plan --------------------------------------------------------------------------


def test_the_plan_holds_only_considered_resources_and_says_it_is_partial() -> None:
    old = Configuration(base())
    new = replaced(base(), backend("b1", "https://moved.example.test"))
    live = Configuration([*base(), backend("drifted", "https://elsewhere.example.test")])
    drifted_orders = api("orders", path="drifted")
    live = replaced(list(live), drifted_orders)

    plan = PartialPlanner(new, old).plan(live, SCOPE, prune=True, etags={"/backends/b1": '"e"'})

    assert [(c.action, c.resource_id) for c in plan.changes] == [(Action.UPDATE, "/backends/b1")]
    assert plan.changes[0].etag == '"e"'
    assert plan.unmanaged == ()
    assert plan.partial == SCOPE


def test_prune_deletes_what_the_files_deleted_with_what_it_holds_live() -> None:
    old = Configuration(base())
    new = without(base(), "/apis/orders")
    live = Configuration([*base(), operation("orders", "added-on-the-instance")])

    pruned = PartialPlanner(new, old).plan(live, SCOPE, prune=True)
    kept = PartialPlanner(new, old).plan(live, SCOPE, prune=False)

    assert [(c.action, c.resource_id) for c in pruned.changes] == [(Action.DELETE, "/apis/orders")]
    assert set(pruned.changes[0].cascade) == {
        "/apis/orders/operations/list",
        "/apis/orders/operations/added-on-the-instance",
    }
    assert kept.is_empty
    assert "/apis/orders" in kept.unmanaged


def test_a_link_of_another_name_that_links_the_same_is_no_change() -> None:
    old = Configuration(base())
    renamed = api_link("p", "renamed", "echo")
    new = replaced([r for r in base() if r.id != "/products/p/apiLinks/echo"], renamed)
    live = replaced(
        [r for r in base() if r.id != "/products/p/apiLinks/echo"],
        api_link("p", "generated-1", "echo"),
        api_link("p", "other", "orders"),  # another link the files never held
    )

    plan = PartialPlanner(new, old).plan(live, SCOPE, prune=True)

    assert plan.is_empty


def test_prune_never_deletes_a_planned_live_resource_the_files_did_not_delete() -> None:
    old = Configuration(base())
    new = replaced(base(), api_link("p", "orders", "orders"))
    live = replaced(base(), api_link("p", "orders", "orders"), api_link("p", "orders-2", "orders"))

    plan = PartialPlanner(new, old).plan(live, SCOPE, prune=True)

    assert plan.is_empty
    assert plan.unmanaged == ("/products/p/apiLinks/orders-2",)


def test_a_missing_reference_is_refused_before_any_write() -> None:
    text = POLICY.replace("<base />", '<base /><set-backend-service backend-id="shared" />')
    old = Configuration(base())
    new = replaced(base(), policy("/apis/echo/operations/get", text))
    planner = PartialPlanner(new, old)
    unresolved = [finding("unknown-backend", "shared")]

    with pytest.raises(MissingOnInstance, match="backend 'shared'"):
        planner.plan(Configuration(base()), SCOPE, unresolved=unresolved)

    found = planner.plan(Configuration([*base(), backend("shared")]), SCOPE, unresolved=unresolved)
    assert [c.resource_id for c in found.changes] == ["/apis/echo/operations/get/policies/policy"]


def test_a_path_a_live_api_outside_the_files_holds_is_refused() -> None:
    old = Configuration(base())
    new = replaced(base(), api("fresh", path="legacy"))
    live = Configuration([*base(), api("legacy-api", path="legacy")])

    with pytest.raises(ValueTaken, match="legacy"):
        PartialPlanner(new, old).plan(live, SCOPE, prune=True)


def test_an_unchanged_owner_missing_on_the_instance_is_refused() -> None:
    old = Configuration(base())
    new = replaced(base(), operation("orders", "added"))
    planner = PartialPlanner(new, old)
    live_without_orders = without(base(), "/apis/orders")

    assert planner.owner_reads(live_without_orders).ids == ("/apis/orders",)
    with pytest.raises(OwnersMissing, match="'/apis/orders/operations/added' belongs to"):
        planner.check_owners(live_without_orders, SCOPE)
    planner.check_owners(Configuration(base()), SCOPE)  # the owner is there: no error


def test_a_changed_owner_is_planned_not_required() -> None:
    old = without(base(), "/apis/orders")
    new = Configuration(base())
    planner = PartialPlanner(new, old)

    assert not planner.owner_reads(Configuration(without(base(), "/apis/orders")))
    plan = planner.plan(without(base(), "/apis/orders"), SCOPE)
    assert [(c.action, c.resource_id) for c in plan.changes] == [
        (Action.CREATE, "/apis/orders"),
        (Action.CREATE, "/apis/orders/operations/list"),
    ]


def test_a_changed_specification_brings_its_operation_policies_into_the_plan() -> None:
    """Importing a specification drops the API's operation policies: the unchanged ones
    are considered, read and written again, or the deploy would lose them."""
    spec = {"format": "openapi", "value": "openapi: 3.0.1\npaths: {}\n"}
    old = [api("echo", **spec), operation("echo", "get"), policy("/apis/echo/operations/get")]
    new_spec = {**spec, "value": "openapi: 3.0.1\ninfo: {title: echo}\npaths: {}\n"}
    changed_operation = make_resource(
        "/apis/echo/operations/get",
        {"displayName": "get", "method": "GET", "urlTemplate": "/x", "description": "new"},
    )
    desired = Configuration([api("echo", **new_spec), changed_operation, old[2]])

    planner = PartialPlanner(desired, Configuration(old))
    plan = planner.plan(Configuration(old), SCOPE)

    assert "/apis/echo/operations/get/policies/policy" in planner.considered
    rewritten = [c for c in plan.changes if c.resource_id.endswith("/policies/policy")]
    assert [c.action for c in rewritten] == [Action.UPDATE]


def test_an_api_whose_specification_is_unchanged_leaves_its_operation_policies_alone() -> None:
    spec = {"format": "openapi", "value": "openapi: 3.0.1\npaths: {}\n"}
    old = [api("echo", **spec), operation("echo", "get"), policy("/apis/echo/operations/get")]
    desired = Configuration([api("echo", **spec, displayName="Echo"), *old[1:]])

    planner = PartialPlanner(desired, Configuration(old))

    assert planner.considered == {"/apis/echo"}
