"""Planning: matching desired and live resources, updates by field, unmanaged and deletes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apimsync.formats.scm.reader import read_tree
from apimsync.model import Configuration, Kind, Resource, make_resource
from apimsync.plan import MISSING, Action, FieldChange, Plan, compute_plan
from apimsync.plan.diff import is_service_owned
from apimsync.plan.render import render_text
from apimsync.policy.expressions import find_expressions
from tests.conftest import EXPORTS
from tests.plan.conftest import load, resource

POLICY_ID = "/apis/app-sweden-python/policies/policy"
NEW_BACKEND = make_resource("/backends/new", {"url": "https://new.example", "protocol": "http"})


def _replace(configuration: Configuration, *resources: Resource) -> Configuration:
    return configuration.with_resources(*resources)


def _ids(plan: Plan, action: Action) -> list[str]:
    return [c.resource_id for c in plan.changes if c.action is action]


# -- nothing to do, everything to do -----------------------------------------------------


@pytest.mark.parametrize("name", [*EXPORTS, "example"])
def test_a_configuration_against_itself_plans_nothing(name: str) -> None:
    plan = compute_plan(load(name), load(name), prune=True)

    assert plan.is_empty and plan.unmanaged == ()
    assert plan.summary() == {"add": 0, "change": 0, "destroy": 0}


def test_a_configuration_read_twice_plans_nothing(export: Path) -> None:
    assert compute_plan(read_tree(export).configuration, read_tree(export).configuration).is_empty


@pytest.mark.parametrize("name", [*EXPORTS, "example"])
def test_against_an_empty_instance_everything_is_created_in_dependency_order(name: str) -> None:
    desired = load(name)

    plan = compute_plan(desired, Configuration())

    assert {c.action for c in plan.changes} == {Action.CREATE}
    assert sorted(c.resource_id for c in plan.changes) == sorted(desired.ids())
    assert plan.summary() == {"add": len(desired), "change": 0, "destroy": 0}
    position = {c.resource_id: index for index, c in enumerate(plan.changes)}
    for change in plan.changes:
        after = change.after
        assert after is not None and change.before is None and change.etag is None
        needed = [after.parent, after.properties.get("apiVersionSetId")]
        needed += [after.properties.get(k) for k in ("apiId", "groupId", "operationId")]
        for dependency in needed:
            if dependency in position:
                assert position[dependency] < position[change.resource_id], (dependency, after.id)


# -- updates -----------------------------------------------------------------------------


def test_a_backend_url_edit_is_one_update_of_exactly_url() -> None:
    desired = load("example")
    backend = resource("example", "/backends/openaione")
    live = _replace(desired, backend.with_properties(url="https://old.example/openai"))

    plan = compute_plan(desired, live, etags={"/backends/openaione": 'W/"42"'})

    (change,) = plan.changes
    assert change.action is Action.UPDATE and change.kind is Kind.BACKEND
    assert change.resource_id == "/backends/openaione"
    assert change.fields == (
        FieldChange("/url", "https://old.example/openai", backend.properties["url"]),
    )
    assert change.etag == 'W/"42"'
    assert change.before is live.get("/backends/openaione") and change.after is backend
    assert plan.summary() == {"add": 0, "change": 1, "destroy": 0}


def test_nested_fields_are_json_pointers_and_absent_values_are_missing() -> None:
    backend = resource("example", "/backends/openaitwo").with_properties(
        credentials={
            "header": {"api-key": ["{{OpenAI-Key2}}"], "Content-Type": ["application/json"]}
        }
    )
    desired = _replace(load("example"), backend)
    live_backend = backend.with_properties(
        credentials={"header": {"api-key": ["{{old}}"], "x/y~z": ["1"]}}
    )

    (change,) = compute_plan(desired, _replace(desired, live_backend)).changes

    assert change.fields == (
        FieldChange("/credentials/header/Content-Type", MISSING, ("application/json",)),
        FieldChange("/credentials/header/api-key/0", "{{old}}", "{{OpenAI-Key2}}"),
        FieldChange("/credentials/header/x~1y~0z", ("1",), MISSING),
    )


def _escape_expressions(text: str) -> str:
    """The entity-escaped form the server writes for format=xml."""
    table = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
    pieces, last = [], 0
    for span in find_expressions(text):
        pieces += [text[last : span.start], text[span.start : span.end].translate(table)]
        last = span.end
    return "".join([*pieces, text[last:]])


def test_a_policy_differing_only_in_form_is_not_a_change() -> None:
    desired = load("seed-openai-v17")
    policy = resource("seed-openai-v17", POLICY_ID)
    text = _escape_expressions(policy.xml).replace("\t", "    ").replace("\n", "\r\n")
    reordered = '<validate-jwt output-token-variable-name="jwt" require-scheme="Bearer" '
    text = text.replace(
        '<validate-jwt header-name="Authorization" require-scheme="Bearer" '
        'output-token-variable-name="jwt"',
        reordered + 'header-name="Authorization"',
        1,
    )
    assert "&quot;Authorization&quot;" in text and reordered in text
    live = _replace(desired, policy.with_properties(value=text, format="xml"))

    assert compute_plan(desired, live).is_empty


def test_a_policy_expression_edit_is_one_update_with_a_diff_in_the_text() -> None:
    desired = load("seed-openai-v17")
    policy = resource("seed-openai-v17", POLICY_ID)
    old = policy.xml.replace('ContainsKey("Authorization")', 'ContainsKey("X-Auth")')
    live = _replace(desired, policy.with_properties(value=old))

    plan = compute_plan(desired, live)

    (change,) = plan.changes
    assert change.action is Action.UPDATE and [f.path for f in change.fields] == ["/value"]
    text = render_text(plan, color=False)
    assert '-\t\t\t<when condition="@(context.Request.Headers.ContainsKey("X-Auth"))">' in text
    assert '+\t\t\t<when condition="@(context.Request.Headers.ContainsKey("Authorization"))">' in (
        text
    )  # the lines as the file has them
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in text


# -- live only ---------------------------------------------------------------------------

API = "/apis/catalog-api"


def _without_api() -> tuple[Configuration, Configuration]:
    live = load("eshop-v15")
    return live.without(API).with_resources(NEW_BACKEND), live


def test_live_only_resources_are_unmanaged_without_prune() -> None:
    desired, live = _without_api()
    gone = live.ids() - desired.ids()

    plan = compute_plan(desired, live)

    assert _ids(plan, Action.CREATE) == ["/backends/new"]
    assert not _ids(plan, Action.DELETE)
    assert set(plan.unmanaged) == gone
    assert plan.unmanaged.index(API) < plan.unmanaged.index(API + "/operations/get-catalog-types")


def test_with_prune_a_parent_is_deleted_with_its_children_in_cascade() -> None:
    desired, live = _without_api()

    plan = compute_plan(desired, live, prune=True, etags={API: '"e1"'})

    (api_delete,) = [c for c in plan.changes if c.resource_id == API]
    assert api_delete.action is Action.DELETE and api_delete.after is None
    assert api_delete.etag == '"e1"'
    assert set(api_delete.cascade) == {r.id for r in live.children(API)}
    assert API + "/operations/get-catalog-types" in api_delete.cascade
    deleted = set(_ids(plan, Action.DELETE))
    assert not deleted & set(api_delete.cascade)
    links = {r.id for r in live if r.properties.get("apiId") == API}
    assert links and links <= deleted
    assert plan.unmanaged == ()
    assert plan.summary() == {"add": 1, "change": 0, "destroy": len(deleted)}


def test_deletes_come_after_creates_in_reverse_dependency_order() -> None:
    desired, live = _without_api()

    plan = compute_plan(desired, live, prune=True)

    actions = [c.action for c in plan.changes]
    assert actions == sorted(actions, key=lambda a: a is Action.DELETE)
    order = [c.resource_id for c in plan.changes]
    for link in (c.resource_id for c in plan.changes if "Links/" in c.resource_id):
        assert order.index(link) < order.index(API)


def test_built_in_groups_and_portal_settings_are_never_deleted() -> None:
    live = load("example")

    plan = compute_plan(Configuration(), live, prune=True)

    deleted = {c.resource_id for c in plan.changes}
    kept = {"/groups/administrators", "/groups/developers", "/groups/guests"}
    kept |= {"/portalsettings/signup", "/portalsettings/delegation"}
    assert set(plan.unmanaged) == kept and not deleted & kept


# -- identity ----------------------------------------------------------------------------


def test_links_are_matched_by_what_they_link() -> None:
    desired = load("eshop-v15")
    link = resource("eshop-v15", "/products/starter/apiLinks/catalog-api")
    renamed = make_resource("/products/starter/apiLinks/5f3c0aa1", {"apiId": API})
    live = Configuration([r for r in desired if r.id != link.id] + [renamed])

    assert compute_plan(desired, live, prune=True).is_empty

    elsewhere = make_resource("/products/starter/apiLinks/5f3c0aa1", {"apiId": "/apis/basket-api"})
    live = Configuration([r for r in desired if r.id != link.id] + [elsewhere])
    plan = compute_plan(desired, live)
    assert _ids(plan, Action.CREATE) == [link.id] and plan.unmanaged == (elsewhere.id,)


def test_a_live_link_holding_a_full_arm_id_matches() -> None:
    desired = load("eshop-v15")
    link = resource("eshop-v15", "/products/starter/apiLinks/catalog-api")
    arm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc"
    live = _replace(desired, link.with_properties(apiId=arm + API))

    assert compute_plan(desired, live).is_empty


def test_ids_differing_only_in_letter_case_name_the_same_resource() -> None:
    desired = load("example")
    backend = resource("example", "/backends/openaione")
    upper = make_resource("/backends/OpenAIOne", backend.properties)
    live = Configuration([r for r in desired if r.id != backend.id] + [upper])

    assert compute_plan(desired, live, prune=True).is_empty


def test_ignored_kinds_are_left_out() -> None:
    desired = load("example")
    live = _replace(desired, resource("example", "/backends/openaione").with_properties(url="x:"))

    plan = compute_plan(desired, Configuration(), ignore_kinds=frozenset(set(Kind) - {Kind.TAG}))
    assert plan.is_empty
    assert compute_plan(desired, live, ignore_kinds=frozenset({Kind.BACKEND})).is_empty


# -- properties over real data -------------------------------------------------------------

ESHOP_IDS = sorted(load("eshop-v15").ids())


def _subtrees(configuration: Configuration, roots: set[str]) -> set[str]:
    return roots | {c.id for root in roots for c in configuration.children(root)}


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(ESHOP_IDS), max_size=12))
def test_missing_resources_are_exactly_the_creates(picked: set[str]) -> None:
    full = load("eshop-v15")
    missing = _subtrees(full, picked)
    live = Configuration(r for r in full if r.id not in missing)

    plan = compute_plan(full, live)

    assert {c.resource_id for c in plan.changes} == missing
    assert {c.action for c in plan.changes} <= {Action.CREATE}


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(ESHOP_IDS), max_size=12))
def test_pruned_resources_are_exactly_the_deletes_and_their_cascades(picked: set[str]) -> None:
    full = load("eshop-v15")
    extra = _subtrees(full, picked)
    desired = Configuration(r for r in full if r.id not in extra)

    plan = compute_plan(desired, full, prune=True)

    removed = {c.resource_id for c in plan.changes} | {i for c in plan.changes for i in c.cascade}
    kept_by_service = {r.id for r in full if r.id in extra - removed and is_service_owned(r)}
    assert removed | set(plan.unmanaged) | kept_by_service == extra
    assert {c.action for c in plan.changes} <= {Action.DELETE}
    cascaded = [i for c in plan.changes for i in c.cascade]
    assert len(cascaded) == len(set(cascaded))


def test_the_administrators_link_the_service_adds_is_neither_pruned_nor_unmanaged() -> None:
    """§8.1 [PRD20 e3]: a new product comes back linked to Administrators."""
    product = make_resource("/products/p", {"displayName": "P"})
    link = make_resource(
        "/products/p/groupLinks/administrators", {"groupId": "/groups/administrators"}
    )
    developers = make_resource(
        "/products/p/groupLinks/developers", {"groupId": "/groups/developers"}
    )

    plan = compute_plan(
        Configuration([product]), Configuration([product, link, developers]), prune=True
    )

    assert [c.resource_id for c in plan.changes] == [developers.id]
    assert plan.unmanaged == ()
    gone = compute_plan(Configuration(), Configuration([product, link]), prune=True)
    assert gone.changes[0].cascade == (link.id,)  # deleted with its product


def test_a_logger_key_the_service_hides_is_unknown_not_a_change() -> None:
    """§10 [LOG20 e2]: the key comes back as {{Logger-Credentials-<id>}}."""
    wanted = make_resource(
        "/loggers/l",
        {"loggerType": "applicationInsights", "credentials": {"instrumentationKey": "k"}},
    )
    live = make_resource(
        "/loggers/l",
        {
            "loggerType": "applicationInsights",
            "credentials": {
                "instrumentationKey": "{{Logger-Credentials-5e7bae8e07b43d0e3879468c}}"
            },
            "isBuffered": True,
        },
    )

    plan = compute_plan(Configuration([wanted]), Configuration([live]))

    assert plan.is_empty
    assert plan.unknown == ("/loggers/l/credentials/instrumentationKey",)
