"""Policies at every scope, rawxml round trips, validation, fragments, AllPolicies."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import ApiManagementClient

from .conftest import RawClient
from .test_apis import create_api, create_operation

RAW_POLICY = (
    "<policies>\r\n  <inbound>\r\n    <base />\r\n"
    '    <set-variable name="gpt4" value="@(context.Request.Url.Path.Contains("gpt-4"))" />\r\n'
    "    <set-body>@{ var b = context.Request.Body.As<JObject>(); "
    'return b["x"] != null && b.Count > 1 ? "a" : "b"; }</set-body>\r\n'
    "  </inbound>\r\n  <backend>\r\n    <base />\r\n  </backend>\r\n</policies>"
)
XML_POLICY = (
    "<policies>\r\n  <inbound>\r\n    <base />\r\n"
    '    <set-variable name="gpt4" '
    'value="@(context.Request.Url.Path.Contains(&quot;gpt-4&quot;))" />\r\n'
    "    <set-body>@{ var b = context.Request.Body.As&lt;JObject&gt;(); "
    'return b["x"] != null &amp;&amp; b.Count &gt; 1 ? "a" : "b"; }</set-body>\r\n'
    "  </inbound>\r\n  <backend>\r\n    <base />\r\n  </backend>\r\n</policies>"
)


def tabbed(document: str) -> str:
    """A document of this module as the service writes it back: tab-indented (§2.5)."""
    return document.replace("\r\n    ", "\r\n\t\t").replace("\r\n  ", "\r\n\t")


def test_rawxml_round_trips_re_indented_only(
    client: ApiManagementClient, rg: str, svc: str, uid: str
) -> None:
    create_api(client, rg, svc, uid)
    written = client.api_policy.create_or_update(
        rg, svc, uid, "policy", {"properties": {"format": "rawxml", "value": RAW_POLICY}}
    )
    assert written.value == tabbed(XML_POLICY)  # answers are in the default format, xml
    raw = client.api_policy.get(rg, svc, uid, "policy", format="rawxml")
    assert raw.value == tabbed(RAW_POLICY)
    assert raw.format == "rawxml"
    assert client.api_policy.get(rg, svc, uid, "policy").value == tabbed(XML_POLICY)


def test_xml_documents_read_back_as_rawxml(client: ApiManagementClient, rg: str, svc: str) -> None:
    before = client.policy.get(rg, svc, "policy")
    client.policy.create_or_update(
        rg, svc, "policy", {"properties": {"format": "xml", "value": XML_POLICY}}
    )
    try:
        assert client.policy.get(rg, svc, "policy").value == tabbed(XML_POLICY)
        assert client.policy.get(rg, svc, "policy", format="rawxml").value == tabbed(RAW_POLICY)
    finally:
        client.policy.create_or_update(rg, svc, "policy", {"properties": {"value": before.value}})


@pytest.mark.parametrize(
    ("value", "fmt", "why"),
    [
        ("<policy><inbound /></policy>", "xml", "root element"),
        ("<policies><inbound></policies>", "xml", "well-formed"),
        ("<policies><inbound /><inbound /></policies>", "xml", "more than once"),
        ("<policies><sideways /></policies>", "xml", "not a section"),
        ("just text", "xml", "well-formed"),
        (RAW_POLICY, "xml", "well-formed"),  # raw quotes need rawxml
        (
            '<policies><inbound><set-variable name="a" value="@(x(" /></inbound></policies>',
            "rawxml",
            "",
        ),
        ("<policies />", "xml-link", "link"),
    ],
)
def test_documents_that_are_not_policies_are_400(
    raw: RawClient, value: str, fmt: str, why: str
) -> None:
    answer = raw.call("PUT", "policies/policy", {"properties": {"format": fmt, "value": value}})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "ValidationError"
    assert why in answer.body["error"]["message"]


def test_policies_must_name_existing_things(raw: RawClient, uid: str) -> None:
    def put(value: str) -> int:
        return raw.call(
            "PUT", f"products/{uid}/policies/policy", {"properties": {"value": value}}
        ).status

    raw.call("PUT", f"products/{uid}", {"properties": {"displayName": uid}})
    header = f'<set-header name="k"><value>{{{{{uid}-key}}}}</value></set-header>'
    uses_value = f"<policies><inbound>{header}</inbound></policies>"
    assert put(uses_value) == 400
    raw.call(
        "PUT", f"namedValues/{uid}-key", {"properties": {"displayName": f"{uid}-key", "value": "v"}}
    )
    assert put(uses_value) == 201
    uses_fragment = (
        f'<policies><inbound><include-fragment fragment-id="{uid}" /></inbound></policies>'
    )
    assert put(uses_fragment) == 400
    uses_backend = (
        f'<policies><inbound><set-backend-service backend-id="{uid}" /></inbound></policies>'
    )
    assert put(uses_backend) == 400
    dynamic = '<set-backend-service backend-id="@(&quot;x&quot;)" />'
    expression = f"<policies><inbound>{dynamic}</inbound></policies>"
    assert put(expression) == 200


def test_policies_at_every_scope_and_all_policies(
    client: ApiManagementClient, rg: str, svc: str, uid: str
) -> None:
    document = {"properties": {"value": "<policies><inbound><base /></inbound></policies>"}}
    create_api(client, rg, svc, uid)
    create_operation(client, rg, svc, uid, "op")
    client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    client.api_policy.create_or_update(rg, svc, uid, "policy", document)
    client.api_operation_policy.create_or_update(rg, svc, uid, "op", "policy", document)
    client.product_policy.create_or_update(rg, svc, uid, "policy", document)
    assert (
        client.api_operation_policy.get(rg, svc, uid, "op", "policy").value
        == "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t</inbound>\r\n</policies>"
    )
    assert [p.name for p in client.product_policy.list_by_product(rg, svc, uid)] == ["policy"]

    listed = list(client.all_policies.list_by_service(rg, svc))
    referenced = {p.reference_policy_id.split(f"/service/{svc}")[1] for p in listed}
    assert {
        f"/apis/{uid}/policies/policy",
        f"/apis/{uid}/operations/op/policies/policy",
        f"/products/{uid}/policies/policy",
        "/policies/policy",
    } <= referenced
    assert all(p.type == "Microsoft.ApiManagement/service/allPolicies" for p in listed)

    client.api_operation_policy.delete(rg, svc, uid, "op", "policy", "*")
    with pytest.raises(HttpResponseError) as caught:
        client.api_operation_policy.get(rg, svc, uid, "op", "policy")
    assert caught.value.status_code == 404


def test_only_the_policy_id_policy_exists(raw: RawClient, uid: str) -> None:
    answer = raw.call("PUT", "policies/other", {"properties": {"value": "<policies />"}})
    assert answer.status == 404


def test_policy_fragments(
    client: ApiManagementClient, raw: RawClient, rg: str, svc: str, uid: str
) -> None:
    fragment = (
        '<fragment><set-variable name="a" value="@(context.Variables["b"] as string)" /></fragment>'
    )
    created = client.policy_fragment.begin_create_or_update(
        rg,
        svc,
        uid,
        {"properties": {"format": "rawxml", "value": fragment, "description": "d"}},
        polling_interval=0,
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert created.value == fragment.replace('["b"]', "[&quot;b&quot;]")
    assert client.policy_fragment.get(rg, svc, uid, format="rawxml").value == fragment
    not_a_fragment = raw.call(
        "PUT", f"policyFragments/{uid}-x", {"properties": {"value": "<policies />"}}
    )
    assert not_a_fragment.status == 400

    client.product.create_or_update(rg, svc, uid, {"properties": {"displayName": uid}})
    uses = f'<policies><inbound><include-fragment fragment-id="{uid}" /></inbound></policies>'
    client.product_policy.create_or_update(rg, svc, uid, "policy", {"properties": {"value": uses}})
    references = client.policy_fragment.list_references(rg, svc, uid)
    assert [r.id.split(f"/service/{svc}")[1] for r in references.value] == [
        f"/products/{uid}/policies/policy"
    ]
