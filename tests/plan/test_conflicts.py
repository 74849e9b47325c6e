"""Unique values (API paths, named value display names) between the files and the instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from apimsync.model import Configuration, make_resource
from apimsync.plan import Action, compute_plan
from apimsync.plan.conflicts import ValueTaken, check_unique_values, conflicts
from apimsync.plan.order import apply_order
from apimsync.plan.saved import load_plan, save_plan

ECHO = make_resource("/apis/echo-api", {"displayName": "Echo API", "path": "echo"})
GENERATED_ECHO = make_resource(
    "/apis/57fcad867119fc0084040001", {"displayName": "Echo API", "path": "/Echo"}
)
OPERATION = make_resource(
    "/apis/57fcad867119fc0084040001/operations/get",
    {"displayName": "get", "method": "GET", "urlTemplate": "/"},
)


def test_an_api_created_on_a_path_a_live_api_holds_is_a_conflict() -> None:
    found = conflicts(Configuration([GENERATED_ECHO]), Configuration([ECHO]))

    assert [(c.wanted, c.holder, c.value) for c in found] == [
        (GENERATED_ECHO.id, ECHO.id, "'/echo'")
    ]


def test_without_prune_the_plan_is_refused_before_any_write() -> None:
    desired, live = Configuration([GENERATED_ECHO]), Configuration([ECHO])
    plan = compute_plan(desired, live)

    with pytest.raises(ValueTaken) as raised:
        check_unique_values(desired, live, plan.deleted_ids())

    assert "'/apis/57fcad867119fc0084040001' needs the path '/echo'" in raised.value.message
    assert "'/apis/echo-api' holds on the instance" in raised.value.message
    assert "--prune" in raised.value.message


def test_with_prune_the_holder_is_deleted_before_the_creates() -> None:
    desired, live = Configuration([GENERATED_ECHO, OPERATION]), Configuration([ECHO])

    plan = compute_plan(desired, live, prune=True)
    check_unique_values(desired, live, plan.deleted_ids())

    ordered = [(c.action, c.resource_id) for c in apply_order(plan.changes)]
    assert ordered == [
        (Action.DELETE, ECHO.id),
        (Action.CREATE, GENERATED_ECHO.id),
        (Action.CREATE, OPERATION.id),
    ]


def test_other_deletes_still_come_last() -> None:
    other = make_resource("/apis/other", {"displayName": "Other", "path": "other"})
    plan = compute_plan(Configuration([GENERATED_ECHO]), Configuration([ECHO, other]), prune=True)

    assert [c.resource_id for c in plan.changes] == [ECHO.id, GENERATED_ECHO.id, other.id]


@pytest.mark.parametrize(
    "desired",
    [
        make_resource("/apis/ECHO-API", {"displayName": "Echo", "path": "echo"}),  # same API
        make_resource(
            "/apis/v2",
            {"path": "echo", "apiVersionSetId": "/apiVersionSets/s", "apiVersion": "v2"},
        ),
        make_resource("/apis/echo-api;rev=2", {"path": "echo"}),  # a revision of another API
    ],
)
def test_no_conflict(desired: object) -> None:
    assert conflicts(Configuration([desired]), Configuration([ECHO])) == []  # type: ignore[list-item]


def test_a_named_value_display_name_is_unique_too() -> None:
    live = make_resource("/namedValues/a", {"displayName": "Api-Key", "value": "1"})
    wanted = make_resource("/namedValues/b", {"displayName": "api-key", "value": "2"})

    (found,) = conflicts(Configuration([wanted]), Configuration([live]))

    assert (found.wanted, found.holder, found.what) == (wanted.id, live.id, "the display name")


def test_a_holder_the_files_move_away_is_no_conflict() -> None:
    moved = make_resource(ECHO.id, {"displayName": "Echo API", "path": "old-echo"})

    assert conflicts(Configuration([GENERATED_ECHO, moved]), Configuration([ECHO])) == []


def test_a_saved_plan_keeps_its_early_deletes(tmp_path: Path) -> None:
    plan = compute_plan(Configuration([GENERATED_ECHO]), Configuration([ECHO]), prune=True)
    save_plan(plan, tmp_path / "plan.json", target={"service": "s", "resource_group": "rg"})

    loaded, _ = load_plan(tmp_path / "plan.json")

    assert [c.early for c in loaded.changes] == [True, False]
