"""Schema checks of configuration JSON files: the corpus passes, broken files are found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apimsync.validate.findings import Finding, Findings
from apimsync.validate.json_checks import (
    ENVIRONMENT_KIND,
    check_json_file,
    json_file_kind,
    schema_path,
    schemas_dir,
)
from tests.conftest import CORPUS

KINDS = [
    "root-configuration",
    "api",
    "backend",
    "product",
    "group",
    "api-version-set",
    "tag",
    "api-release",
    "identity-provider",
    "named-value",
    "policy-fragment",
    "logger",
    "diagnostic",
]


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*/api-management/**/*.json"))


def export_relative(path: Path) -> str:
    """The path inside the export, starting at api-management/."""
    return path.relative_to(CORPUS).as_posix().split("/", 1)[1]


def check(path: str, *lines: str, newline: str = "\n") -> tuple[Any, list[Finding]]:
    findings = Findings()
    document = check_json_file(path, newline.join(lines), findings)
    return document, list(findings)


def codes_at(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return sorted((f.code, f.line, f.column) for f in findings)


# --- the corpus ----------------------------------------------------------------


def test_corpus_is_present() -> None:
    assert len(corpus_files()) > 100


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_corpus_file_has_no_finding(path: Path) -> None:
    findings = Findings()
    document = check_json_file(export_relative(path), path.read_bytes().decode("utf-8"), findings)
    assert [f.render() for f in findings] == []
    assert isinstance(document, dict)


def test_corpus_files_are_recognised() -> None:
    kinds = {json_file_kind(export_relative(path)) for path in corpus_files()}
    assert kinds == {
        None,
        "root-configuration",
        "api",
        "backend",
        "product",
        "group",
        "api-version-set",
        "tag",
        "identity-provider",
    }


# --- file kinds and schemas -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("api-management/configuration.json", "root-configuration"),
        ("api-management/apis/Echo_API__1[Current]/configuration.json", "api"),
        ("api-management/apiReleases/r1/configuration.json", "api-release"),
        ("api-management/apiVersionSets/v/configuration.json", "api-version-set"),
        ("api-management/backends/b/configuration.json", "backend"),
        ("api-management/groups/Developers/configuration.json", "group"),
        ("api-management/identity-providers/Aad/configuration.json", "identity-provider"),
        ("api-management/products/Starter/configuration.json", "product"),
        ("api-management/tags/Catalog/configuration.json", "tag"),
        ("exports/prod/api-management/products/Starter/configuration.json", "product"),
        ("api-management-extras/namedValues/openai-key.json", "named-value"),
        ("api-management-extras/policyFragments/retry.json", "policy-fragment"),
        ("api-management-extras/loggers/ai.json", "logger"),
        ("api-management-extras/diagnostics/applicationinsights.json", "diagnostic"),
        ("api-management/portalStyles/configuration.json", None),
        ("api-management/portalTemplates/Home/configuration.json", None),
        ("api-management/templates/NewIssueNotificationMessage/configuration.json", None),
        ("api-management/apis/A/apiSchemas/x.document", None),
        ("api-management/apis/A/operations/configuration.json", None),
        ("api-management/products/configuration.json", None),
        ("api-management-extras/policyFragments/retry.xml", None),
        ("api-management-extras/namedValues/.json", None),
        ("api-management-extras/other/x.json", None),
        ("configuration.json", None),
        ("package.json", None),
    ],
)
def test_json_file_kind(path: str, kind: str | None) -> None:
    assert json_file_kind(path) == kind


@pytest.mark.parametrize("kind", [*KINDS, ENVIRONMENT_KIND])
def test_every_kind_has_a_valid_schema(kind: str) -> None:
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schemas_dir_is_beside_the_package() -> None:
    assert (schemas_dir() / "scm" / "api.schema.json").is_file()
    checked = [
        *schemas_dir().glob("scm/*.schema.json"),
        *schemas_dir().glob("extras/*.schema.json"),
    ]
    assert len(checked) == len(KINDS)


# --- broken inputs --------------------------------------------------------------

API = "api-management/apis/A/configuration.json"
PRODUCT = "api-management/products/P/configuration.json"
NAMED_VALUE = "api-management-extras/namedValues/nv.json"


def test_trailing_comma_is_a_syntax_error() -> None:
    document, findings = check(API, "{", '  "id": "/apis/a",', "}")
    assert document is None
    assert codes_at(findings) == [("json-syntax", 3, 1)]


def test_syntax_error_position_with_crlf() -> None:
    _, findings = check(API, "{", '  "id": "/apis/a"', '  "path": "a"', "}", newline="\r\n")
    assert codes_at(findings) == [("json-syntax", 3, 3)]


def test_protocol_outside_the_enum() -> None:
    _, findings = check(
        API,
        "{",
        '  "id": "/apis/a",',
        '  "name": "A",',
        '  "path": "a",',
        '  "protocols": ["https", "ftp"]',
        "}",
    )
    assert codes_at(findings) == [("invalid-enum", 5, 26)]
    assert '"ftp"' in findings[0].message
    assert "http, https, ws, wss" in findings[0].message


def test_product_state_outside_the_enum() -> None:
    _, findings = check(
        PRODUCT, "{", '  "id": "/products/p",', '  "name": "P",', '  "state": "live"', "}"
    )
    assert codes_at(findings) == [("invalid-enum", 4, 12)]
    assert "notPublished, published" in findings[0].message


def test_api_without_path() -> None:
    _, findings = check(API, "{", '  "id": "/apis/a",', '  "name": "A"', "}")
    assert codes_at(findings) == [("missing-property", 1, 1)]
    assert '"path"' in findings[0].message


def test_operation_without_method_is_reported_at_the_operation() -> None:
    _, findings = check(
        API,
        '{"id": "/apis/a", "name": "A", "path": "a",',
        ' "operations": [',
        '   {"id": "/apis/a/operations/o", "name": "o", "urlTemplate": "/"}',
        " ]}",
    )
    assert codes_at(findings) == [("missing-property", 3, 4)]
    assert "/operations/0" in findings[0].message


def test_wrong_type() -> None:
    _, findings = check(
        API,
        "{",
        '  "id": "/apis/a",',
        '  "name": "A",',
        '  "path": "a",',
        '  "subscriptionRequired": "yes"',
        "}",
    )
    assert codes_at(findings) == [("schema", 5, 27)]
    assert "boolean" in findings[0].message


def test_named_value_with_value_and_key_vault() -> None:
    _, findings = check(
        NAMED_VALUE,
        "{",
        '  "id": "/namedValues/nv",',
        '  "displayName": "nv",',
        '  "value": "plain",',
        '  "keyVault": {"secretIdentifier": "https://kv.vault.azure.net/secrets/nv"}',
        "}",
    )
    assert codes_at(findings) == [("schema", 4, 12)]
    assert "keyVault" in findings[0].message


def test_secret_named_value_must_not_hold_its_value() -> None:
    _, findings = check(
        NAMED_VALUE,
        '{"id": "/namedValues/nv", "displayName": "nv",',
        ' "secret": true, "value": "hunter2"}',
    )
    assert codes_at(findings) == [("schema", 2, 27)]
    assert "hunter2" not in findings[0].message


def test_plain_named_value_needs_a_value() -> None:
    _, findings = check(NAMED_VALUE, '{"id": "/namedValues/nv", "displayName": "nv"}')
    assert codes_at(findings) == [("missing-property", 1, 1)]


def test_unknown_key_in_an_extras_file() -> None:
    _, findings = check(
        NAMED_VALUE,
        "{",
        '  "id": "/namedValues/nv",',
        '  "displayName": "nv",',
        '  "secret": true,',
        '  "colour": "red"',
        "}",
    )
    assert codes_at(findings) == [("unknown-property", 5, 3)]
    assert '"colour"' in findings[0].message


def test_unknown_key_nested_in_an_extras_file() -> None:
    _, findings = check(
        "api-management-extras/diagnostics/d.json",
        '{"id": "/diagnostics/applicationinsights", "loggerId": "/loggers/ai",',
        ' "sampling": {"samplingType": "fixed", "rate": 5}}',
    )
    assert codes_at(findings) == [("unknown-property", 2, 40)]


def test_unknown_key_in_an_scm_file_is_allowed() -> None:
    _, findings = check(API, '{"id": "/apis/a", "name": "A", "path": "a", "newKey": [1]}')
    assert findings == []


def test_all_findings_of_a_file_are_collected() -> None:
    _, findings = check(
        API,
        "{",
        '  "id": "apis/a",',
        '  "name": "A",',
        '  "protocols": ["ftp"],',
        '  "subscriptionRequired": 1,',
        '  "operations": [{"id": "/apis/a/operations/o", "name": "o", "urlTemplate": "/"}]',
        "}",
    )
    assert codes_at(findings) == [
        ("invalid-enum", 4, 17),
        ("missing-property", 1, 1),
        ("missing-property", 6, 18),
        ("schema", 2, 9),
        ("schema", 5, 27),
    ]


def test_positions_in_a_crlf_file() -> None:
    _, findings = check(
        PRODUCT,
        "{",
        '  "id": "/products/p",',
        '  "name": "P",',
        '  "state": "live"',
        "}",
        newline="\r\n",
    )
    assert codes_at(findings) == [("invalid-enum", 4, 12)]


def test_query_versioning_needs_the_query_name() -> None:
    _, findings = check(
        "api-management/apiVersionSets/v/configuration.json",
        '{"id": "/api-version-sets/v", "name": "v", "versioningScheme": "Query"}',
    )
    assert codes_at(findings) == [("missing-property", 1, 1)]


def test_pool_backend_needs_no_url() -> None:
    _, findings = check(
        "api-management/backends/pool/configuration.json",
        '{"id": "/backends/pool", "type": "Pool",',
        ' "pool": {"services": [{"id": "/backends/a"}]}}',
    )
    assert findings == []


def test_single_backend_needs_url_and_protocol() -> None:
    _, findings = check("api-management/backends/b/configuration.json", '{"id": "/backends/b"}')
    assert sorted(f.message for f in findings) == [
        'required property "protocol" is missing from the document; add it',
        'required property "url" is missing from the document; add it',
    ]


# --- valid extras files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document"),
    [
        (
            "api-management-extras/namedValues/plain.json",
            {"id": "/namedValues/plain", "displayName": "plain", "value": "v", "tags": ["a"]},
        ),
        (
            "api-management-extras/namedValues/openai-key.json",
            {"id": "/namedValues/openai-key", "displayName": "OpenAI-Key", "secret": True},
        ),
        (
            "api-management-extras/namedValues/kv.json",
            {
                "id": "/namedValues/kv",
                "displayName": "kv",
                "secret": True,
                "keyVault": {
                    "secretIdentifier": "https://kv.vault.azure.net/secrets/kv",
                    "identityClientId": "00000000-0000-0000-0000-000000000000",
                },
            },
        ),
        (
            "api-management-extras/policyFragments/retry.json",
            {
                "id": "/policyFragments/retry-openai",
                "description": "retry on 429",
                "$ref-value": "api-management-extras/policyFragments/retry.xml",
            },
        ),
        (
            "api-management-extras/loggers/ai.json",
            {
                "id": "/loggers/ai",
                "loggerType": "applicationInsights",
                "description": "telemetry",
                "credentials": {"instrumentationKey": "{{Logger-Credentials--ai}}"},
                "isBuffered": True,
                "resourceId": "/subscriptions/s/resourceGroups/g/providers/x/components/ai",
            },
        ),
        (
            "api-management-extras/diagnostics/api.json",
            {
                "id": "/apis/open-ai/diagnostics/applicationinsights",
                "loggerId": "/loggers/ai",
                "alwaysLog": "allErrors",
                "sampling": {"samplingType": "fixed", "percentage": 12.5},
                "frontend": {
                    "request": {"headers": ["x-ms-region"], "body": {"bytes": 1024}},
                    "response": {"dataMasking": {"headers": [{"value": "k", "mode": "Hide"}]}},
                },
                "backend": {"request": {"body": {"bytes": 0}}},
                "logClientIp": True,
                "httpCorrelationProtocol": "W3C",
                "verbosity": "information",
                "operationNameFormat": "Name",
                "metrics": True,
            },
        ),
    ],
)
def test_valid_extras_file(path: str, document: dict[str, Any]) -> None:
    parsed, findings = check(path, json.dumps(document, indent=2))
    assert [f.render() for f in findings] == []
    assert parsed == document


def test_files_of_unknown_kind_are_only_parsed() -> None:
    document, findings = check("api-management/portalStyles/configuration.json", '{"x": 1}')
    assert (document, findings) == ({"x": 1}, [])


# --- what older and Windows-made exports hold -------------------------------------


def test_a_root_without_module_version_is_allowed() -> None:
    """The oldest exports write only the settings and the global policy."""
    _, findings = check(
        "api-management/configuration.json",
        '{"settings": {"RegistrationEnabled": "True"},',
        ' "$ref-policy": "api-management/policies/global.xml"}',
    )
    assert findings == []


def test_a_query_parameter_without_type_is_allowed() -> None:
    _, findings = check(
        API,
        '{"id": "/apis/a", "name": "A", "path": "a", "operations": [',
        ' {"id": "/apis/a/operations/o", "name": "o", "method": "GET", "urlTemplate": "/",',
        '  "request": {"queryParameters": [{"name": "q", "values": []}]}}]}',
    )
    assert findings == []


def test_references_with_windows_separators_are_allowed_even_deep_inside() -> None:
    _, findings = check(
        API,
        '{"id": "/apis/a", "name": "A", "path": "a",',
        ' "$ref-description": "api-management\\\\apis\\\\A\\\\api.description.html",',
        ' "operations": [{"id": "/apis/a/operations/o", "name": "o", "method": "GET",',
        '  "urlTemplate": "/", "request": {"queryParameters": [{"name": "q",',
        '   "examples": {"default": {',
        '    "$ref-value": "api-management\\\\apis\\\\A\\\\o.q.html"}}}]}}]}',
    )
    assert findings == []


def test_a_reference_outside_api_management_is_still_refused() -> None:
    _, findings = check(
        API, '{"id": "/apis/a", "name": "A", "path": "a", "$ref-description": "C:\\\\a.html"}'
    )
    assert codes_at(findings) == [("schema", 1, 65)]
    assert "api-management/" in findings[0].message
