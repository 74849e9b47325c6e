"""Apply order: what others need comes first; deletes last and reversed; parallel levels."""

from __future__ import annotations

import random

from apimsync.model import Configuration, Kind, make_resource
from apimsync.plan import Action, Change, apply_order, compute_plan, dependency_levels
from apimsync.plan.order import STAGES, stage_of
from tests.plan.conftest import load

MEMBERS = [
    make_resource(f"/backends/member{i}", {"url": f"https://m{i}.example", "protocol": "http"})
    for i in (1, 2)
]
POOL = make_resource(
    "/backends/a-pool",
    {"type": "Pool", "pool": {"services": [{"id": m.id, "priority": 1} for m in MEMBERS]}},
)
BASE = make_resource("/apis/echo", {"displayName": "Echo", "path": "echo"})
REVISION = make_resource(
    "/apis/echo;rev=2", {"displayName": "Echo", "path": "echo", "apiRevision": "2"}
)
PRODUCT = make_resource("/products/p", {"displayName": "P"})
PRODUCT_POLICY = make_resource(
    "/products/p/policies/policy", {"format": "rawxml", "value": "<policies />"}
)
GLOBAL_POLICY = make_resource("/policies/policy", {"format": "rawxml", "value": "<policies />"})
NAMED_VALUE = make_resource("/namedValues/nv", {"displayName": "nv", "value": "1"})
EVERYTHING = Configuration(
    [POOL, *MEMBERS, REVISION, BASE, PRODUCT_POLICY, PRODUCT, GLOBAL_POLICY, NAMED_VALUE]
)


def _ids(changes: list[Change]) -> list[str]:
    return [c.resource_id for c in changes]


def test_creates_follow_the_stages() -> None:
    order = _ids(compute_plan(EVERYTHING, Configuration()).changes)

    assert order == [
        "/namedValues/nv",
        "/backends/member1",
        "/backends/member2",
        "/backends/a-pool",
        "/apis/echo",
        "/apis/echo;rev=2",
        "/policies/policy",
        "/products/p",
        "/products/p/policies/policy",
    ]


def test_levels_put_pool_members_before_pools_and_bases_before_revisions() -> None:
    levels = dependency_levels(compute_plan(EVERYTHING, Configuration()).changes)

    assert [_ids(level) for level in levels] == [
        ["/namedValues/nv"],
        ["/backends/member1", "/backends/member2"],
        ["/backends/a-pool"],
        ["/apis/echo"],
        ["/apis/echo;rev=2"],
        ["/policies/policy"],
        ["/products/p"],
        ["/products/p/policies/policy"],
    ]


def test_deletes_come_last_in_reverse_order() -> None:
    live = Configuration([*EVERYTHING, make_resource("/loggers/l", {"loggerType": "azureMonitor"})])
    desired = Configuration([GLOBAL_POLICY, make_resource("/loggers/l", {"loggerType": "x"})])

    levels = dependency_levels(compute_plan(desired, live, prune=True).changes)

    assert [_ids(level) for level in levels] == [
        ["/loggers/l"],
        ["/products/p"],
        ["/apis/echo"],
        ["/backends/a-pool"],
        ["/backends/member1", "/backends/member2"],
        ["/namedValues/nv"],
    ]
    assert levels[0][0].action is Action.UPDATE
    (api_delete,) = levels[2]
    assert api_delete.cascade == ("/apis/echo;rev=2",)


def test_every_level_of_a_real_export_depends_only_on_earlier_levels() -> None:
    desired = load("eshop-v15")
    levels = dependency_levels(compute_plan(desired, Configuration()).changes)

    done: set[str] = set()
    for level in levels:
        ids = set(_ids(level))
        for change in level:
            resource = change.resource
            for needed in (resource.parent, resource.properties.get("apiVersionSetId")):
                assert needed is None or needed not in ids
                assert needed is None or needed in done or needed not in desired
        done |= ids
    assert len({stage_of(c.resource_id) for c in levels[0]}) == 1


def test_order_does_not_depend_on_the_input_order() -> None:
    changes = list(compute_plan(load("blank-v14"), Configuration()).changes)
    shuffled = changes[:]
    random.Random(7).shuffle(shuffled)

    assert apply_order(shuffled) == apply_order(changes) == changes
    assert [c for level in dependency_levels(shuffled) for c in level] == changes


def test_every_kind_has_a_stage() -> None:
    staged = {selector for stage in STAGES for selector in stage}
    assert set(Kind) <= staged
