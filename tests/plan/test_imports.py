"""Specification imports in a plan: an API whose specification's operations change is
imported, the policies an import replaces are written again, and import-made schema ids
match by content."""

from __future__ import annotations

from apimsync.model import Configuration, Resource, make_resource
from apimsync.plan.changes import Action
from apimsync.plan.diff import compute_plan
from apimsync.plan.imports import REAPPLIED, SPECIFICATION_FIELD, imported_apis

SPEC = "openapi: 3.0.1\ninfo: {title: Orders}\npaths: {}\n"


def _api(with_specification: bool) -> Resource:
    properties = {"displayName": "Orders", "path": "orders"}
    if with_specification:
        properties |= {"format": "openapi", "value": SPEC}
    return make_resource("/apis/orders", properties)


def _operation(name: str, schema_id: str = "", display: str = "") -> Resource:
    response = {"statusCode": 200, "representations": [{"contentType": "application/json"}]}
    if schema_id:
        response["representations"][0] |= {"schemaId": schema_id, "typeName": "Order"}
    return make_resource(
        f"/apis/orders/operations/{name}",
        {
            "displayName": display or name,
            "method": "GET",
            "urlTemplate": f"/{name}",
            "responses": [response],
        },
    )


def _schema(schema_id: str) -> Resource:
    document = {"components": {"schemas": {"Order": {"type": "object"}}}}
    return make_resource(
        f"/apis/orders/schemas/{schema_id}",
        {"contentType": "application/vnd.oai.openapi.components+json", "document": document},
    )


POLICY = make_resource(
    "/apis/orders/operations/list/policies/policy",
    {"format": "rawxml", "value": "<policies><inbound /></policies>"},
)


def test_a_changed_operation_of_a_specification_imports_the_api() -> None:
    live = Configuration([_api(False), _operation("list"), POLICY])
    desired = Configuration([_api(True), _operation("list", display="List orders"), POLICY])

    plan = compute_plan(desired, live)

    api = next(c for c in plan.changes if c.resource_id == "/apis/orders")
    assert [f.path for f in api.fields] == [SPECIFICATION_FIELD]
    assert imported_apis(plan.changes) == {"/apis/orders"}
    reapplied = next(c for c in plan.changes if c.resource_id == POLICY.id)
    assert reapplied.action is Action.UPDATE
    assert [f.after for f in reapplied.fields] == [REAPPLIED]


def test_without_a_specification_operations_are_written_one_by_one() -> None:
    live = Configuration([_api(False), _operation("list"), POLICY])
    desired = Configuration([_api(False), _operation("list", display="List orders"), POLICY])

    plan = compute_plan(desired, live)

    assert [c.resource_id for c in plan.changes] == ["/apis/orders/operations/list"]
    assert imported_apis(plan.changes) == set()


def test_the_schema_an_import_made_matches_by_content_whatever_its_id() -> None:
    live = Configuration([_api(False), _schema("5e7bad87"), _operation("list", "5e7bad87")])
    desired = Configuration([_api(True), _schema("ab12cd34"), _operation("list", "ab12cd34")])
    other = Configuration([_api(False), _schema("ab12cd34"), _operation("list", "ab12cd34")])

    assert compute_plan(desired, live).is_empty
    assert not compute_plan(other, live).is_empty  # an scm tree names its schema itself
