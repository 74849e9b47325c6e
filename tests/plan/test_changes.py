"""The plan data types: summary counts, emptiness and the MISSING sentinel."""

from __future__ import annotations

import copy
import pickle

from apimsync.model import Configuration, Kind, make_resource
from apimsync.plan import MISSING, Action, Change, Plan, compute_plan

BACKEND = make_resource("/backends/b", {"url": "https://b"})


def _change(action: Action, resource_id: str = "/backends/b") -> Change:
    before = None if action is Action.CREATE else BACKEND
    after = None if action is Action.DELETE else BACKEND
    return Change(action, resource_id, Kind.BACKEND, before, after)


def test_summary_counts_each_action() -> None:
    plan = Plan(
        (_change(Action.CREATE), _change(Action.CREATE), _change(Action.UPDATE)),
        unmanaged=("/apis/x",),
    )

    assert plan.summary() == {"add": 2, "change": 1, "destroy": 0}
    assert not plan.is_empty


def test_a_plan_with_only_unmanaged_resources_is_empty() -> None:
    plan = Plan((), ("/apis/x",))

    assert plan.is_empty and plan.summary() == {"add": 0, "change": 0, "destroy": 0}


def test_a_change_names_its_resource_from_either_side() -> None:
    assert _change(Action.DELETE).resource is BACKEND
    assert _change(Action.CREATE).resource is BACKEND


def test_missing_is_one_falsy_value_that_survives_copies() -> None:
    assert not MISSING and repr(MISSING) == "MISSING"
    assert copy.deepcopy(MISSING) is MISSING
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING
    assert MISSING != None  # noqa: E711 - absent is not null


def test_etags_added_afterwards_are_the_etags_a_plan_with_them_holds() -> None:
    desired = Configuration(
        [
            make_resource("/backends/kept", {"url": "https://new.example.test"}),
            make_resource("/backends/added", {"url": "https://added.example.test"}),
        ]
    )
    live = Configuration(
        [
            make_resource("/backends/kept", {"url": "https://old.example.test"}),
            make_resource("/backends/gone", {"url": "https://gone.example.test"}),
        ]
    )
    etags = {"/backends/kept": '"1"', "/backends/gone": '"2"', "/backends/added": '"3"'}

    later = compute_plan(desired, live, prune=True).with_etags(etags)

    assert later == compute_plan(desired, live, prune=True, etags=etags)
    assert {c.resource_id: c.etag for c in later.changes} == {
        "/backends/added": None,
        "/backends/kept": '"1"',
        "/backends/gone": '"2"',
    }
