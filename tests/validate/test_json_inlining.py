"""Local ``$ref``s are inlined into the JSON schemas once: same findings, faster checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apimsync.validate.findings import Findings
from apimsync.validate.json_checks import check_json_file, inline_local_refs, schema_path

KINDS = ["api", "backend", "product", "root-configuration", "named-value", "diagnostic"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


@pytest.mark.parametrize("kind", KINDS)
def test_inlining_leaves_no_local_ref_outside_definitions(kind: str) -> None:
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))

    inlined = inline_local_refs(schema)

    outside = {key: value for key, value in inlined.items() if key != "$defs"}
    assert [r for r in _refs(outside) if r.startswith("#/$defs/")] == []
    assert inlined.get("$defs") is not None or schema.get("$defs") is None


def test_a_self_referring_definition_keeps_its_ref() -> None:
    schema = {
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "$ref": "#/$defs/node",
    }

    inlined = inline_local_refs(schema)

    node = inlined["$defs"]["node"]
    assert node["properties"]["next"]["properties"]["next"] == {"$ref": "#/$defs/node"}


def test_violations_deep_in_an_api_are_still_found_where_they_are() -> None:
    document = {
        "id": "/apis/echo",
        "name": "echo",
        "path": "echo",
        "operations": [{"method": "GET", "templateParameters": [{"required": "yes"}]}],
        "$ref-policy": "elsewhere/p.xml",
    }
    text = json.dumps(document, indent=2)
    findings = Findings()

    check_json_file("api-management/apis/echo/configuration.json", text, findings)

    found = {(f.code, f.line, f.message.split(" ")[0]) for f in findings.sorted()}
    assert ("schema", 10, "/operations/0/templateParameters/0/required") in found
    assert ("schema", 15, "/$ref-policy:") in found
