"""Saved plans: an exact round trip, no secrets, and refusal of anything not as saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apimsync.errors import ApimsyncError
from apimsync.model import Configuration
from apimsync.plan import Action, Plan, compute_plan
from apimsync.plan.normalize import comparable
from apimsync.plan.saved import (
    FROM_CONFIGURATION,
    FROM_ENVIRONMENT,
    PlanFileError,
    digest,
    fingerprint,
    load_plan,
    save_plan,
)
from tests.conftest import EXPORTS
from tests.plan.conftest import SECRETS, load, resource, secret_scenario
from tests.plan.test_render import _mixed_plan

TARGET = {
    "subscription": "00000000-0000-0000-0000-000000000000",
    "resource_group": "rg-apim",
    "service": "apim-sweden",
    "endpoint": "https://management.azure.com",
}


def _saved(plan: Plan, tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    save_plan(plan, path, target=TARGET)
    return path


def _document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _rewrite(path: Path, document: dict[str, Any], *, reseal: bool) -> None:
    if reseal:
        document.pop("checksum", None)
        document["checksum"] = digest(document)
    path.write_text(json.dumps(document), encoding="utf-8")


# -- round trip --------------------------------------------------------------------------


def test_a_saved_plan_loads_back_equal(tmp_path: Path) -> None:
    plan = _mixed_plan()

    loaded, target = load_plan(_saved(plan, tmp_path))

    assert loaded == plan
    assert target == TARGET


@pytest.mark.parametrize("name", EXPORTS)
def test_plans_of_every_export_round_trip(name: str, tmp_path: Path) -> None:
    for plan in (
        compute_plan(load(name), Configuration()),
        compute_plan(Configuration(), load(name), prune=True),
        compute_plan(Configuration(), load(name)),
    ):
        assert load_plan(_saved(plan, tmp_path)) == (plan, TARGET)


def test_the_file_pins_every_live_resource_by_etag_and_fingerprint(tmp_path: Path) -> None:
    desired = load("example")
    live = desired.with_resources(
        resource("example", "/backends/openaione").with_properties(url="https://old")
    )
    plan = compute_plan(desired, live, etags={"/backends/openaione": '"etag-7"'})

    document = _document(_saved(plan, tmp_path))

    assert document["format"] == "apimsync-saved-plan" and document["format_version"] == "1"
    assert document["target"] == TARGET and document["checksum"].startswith("sha256:")
    (entry,) = document["changes"]
    before = live.get("/backends/openaione")
    assert before is not None
    assert entry["live"] == {"etag": '"etag-7"', "fingerprint": fingerprint(before)}
    assert fingerprint(before) == digest(comparable(before))
    assert entry["desired"]["url"] == "https://openaione.openai.azure.com/openai"
    assert entry["fields"] == [
        {"path": "/url", "before": "https://old", "after": entry["desired"]["url"]}
    ]


def test_a_create_pins_that_the_resource_does_not_exist(tmp_path: Path) -> None:
    plan = compute_plan(load("blank-v14"), Configuration())

    document = _document(_saved(plan, tmp_path))

    assert {json.dumps(c["live"]) for c in document["changes"]} == {"null"}
    assert {c["action"] for c in document["changes"]} == {"create"}


# -- secrets -----------------------------------------------------------------------------


def test_a_saved_plan_holds_no_secret_and_says_where_each_comes_from(tmp_path: Path) -> None:
    desired, live = secret_scenario()
    plan = compute_plan(desired, live, prune=True)

    path = _saved(plan, tmp_path)

    text = path.read_text(encoding="utf-8")
    assert not [secret for secret in SECRETS if secret in text]
    entries = {c["id"]: c for c in _document(path)["changes"]}
    password = entries["/namedValues/db-password"]
    assert "value" not in password["desired"]
    assert password["withheld"] == {"/value": FROM_ENVIRONMENT}
    assert entries["/backends/literal"]["withheld"] == {
        "/credentials/header/api-key/0": FROM_CONFIGURATION,
        "/credentials/header/Ocp-Apim-Subscription-Key/0": FROM_CONFIGURATION,
        "/credentials/query/sig/0": FROM_CONFIGURATION,
        "/credentials/authorization/parameter": FROM_CONFIGURATION,
        "/proxy/password": FROM_CONFIGURATION,
    }
    assert entries["/loggers/insights"]["withheld"] == {
        "/credentials/instrumentationKey": FROM_CONFIGURATION
    }

    loaded, _ = load_plan(path)
    by_id = {c.resource_id: c for c in loaded.changes}
    assert by_id["/namedValues/db-password"].withheld == ("/value",)
    assert by_id["/namedValues/db-password"].after is not None
    assert "value" not in by_id["/namedValues/db-password"].after.properties
    assert [c.action for c in loaded.changes] == [c.action for c in plan.changes]


def test_key_vault_named_values_withhold_nothing(tmp_path: Path) -> None:
    plan = compute_plan(load("example"), Configuration())

    document = _document(_saved(plan, tmp_path))

    key_vault = [c for c in document["changes"] if c["type"] == "named-value"]
    assert key_vault and all(c["withheld"] == {} for c in key_vault)
    assert load_plan(tmp_path / "plan.json")[0] == plan


# -- refusals ----------------------------------------------------------------------------


def _expect_refusal(path: Path, fragment: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert isinstance(caught.value, ApimsyncError)
    assert str(caught.value).startswith(str(path) + ": ")
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)


def test_a_tampered_plan_is_refused(tmp_path: Path) -> None:
    path = _saved(_mixed_plan(), tmp_path)
    document = _document(path)
    document["changes"][0]["desired"]["url"] = "https://attacker.example"
    _rewrite(path, document, reseal=False)

    _expect_refusal(path, "changed after it was saved")


def test_a_changed_target_is_refused(tmp_path: Path) -> None:
    path = _saved(_mixed_plan(), tmp_path)
    document = _document(path)
    document["target"]["service"] = "apim-production"
    _rewrite(path, document, reseal=False)

    _expect_refusal(path, "changed after it was saved")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not JSON (line 1, column 2"),
        ("[]", "is not an apimsync saved plan"),
        ('{"format_version": "1", "changes": []}', "is not an apimsync saved plan"),
        ("\udcff", "cannot read"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))

    _expect_refusal(path, fragment)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    _expect_refusal(tmp_path / "absent.json", "cannot read the plan")


def test_a_plan_of_another_format_version_is_refused(tmp_path: Path) -> None:
    path = _saved(_mixed_plan(), tmp_path)
    document = _document(path)
    document["format_version"] = "2"
    _rewrite(path, document, reseal=True)

    _expect_refusal(path, "format version '2'; this apimsync reads version '1'")


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: d.pop("changes"), "changes: expected a list"),
        (lambda d: d["changes"][0].update(action="replace"), "'replace' is not a valid Action"),
        (lambda d: d["changes"][0].update(id="/nonsense/x/y"), "is not the id of an API"),
        (lambda d: d["changes"][0].update(type="api"), "does not match the id"),
        (lambda d: d["changes"][0].update(desired=None), "wrong sides"),
        (lambda d: d["changes"][0].update(fields=[{"path": 3}]), "fields[0].path: expected a"),
        (lambda d: d["changes"][0].update(live={"etag": 5}), "live.etag: expected a string"),
        (lambda d: d.update(target={"service": None}), "target.service: expected a string"),
        (lambda d: d["unmanaged"].append({}), "unmanaged[0]: expected a string"),
    ],
)
def test_a_well_sealed_but_invalid_plan_is_refused(
    tmp_path: Path, edit: Any, fragment: str
) -> None:
    plan = _mixed_plan(prune=True)
    assert plan.changes[0].action is Action.UPDATE
    path = _saved(plan, tmp_path)
    document = _document(path)
    edit(document)
    _rewrite(path, document, reseal=True)

    _expect_refusal(path, fragment)


def test_saving_where_it_cannot_be_written_is_a_plan_file_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="cannot write the plan"):
        save_plan(_mixed_plan(), tmp_path / "missing" / "plan.json", target=TARGET)
