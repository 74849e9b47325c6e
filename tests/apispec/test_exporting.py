"""Exporting gives a specification that imports back into the same operations."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
import yaml

from apimsync.apispec import export_specification, parse_specification
from apimsync.errors import SpecificationError

from .documents import OPENAPI_PETSTORE_YAML, SWAGGER_PETSTORE

SCHEMA_ID = "5e7bad8707b43d0e3879466c"


@pytest.mark.parametrize(
    ("source", "source_format", "export_format"),
    [
        (SWAGGER_PETSTORE, "swagger-json", "swagger-json"),
        (SWAGGER_PETSTORE, "swagger-json", "openapi"),
        (SWAGGER_PETSTORE, "swagger-json", "openapi+json"),
        (OPENAPI_PETSTORE_YAML, "openapi", "openapi"),
        (OPENAPI_PETSTORE_YAML, "openapi", "openapi+json"),
    ],
)
def test_an_export_imports_back_into_the_same_operations(
    source: str, source_format: str, export_format: str
) -> None:
    imported = parse_specification(source, source_format, schema_id=SCHEMA_ID)
    api = {**imported.api_properties, "path": "pets"}
    schemas = [imported.schema] if imported.schema else []
    text = export_specification(api, imported.operations, export_format, schemas=schemas)
    again = parse_specification(text, export_format, schema_id=SCHEMA_ID)
    assert sorted(again.operations, key=lambda o: o.name) == sorted(
        imported.operations, key=lambda o: o.name
    )
    assert again.api_properties["displayName"] == imported.api_properties["displayName"]
    assert again.api_properties.get("serviceUrl") == imported.api_properties.get("serviceUrl")
    assert again.schema is not None and imported.schema is not None
    assert set(_types(imported.schema.document)) <= set(_types(again.schema.document))


def test_swagger_export_of_an_openapi_api_keeps_every_operation() -> None:
    """Swagger 2 cannot hold request examples or content-less responses; the operations,
    their methods, templates and parameters survive."""
    imported = parse_specification(OPENAPI_PETSTORE_YAML, "openapi")
    text = export_specification(imported.api_properties, imported.operations, "swagger-json")
    again = parse_specification(text, "swagger-json")

    def outline(spec: object) -> list[tuple[object, ...]]:
        return sorted(
            (
                o.name,
                o.properties["method"],
                o.properties["urlTemplate"],
                str(o.properties["templateParameters"]),
            )
            for o in spec.operations  # type: ignore[attr-defined]
        )

    assert outline(again) == outline(imported)


def _types(document: object) -> dict[str, object]:
    assert isinstance(document, dict)
    if "definitions" in document:
        return dict(document["definitions"])
    return dict(document["components"]["schemas"])


def test_openapi_export_is_yaml_and_json_export_is_json() -> None:
    imported = parse_specification(OPENAPI_PETSTORE_YAML, "openapi")
    yaml_text = export_specification(imported.api_properties, imported.operations, "openapi")
    json_text = export_specification(imported.api_properties, imported.operations, "openapi+json")
    assert yaml_text.startswith("openapi: 3.0.1\n")
    assert json.loads(json_text) == yaml.safe_load(yaml_text)


def test_the_export_unfolds_formats_and_names_the_server() -> None:
    imported = parse_specification(SWAGGER_PETSTORE, "swagger-json")
    document = json.loads(
        export_specification(
            imported.api_properties,
            imported.operations,
            "openapi+json",
            server_url="https://apim.azure-api.net/pets",
        )
    )
    assert document["servers"] == [{"url": "https://apim.azure-api.net/pets"}]
    delete = document["paths"]["/pets/{id}"]["delete"]
    assert delete["parameters"] == [
        {
            "name": "id",
            "in": "path",
            "description": "ID of pet to delete",
            "required": True,
            "schema": {"type": "integer", "format": "int64"},
        }
    ]
    dummy = document["paths"]["/mySamplePath"]["post"]
    query = [
        (p["name"], p.get("required", False)) for p in dummy["parameters"] if p["in"] == "query"
    ]
    assert query == [("dummyReqQueryParam", True), ("dummyNotReqQueryParam", False)]


def test_an_unknown_export_format_is_refused() -> None:
    with pytest.raises(SpecificationError, match="format 'wsdl'"):
        export_specification({"displayName": "x"}, [], "wsdl")


def test_a_wadl_export_lists_resources_methods_and_parameters() -> None:
    imported = parse_specification(SWAGGER_PETSTORE, "swagger-json")
    text = export_specification(
        imported.api_properties, imported.operations, "wadl", server_url="https://a.example/pets"
    )
    root = ElementTree.fromstring(text)
    ns = {"w": "http://wadl.dev.java.net/2009/02"}
    assert root.find("w:resources", ns).get("base") == "https://a.example/pets"  # type: ignore[union-attr]
    paths = {r.get("path") for r in root.iterfind("w:resources/w:resource", ns)}
    assert paths == {"/pets", "/pets/{id}", "/mySamplePath"}
    dummy = root.find("w:resources/w:resource[@path='/mySamplePath']/w:method", ns)
    assert dummy is not None and (dummy.get("name"), dummy.get("id")) == ("POST", "dummyid1")
    params = {
        (p.get("name"), p.get("style"), p.get("required"))
        for p in dummy.iterfind("w:request/w:param", ns)
    }
    assert ("dummyReqQueryParam", "query", "true") in params
    assert ("dummyNotReqQueryParam", "query", "false") in params
    assert ("dummyDateHeaderParam", "header", "true") in params
