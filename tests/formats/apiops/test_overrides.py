"""APIOps publisher overrides (configuration.<env>.yaml) as apimsync environments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apimsync.environments import OverlayError, apply_overlay, overlay_warnings
from apimsync.formats.layouts import detect_layout, load_environment, read_tree
from apimsync.validate.tree import validate_tree
from tests.apiops_corpus import APIOPS_CORPUS

WITH_OVERRIDES = ["azure-integration-services-demo", "demo-integrationsvcs", "gore-apiops-demo"]


def _tree(root: Path) -> Path:
    api = root / "apimartifacts" / "apis" / "orders"
    api.mkdir(parents=True)
    (api / "apiInformation.json").write_text(
        json.dumps({"properties": {"path": "orders", "displayName": "Orders", "serviceUrl": "x"}})
    )
    (api / "policy.xml").write_text("<policies><inbound><base /></inbound></policies>")
    diagnostic = api / "diagnostics" / "applicationinsights"
    diagnostic.mkdir(parents=True)
    (diagnostic / "diagnosticInformation.json").write_text(
        json.dumps({"properties": {"loggerId": "/loggers/ai", "verbosity": "information"}})
    )
    logger = root / "apimartifacts" / "loggers" / "ai"
    logger.mkdir(parents=True)
    (logger / "loggerInformation.json").write_text(
        json.dumps({"properties": {"loggerType": "applicationInsights", "isBuffered": True}})
    )
    values = root / "apimartifacts" / "named values" / "key"
    values.mkdir(parents=True)
    (values / "namedValueInformation.json").write_text(
        json.dumps({"properties": {"displayName": "key", "secret": True}})
    )
    return root


def _overlay(root: Path, text: str, environ: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    (root / "configuration.prod.yaml").write_text(text)
    return load_environment(root, detect_layout(root), "prod", environ or {})


@pytest.mark.parametrize("name", WITH_OVERRIDES)
def test_every_real_override_file_reads_and_applies(name: str) -> None:
    root = APIOPS_CORPUS / name
    location = detect_layout(root)
    base = read_tree(root, location).configuration

    overlay = load_environment(root, location, "prod", {})
    merged = apply_overlay(base, overlay)

    assert overlay.path == "configuration.prod.yaml" and overlay.lenient
    changed = [
        p.resource_id
        for p in overlay.patches
        if merged.get(p.resource_id) != base.get(p.resource_id)
    ]
    assert changed == [p.resource_id for p in overlay.patches if p.resource_id in base]


def test_the_overrides_of_a_real_repository_reach_the_model() -> None:
    root = APIOPS_CORPUS / "gore-apiops-demo"
    location = detect_layout(root)
    base = read_tree(root, location).configuration

    overlay = load_environment(root, location, "prod", {})
    merged = apply_overlay(base, overlay)

    backend = merged.get("/backends/starwars")
    diagnostic = merged.get("/diagnostics/applicationinsights")
    secret = merged.get("/namedValues/AppInsightsKey")
    assert backend is not None and backend.properties["url"] == "https://prod.swapi.dev/api"
    assert diagnostic is not None
    assert diagnostic.properties["loggerId"] == "/loggers/applicationInsights"  # made relative
    assert diagnostic.properties["sampling"] == {"percentage": 95, "samplingType": "fixed"}
    assert secret is not None and secret.properties["keyVault"] == {
        "secretIdentifier": "https://kv-apiops-prod-eastus2.vault.azure.net/secrets/appInsightsKey"
    }
    ignored = [f.message for f in overlay_warnings(base, overlay)]
    assert any("'/apis/azure-openapi'" in m and "ignored" in m for m in ignored)


@pytest.mark.parametrize(
    "key", ["namedValues", "named values", "named_values", "NamedValues", "namedvalues"]
)
def test_every_generations_section_key_is_read(tmp_path: Path, key: str) -> None:
    root = _tree(tmp_path)

    overlay = _overlay(
        root, f"'{key}':\n  - name: key\n    properties:\n      value: from-override\n"
    )

    assert [(p.resource_id, dict(p.changes)) for p in overlay.patches] == [
        ("/namedValues/key", {"value": "from-override"})
    ]


def test_nested_sections_name_children(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    text = """\
policies:
  - name: policy
    properties: {format: rawxml, value: "<policies />"}
