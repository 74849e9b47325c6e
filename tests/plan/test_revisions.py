"""API revisions in a plan: switching the current one is a release, a new revision is
created from the live current one and compared with what the service copies into it."""

from __future__ import annotations

from typing import Any

from apimsync.model import Configuration, Resource, make_resource
from apimsync.plan import Action, compute_plan
from apimsync.plan.changes import Change

BASE = "/apis/orders"


def _api(resource_id: str, revision: str, **extra: Any) -> Resource:
    properties = {"displayName": "Orders", "path": "orders", "apiRevision": revision, **extra}
    return make_resource(resource_id, properties)


def _operation(api_id: str, name: str, url: str = "/") -> Resource:
    return make_resource(
        f"{api_id}/operations/{name}", {"displayName": name, "method": "GET", "urlTemplate": url}
    )


def _policy(owner: str, text: str = "<policies><inbound><base /></inbound></policies>") -> Resource:
    return make_resource(f"{owner}/policies/policy", {"value": text})


def _summary(changes: tuple[Change, ...]) -> list[tuple[str, str]]:
    return [(c.action.value, c.resource_id) for c in changes]


def test_making_an_existing_revision_current_is_one_release() -> None:
    one = [_api(BASE, "1"), _operation(BASE, "list")]
    two = [_api(f"{BASE};rev=2", "2"), _operation(f"{BASE};rev=2", "list", "/v2")]
    live = Configuration(one + two)
    desired = live.with_current_revision(BASE, "2")

    plan = compute_plan(desired, live, prune=True)

    (release,) = plan.changes
    assert (release.action, release.resource_id) == (
        Action.CREATE,
        f"{BASE}/releases/apimsync-rev-2",
    )
    assert release.resource.properties["apiId"] == f"{BASE};rev=2"


def test_a_current_revision_the_instance_lacks_is_created_from_the_live_one_then_released() -> None:
    live = Configuration(
        [_api(BASE, "1"), _operation(BASE, "list"), _operation(BASE, "old"), _policy(BASE)]
    )
    desired = Configuration(
        [
            _api(BASE, "2", apiRevisionDescription="v2"),
            _operation(BASE, "list", "/v2"),
            _operation(BASE, "new"),
            _policy(BASE),
            _api(f"{BASE};rev=1", "1"),
            _operation(f"{BASE};rev=1", "list"),
            _operation(f"{BASE};rev=1", "old"),
            _policy(f"{BASE};rev=1"),
        ]
    )

    plan = compute_plan(desired, live)  # no --prune: the copy the files lack still goes

    rev2 = f"{BASE};rev=2"
    assert _summary(plan.changes) == [
        ("create", rev2),
        ("update", f"{rev2}/operations/list"),
        ("create", f"{rev2}/operations/new"),
        ("create", f"{BASE}/releases/apimsync-rev-2"),
        ("delete", f"{rev2}/operations/old"),
    ]
    created = plan.changes[0].resource.properties
    assert created["sourceApiId"] == f"{BASE};rev=1"
    assert "isCurrent" not in created
    assert plan.unmanaged == ()


def test_a_new_revision_beside_the_current_one_is_compared_with_its_copies() -> None:
    live = Configuration([_api(BASE, "1"), _operation(BASE, "list"), _operation(BASE, "old")])
    rev2 = f"{BASE};rev=2"
    desired = Configuration(
        [
            *live,
            _api(rev2, "2"),
            _operation(rev2, "list"),
            _operation(rev2, "added"),
        ]
    )

    plan = compute_plan(desired, live)

    assert _summary(plan.changes) == [
        ("create", rev2),
        ("create", f"{rev2}/operations/added"),
        ("delete", f"{rev2}/operations/old"),
    ]
    assert plan.changes[0].resource.properties["sourceApiId"] == f"{BASE};rev=1"


def test_a_new_api_with_revisions_creates_them_from_its_current_one() -> None:
    desired = Configuration([_api(BASE, "2"), _operation(BASE, "list"), _api(f"{BASE};rev=1", "1")])

    plan = compute_plan(desired, Configuration())

    assert _summary(plan.changes) == [
        ("create", BASE),
        ("create", f"{BASE};rev=1"),
        ("create", f"{BASE}/operations/list"),
    ]
    assert plan.changes[1].resource.properties["sourceApiId"] == BASE


def test_deleting_a_revision_folder_deletes_that_revision_only() -> None:
    rev2 = f"{BASE};rev=2"
    live = Configuration([_api(BASE, "1"), _api(rev2, "2"), _operation(rev2, "list")])
    desired = Configuration([_api(BASE, "1")])

    kept = compute_plan(desired, live)
    pruned = compute_plan(desired, live, prune=True)

    assert kept.is_empty and rev2 in kept.unmanaged
    (delete,) = pruned.changes
    assert (delete.action, delete.resource_id) == (Action.DELETE, rev2)
    assert delete.cascade == (f"{rev2}/operations/list",)


def test_the_old_current_revision_dropped_from_the_files_goes_after_the_release() -> None:
    rev2 = f"{BASE};rev=2"
    live = Configuration([_api(BASE, "1"), _operation(BASE, "list"), _api(rev2, "2")])
    desired = Configuration([_api(BASE, "2")])

    plan = compute_plan(desired, live, prune=True)

    assert _summary(plan.changes) == [
        ("create", f"{BASE}/releases/apimsync-rev-2"),
        ("delete", f"{BASE};rev=1"),
    ]
    assert plan.changes[1].cascade == (f"{BASE};rev=1/operations/list",)


def test_a_release_name_already_taken_gets_another() -> None:
    rev2 = f"{BASE};rev=2"
    taken = make_resource(f"{BASE}/releases/apimsync-rev-2", {"apiId": BASE})
    live = Configuration([_api(BASE, "1"), _api(rev2, "2"), taken])
    desired = Configuration([*live.with_current_revision(BASE, "2")])

    plan = compute_plan(desired, live)

    assert _summary(plan.changes) == [("create", f"{BASE}/releases/apimsync-rev-2-2")]


def test_the_release_apimsync_made_is_kept_as_the_apis_change_log() -> None:
    release = make_resource(f"{BASE}/releases/apimsync-rev-2", {"apiId": BASE})
    other = make_resource(f"{BASE}/releases/by-hand", {"apiId": BASE})
    live = Configuration([_api(BASE, "2"), release, other])

    plan = compute_plan(Configuration([_api(BASE, "2")]), live, prune=True)

    assert _summary(plan.changes) == [("delete", other.id)]
