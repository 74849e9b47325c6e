"""Matching revisions by number when the files make another revision current."""

from __future__ import annotations

from apimsync.model import Configuration, Resource, make_resource
from apimsync.plan.changes import Action
from apimsync.plan.diff import compute_plan
from apimsync.plan.revisions import makes_current, with_explicit_revisions


def _api(resource_id: str, revision: str, url: str, current: bool = False) -> Resource:
    properties: dict[str, object] = {"displayName": "Orders", "path": "orders"}
    properties |= {"apiRevision": revision, "serviceUrl": url}
    if current:
        properties["isCurrent"] = True
    return make_resource(resource_id, properties)


def _policy(owner: str, text: str) -> Resource:
    return make_resource(f"{owner}/policies/policy", {"format": "rawxml", "value": text})


LIVE = Configuration(
    [
        _api("/apis/orders", "1", "https://one", current=True),
        _policy("/apis/orders", "<policies><inbound /></policies>"),
        _api("/apis/orders;rev=2", "2", "https://two"),
        _policy("/apis/orders;rev=2", "<policies><outbound /></policies>"),
    ]
)


def test_nothing_is_renamed_while_the_current_revision_stays() -> None:
    desired, live = with_explicit_revisions(LIVE, LIVE)

    assert desired is LIVE and live is LIVE


def test_making_revision_two_current_is_one_change_of_is_current_each() -> None:
    desired = Configuration(
        [
            _api("/apis/orders", "2", "https://two", current=True),
            _policy("/apis/orders", "<policies><outbound /></policies>"),
            _api("/apis/orders;rev=1", "1", "https://one"),
            _policy("/apis/orders;rev=1", "<policies><inbound /></policies>"),
        ]
    )

    plan = compute_plan(desired, LIVE, prune=True)

    assert [(c.action, c.resource_id, [f.path for f in c.fields]) for c in plan.changes] == [
        (Action.UPDATE, "/apis/orders;rev=1", ["/isCurrent"]),
        (Action.UPDATE, "/apis/orders;rev=2", ["/isCurrent"]),
    ]
    made_current = next(c for c in plan.changes if c.resource_id.endswith("rev=2"))
    assert makes_current(made_current.after) and not makes_current(made_current.before)


def test_a_new_current_revision_is_created_and_the_old_one_stays() -> None:
    desired = Configuration(
        [
            _api("/apis/orders", "3", "https://three", current=True),
            _api("/apis/orders;rev=1", "1", "https://one"),
            _policy("/apis/orders;rev=1", "<policies><inbound /></policies>"),
            _api("/apis/orders;rev=2", "2", "https://two"),
            _policy("/apis/orders;rev=2", "<policies><outbound /></policies>"),
        ]
    )

    plan = compute_plan(desired, LIVE)

    assert sorted((c.action.value, c.resource_id) for c in plan.changes) == [
        ("create", "/apis/orders;rev=3"),
        ("update", "/apis/orders;rev=1"),  # no longer current
    ]
    created = next(c for c in plan.changes if c.action is Action.CREATE)
    assert makes_current(created.after)