apis:
  - name: orders
    properties:
      serviceUrl: https://orders.prod.example.test
      apiRevision: "7"
    diagnostics:
      - name: applicationinsights
        properties: {verbosity: error}
    policies:
      - name: policy
        properties: {value: "<policies><inbound /></policies>"}
    operations:
      - name: get-order
        policies:
          - name: policy
            properties: {value: "<policies />"}
"""
    overlay = _overlay(root, text)

    assert {p.resource_id: dict(p.changes) for p in overlay.patches} == {
        "/policies/policy": {"format": "rawxml", "value": "<policies />"},
        "/apis/orders": {"serviceUrl": "https://orders.prod.example.test"},
        "/apis/orders/diagnostics/applicationinsights": {"verbosity": "error"},
        "/apis/orders/policies/policy": {"value": "<policies><inbound /></policies>"},
        "/apis/orders/operations/get-order/policies/policy": {"value": "<policies />"},
    }
    notes = [f.message for f in overlay.notes]
    assert any("apiRevision of /apis/orders is not overridden" in m for m in notes)


def test_environment_variables_resolve_and_a_missing_one_points_at_its_line(
    tmp_path: Path,
) -> None:
    root = _tree(tmp_path)
    text = "namedValues:\n  - name: key\n    properties:\n      value: ${env:ORDERS_KEY}\n"

    overlay = _overlay(root, text, {"ORDERS_KEY": "s3cret"})
    with pytest.raises(OverlayError) as missing:
        _overlay(root, text, {})

    assert dict(overlay.patches[0].changes) == {"value": "s3cret"}
    (finding,) = missing.value.findings
    assert (finding.path, finding.line, finding.code) == (
        "configuration.prod.yaml",
        4,
        "env-variable",
    )


def test_replace_token_placeholders_are_warned_about(tmp_path: Path) -> None:
    root = _tree(tmp_path)

    overlay = _overlay(
        root, "namedValues:\n  - name: key\n    properties:\n      value: '{#key#}'\n"
    )

    assert [(f.line, f.code) for f in overlay.notes] == [(4, "apiops-override")]
    assert "{#key#}" in overlay.notes[0].message and "${env:NAME}" in overlay.notes[0].message


def test_bad_yaml_is_one_error_at_its_line(tmp_path: Path) -> None:
    root = _tree(tmp_path)

    with pytest.raises(OverlayError) as error:
        _overlay(root, "namedValues:\n  - name: key\n   properties: [\n")

    (finding,) = error.value.findings
    assert finding.code == "yaml-syntax" and finding.path == "configuration.prod.yaml"
    assert finding.line == 3


def test_validate_env_checks_the_merged_configuration(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    forwarding = "<policies><inbound><forward-request /></inbound></policies>"
    (root / "configuration.prod.yaml").write_text(
        "apis:\n  - name: orders\n    policies:\n      - name: policy\n"
        f"        properties:\n          value: {forwarding}\n"
    )

    report = validate_tree(root, "prod", {})

    assert [(f.path, f.code) for f in report.errors] == [
        ("configuration.prod.yaml", "policy-section")
    ]


def test_an_unknown_environment_names_the_files_there_are(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "configuration.dev.yaml").write_text("{}\n")
    (root / "configuration.extractor.yaml").write_text("apis: []\n")

    with pytest.raises(
        Exception, match=r"configuration\.prod\.yaml does not exist; the environments are dev"
    ):
        load_environment(root, detect_layout(root), "prod", {})
