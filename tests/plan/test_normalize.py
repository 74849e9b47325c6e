"""The comparable form: what the server fills, defaults, ids and policies do not count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apimsync.formats.scm.reader import read_tree
from apimsync.jsonvalue import FrozenMap, thaw
from apimsync.model import Kind, Resource, make_resource
from apimsync.plan.normalize import (
    RULES,
    SERVER_FILLED,
    comparable_pair,
    hidden_by_service,
    normalize,
    service_relative,
)
from tests.conftest import CORPUS
from tests.plan.conftest import resource

DEFINITIONS = CORPUS.parent / "specs" / "apim-2024-05-01" / "definitions.json"
ARM = "/subscriptions/0000/resourceGroups/rg1/providers/Microsoft.ApiManagement/service/svc1"


# -- the table agrees with the spec ------------------------------------------------------


def _spec_marks(definitions: dict[str, Any], name: str) -> tuple[set[str], dict[str, Any]]:
    """The read-only pointers and the documented defaults of one properties schema."""
    read_only: set[str] = set()
    defaults: dict[str, Any] = {}

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def walk(schema: dict[str, Any], at: str, seen: frozenset[str]) -> None:
        schema = resolve(schema)
        for part in schema.get("allOf", []):
            walk(part, at, seen)
        for key, declared in schema.get("properties", {}).items():
            pointer, target = f"{at}/{key}", resolve(declared)
            if declared.get("readOnly") or target.get("readOnly"):
                read_only.add(pointer)
            if "default" in declared or "default" in target:
                defaults[pointer] = declared.get("default", target.get("default"))
            reference = declared.get("$ref", "")
            if reference not in seen:
                walk(declared, pointer, seen | {reference})

    walk(definitions[name], "", frozenset())
    return read_only, defaults


@pytest.mark.parametrize("kind", list(RULES), ids=lambda k: k.label)
def test_every_read_only_property_and_default_of_the_spec_is_in_the_table(kind: Kind) -> None:
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))["definitions"]
    rules = RULES[kind]
    assert rules.contract in definitions

    read_only, defaults = _spec_marks(definitions, str(rules.contract))

    dropped = set(SERVER_FILLED) | set(rules.read_only)
    assert read_only <= dropped
    for pointer, value in defaults.items():
        assert pointer in dropped or rules.defaults.get(pointer) == value, pointer


def test_every_kind_has_rules() -> None:
    assert set(RULES) == set(Kind)


# -- one resource, read from files and as the server shows it -----------------------------


def _live(original: Resource, **changes: Any) -> Resource:
    data = thaw(original.properties)
    data.update(changes)
    return make_resource(original.id, data)


def test_an_api_equals_the_form_the_server_returns() -> None:
    api = resource("eshop-v15", "/apis/catalog-api")
    version_set = api.properties["apiVersionSetId"]
    live = _live(
        api,
        apiVersionSetId=ARM + version_set,
        apiVersionSet={"id": ARM + version_set, "name": "Catalog", "versioningScheme": "Segment"},
        isOnline=True,
        provisioningState="Succeeded",
        protocols=list(reversed(api.properties["protocols"])),
        authenticationSettings={"oAuth2": None, "oAuth2AuthenticationSettings": []},
        termsOfServiceUrl=None,
        type="http",
    )

    assert normalize(live) == normalize(api)
    assert isinstance(normalize(api), FrozenMap)


def test_absent_null_and_empty_mean_the_same() -> None:
    bare = make_resource("/products/p", {"displayName": "P"})
    noisy = make_resource(
        "/products/p", {"displayName": "P", "description": None, "terms": None, "x": {"a": []}}
    )

    assert normalize(bare) == normalize(noisy)


@pytest.mark.parametrize(
    ("resource_id", "sparse", "explicit"),
    [
        (
            "/products/p",
            {"displayName": "P"},
            {
                "displayName": "P",
                "subscriptionRequired": True,
                "approvalRequired": False,
                "state": "notPublished",
            },
        ),
        (
            "/namedValues/n",
            {"displayName": "n", "value": "v"},
            {"displayName": "n", "value": "v", "secret": False, "tags": []},
        ),
        (
            "/backends/b",
            {"url": "https://b", "protocol": "http"},
            {
                "url": "https://b",
                "protocol": "http",
                "type": "Single",
                "tls": {"validateCertificateChain": True, "validateCertificateName": True},
            },
        ),
        (
            "/groups/g",
            {"displayName": "G"},
            {"displayName": "G", "type": "custom", "builtIn": False},
        ),
        (
            "/loggers/l",
            {"loggerType": "azureMonitor"},
            {"loggerType": "azureMonitor", "isBuffered": True},
        ),
        (
            "/apis/a",
            {"displayName": "A", "path": "a"},
            {
                "displayName": "A",
                "path": "a",
                "apiRevision": "1",
                "isCurrent": True,
                "type": "http",
                "subscriptionRequired": True,
                "protocols": ["https"],
                "subscriptionKeyParameterNames": {
                    "header": "Ocp-Apim-Subscription-Key",
                    "query": "subscription-key",
                },
            },
        ),
    ],
)
def test_documented_defaults_are_filled_in(
    resource_id: str, sparse: dict[str, Any], explicit: dict[str, Any]
) -> None:
    assert normalize(make_resource(resource_id, sparse)) == normalize(
        make_resource(resource_id, explicit)
    )


def test_a_default_does_not_hide_a_different_value() -> None:
    open_product = make_resource("/products/p", {"displayName": "P", "state": "published"})

    assert normalize(open_product) != normalize(make_resource("/products/p", {"displayName": "P"}))


def test_revisions_default_to_not_current_and_the_base_id_is_always_current() -> None:
    revision = make_resource("/apis/a;rev=2", {"displayName": "A", "path": "a"})
    assert normalize(revision)["apiRevision"] == "2"
    assert normalize(revision)["isCurrent"] is False
    base = make_resource("/apis/a", {"displayName": "A", "path": "a", "isCurrent": True})
    assert "isCurrent" not in normalize(base)


def test_full_arm_ids_become_service_relative() -> None:
    pool = make_resource(
        "/backends/pool",
        {"type": "Pool", "pool": {"services": [{"id": ARM + "/backends/one", "weight": 3}]}},
    )

    assert normalize(pool)["pool"]["services"][0]["id"] == "/backends/one"
    assert service_relative("https://management.azure.com" + ARM + "/apis/x").startswith("https")
    assert service_relative(ARM.upper() + "/apis/x") == "/apis/x"


def test_server_filled_values_of_named_values_and_groups_are_dropped() -> None:
    keyvault = {"secretIdentifier": "https://kv.vault.azure.net/secrets/k"}
    desired = make_resource(
        "/namedValues/k", {"displayName": "k", "secret": True, "keyVault": keyvault}
    )
    live = make_resource(
        "/namedValues/k",
        {
            "displayName": "k",
            "secret": True,
            "keyVault": {**keyvault, "lastStatus": {"code": "Success"}},
            "provisioningState": "Succeeded",
        },
    )
    assert normalize(desired) == normalize(live)
    group = resource("example", "/groups/developers")
    assert "builtIn" not in normalize(group)


def test_a_secret_named_values_value_is_not_compared() -> None:
    with_value = make_resource(
        "/namedValues/k", {"displayName": "k", "secret": True, "value": "s3cr3t"}
    )
    without = make_resource("/namedValues/k", {"displayName": "k", "secret": True})

    assert normalize(with_value) == normalize(without)


def test_policies_compare_their_canonical_text_and_ignore_the_format() -> None:
    policy = resource("seed-openai-v17", "/apis/app-sweden-python/policies/policy")
    as_xml = _live(policy, format="xml", value=policy.xml.replace("\n", "\r\n"))

    assert normalize(as_xml) == normalize(policy)
    assert set(normalize(policy)) == {"value"}


def test_a_fragment_read_without_its_root_element_equals_the_full_one() -> None:
    inner = '<set-header name="a" exists-action="override"><value>1</value></set-header>'
    bare = make_resource("/policyFragments/f", {"value": inner, "format": "xml"})
    full = make_resource("/policyFragments/f", {"value": f"<fragment>{inner}</fragment>"})

    assert normalize(bare) == normalize(full)


def test_text_that_is_not_a_policy_is_compared_as_it_is() -> None:
    broken = make_resource("/policies/policy", {"value": "<policies><inbound>\r\n"})

    assert normalize(broken)["value"] == "<policies><inbound>"


def test_every_resource_of_every_export_normalizes(export: Path) -> None:
    for item in read_tree(export).configuration:
        form = normalize(item)
        assert form == normalize(make_resource(item.id, thaw(form)))  # idempotent


# -- what the real service rewrites and fills in (real-service-behaviour.md) -------------


def test_an_operation_compares_as_the_service_rewrites_it() -> None:
    """§7 [REV20 p@68000]: a leading '/' is added, ``required: false`` is left out, empty
    lists and ``policies: null`` are filled in."""
    sent = make_resource(
        "/apis/a/operations/o",
        {
            "displayName": "o",
            "method": "GET",
            "urlTemplate": "template_azsmnet2820/{id}",
            "templateParameters": [{"name": "id", "type": "string", "required": True}],
            "request": {
                "queryParameters": [{"name": "q", "type": "string", "required": False}],
                "headers": [{"name": "h", "type": "string", "required": False}],
            },
            "responses": [{"statusCode": 200, "headers": []}],
        },
    )
    returned = make_resource(
        "/apis/a/operations/o",
        {
            "displayName": "o",
            "method": "GET",
            "urlTemplate": "/template_azsmnet2820/{id}",
            "templateParameters": [
                {"name": "id", "type": "string", "required": True, "values": []}
            ],
            "request": {
                "queryParameters": [{"name": "q", "type": "string", "values": []}],
                "headers": [{"name": "h", "type": "string", "values": []}],
                "representations": [],
            },
            "responses": [{"statusCode": 200, "representations": [], "headers": []}],
            "policies": None,
        },
    )

    assert normalize(sent) == normalize(returned)
    required = thaw(normalize(returned))["templateParameters"][0]
    assert required["required"] is True  # true is kept, and still compared


def test_a_diagnostic_compares_with_the_defaults_the_service_fills_in() -> None:
    """§11 [ADIAG23 p@14000]: a diagnostic written with only its logger comes back with
    ``logClientIp``, ``httpCorrelationProtocol`` and query-string masking."""
    masked = {
        "headers": None,
        "body": None,
        "dataMasking": {"queryParams": [{"value": "*", "mode": "Hide"}]},
    }
    sent = make_resource("/apis/echo/diagnostics/applicationinsights", {"loggerId": "/loggers/l"})
    returned = make_resource(
        "/apis/echo/diagnostics/applicationinsights",
        {
            "alwaysLog": None,
            "httpCorrelationProtocol": "Legacy",
            "logClientIp": True,
            "loggerId": ARM + "/loggers/l",
            "sampling": None,
            "frontend": {"request": masked, "response": None},
            "backend": {"request": masked, "response": None},
        },
    )

    assert normalize(sent) == normalize(returned)
    assert normalize(make_resource(sent.id, {"loggerId": "/loggers/l", "logClientIp": False})) != (
        normalize(returned)
    )


def test_a_version_set_ignores_the_name_its_scheme_does_not_use() -> None:
    """§15 [AVS20 e6, e7]: switching the scheme keeps the other name on the service."""
    wanted = make_resource(
        "/apiVersionSets/v",
        {"displayName": "v", "versioningScheme": "Query", "versionQueryName": "api-version"},
    )
    live = make_resource(
        "/apiVersionSets/v",
        {
            "displayName": "v",
            "versioningScheme": "Query",
            "versionQueryName": "api-version",
            "versionHeaderName": "x-ms-sdk-version",
        },
    )

    assert normalize(wanted) == normalize(live)
    other_name = make_resource(live.id, {**thaw(wanted.properties), "versionQueryName": "v"})
    assert normalize(other_name) != normalize(live)


def test_logger_credentials_the_service_hides_are_not_compared() -> None:
    """§10 [LOG20 e2], [LOGEH21 p@31000]: keys come back as a named-value reference."""
    wanted = make_resource(
        "/loggers/insights",
        {"loggerType": "applicationInsights", "credentials": {"instrumentationKey": "{{key}}"}},
    )
    live = make_resource(
        "/loggers/insights",
        {
            "loggerType": "applicationInsights",
            "description": None,
            "credentials": {
                "instrumentationKey": "{{Logger-Credentials--608ef446093a9d0afcfd56ea}}"
            },
            "isBuffered": True,
            "resourceId": None,
        },
    )

    assert hidden_by_service(live) == ("/credentials/instrumentationKey",)
    after, before = comparable_pair(wanted, live)
    assert after == before
    described = make_resource(wanted.id, {**thaw(wanted.properties), "description": "d"})
    after, before = comparable_pair(described, live)
    assert after != before  # what the service shows is still compared
    assert hidden_by_service(wanted) == ()


def test_a_policy_compares_equal_to_the_services_reserialisation() -> None:
    """§2.5 [POL20 e11], [GQL23 p@29000]: tabs, CRLF, no leading whitespace, ``<base />``."""
    sent = (
        '\r\n   <policies>\r\n  <inbound>\r\n    <set-header name="x-sdk-call" '
        'exists-action="append">\r\n      <value>true</value>\r\n    </set-header>\r\n'
        "    <base/>\r\n  </inbound>\r\n  <backend><base/></backend>\r\n</policies>\n"
    )
    returned = (
        '<policies>\r\n\t<inbound>\r\n\t\t<set-header name="x-sdk-call" '
        'exists-action="append">\r\n\t\t\t<value>true</value>\r\n\t\t</set-header>\r\n'
        "\t\t<base />\r\n\t</inbound>\r\n\t<backend>\r\n\t\t<base />\r\n\t</backend>\r\n</policies>"
    )
    policy = "/apis/echo-api/policies/policy"

    assert normalize(make_resource(policy, {"value": sent})) == normalize(
        make_resource(policy, {"format": "xml", "value": returned})
    )
