"""Importing a specification maps it as API Management does (catalogue §5)."""

from __future__ import annotations

import json

import pytest

from apimsync.apispec import ApiSpecification, parse_specification
from apimsync.errors import SpecificationError

from .documents import OPENAPI_PETSTORE_YAML, SWAGGER_PETSTORE


def _operation(spec: ApiSpecification, name: str) -> dict[str, object]:
    found = {op.name: dict(op.properties) for op in spec.operations}
    return found[name]


def test_swagger_api_properties() -> None:
    """§5 [REV20 e3]: title, description, schemes[0]://host+basePath, protocols = schemes."""
    spec = parse_specification(SWAGGER_PETSTORE, "swagger-json")
    assert dict(spec.api_properties) == {
        "displayName": "Swagger Petstore Extensive",
        "description": "A sample API",
        "serviceUrl": "http://petstore.swagger.wordnik.com/api",
        "protocols": ["http"],
    }


def test_openapi_api_properties() -> None:
    """§5 [OAS20 e3]: servers[0].url, protocols https whatever its scheme, null description."""
    spec = parse_specification(OPENAPI_PETSTORE_YAML, "openapi")
    assert dict(spec.api_properties) == {
        "displayName": "Swagger Petstore",
        "description": None,
        "serviceUrl": "http://petstore.swagger.io/v1",
        "protocols": ["https"],
    }


def test_operation_names_and_the_default_response() -> None:
    """§5 [REV20 e6]: operationId is name and displayName; ``default`` becomes 500 with
    its description."""
    spec = parse_specification(SWAGGER_PETSTORE, "swagger-json")
    assert sorted(op.name for op in spec.operations) == [
        "addPet",
        "deletePet",
        "dummyid1",
        "findPets",
    ]
    find = _operation(spec, "findPets")
    assert find["displayName"] == "findPets" and find["method"] == "GET"
    statuses = [(r["statusCode"], r["description"]) for r in find["responses"]]  # type: ignore[attr-defined]
    assert statuses == [(200, "pet response"), (500, "unexpected error")]


def test_required_query_parameters_move_into_the_template() -> None:
    """§5 [REV20 p@84000]: the path's own query string is dropped, required query
    parameters become template parameters, optional ones stay query parameters; the
    format is folded into the description."""
    dummy = _operation(parse_specification(SWAGGER_PETSTORE, "swagger-json"), "dummyid1")
    assert dummy["urlTemplate"] == "/mySamplePath?dummyReqQueryParam={dummyReqQueryParam}"
    assert [p["name"] for p in dummy["templateParameters"]] == ["dummyReqQueryParam"]  # type: ignore[attr-defined]
    request = dummy["request"]
    assert [p["name"] for p in request["queryParameters"]] == ["dummyNotReqQueryParam"]  # type: ignore[index]
    assert request["headers"][0]["description"] == (  # type: ignore[index]
        "Format - date (as full-date in RFC3339). dummyDateHeaderParam description"
    )
    assert request["representations"][0]["contentType"] == "multipart/form-data"  # type: ignore[index]
    assert request["representations"][0]["formParameters"][0]["name"] == "dummyFormDataParam"  # type: ignore[index]


def test_path_parameters_and_folded_formats() -> None:
    delete = _operation(parse_specification(SWAGGER_PETSTORE, "swagger-json"), "deletePet")
    assert delete["urlTemplate"] == "/pets/{id}"
    assert delete["templateParameters"] == [
        {
            "name": "id",
            "description": "Format - int64. ID of pet to delete",
            "type": "integer",
            "required": True,
            "values": [],
        }
    ]


def test_representations_share_one_schema_and_name_their_types() -> None:
    """§5: representations carry the API's one ``schemaId`` and a ``typeName``; an array
    of a definition is ``<name>Array``; inline types get generated names; the schema
    holds the document's definitions."""
    spec = parse_specification(
        SWAGGER_PETSTORE, "swagger-json", schema_id="5e7bad8707b43d0e3879466c"
    )
    find = _operation(spec, "findPets")
    ok, error = find["responses"]  # type: ignore[misc]
    assert ok["representations"] == [
        {
            "contentType": "application/json",
            "schemaId": "5e7bad8707b43d0e3879466c",
            "typeName": "petArray",
        }
    ]
    assert error["representations"][0]["typeName"] == "errorModel"
    add = _operation(spec, "addPet")
    assert add["request"]["representations"][0]["typeName"] == "newPet"  # type: ignore[index]
    assert spec.schema is not None
    assert spec.schema.content_type == "application/vnd.ms-azure-apim.swagger.definitions+json"
    assert {"pet", "newPet", "errorModel", "petArray"} <= set(spec.schema.document["definitions"])


def test_openapi_request_bodies_examples_and_headers() -> None:
    spec = parse_specification(OPENAPI_PETSTORE_YAML, "openapi")
    create = _operation(spec, "createPets")
    representation = create["request"]["representations"][0]  # type: ignore[index]
    assert representation["typeName"] == "PetsPostRequest" or representation["typeName"].endswith(
        "Request"
    )
    assert representation["examples"] == {"default": {"value": {"name": "Rex"}}}
    listing = _operation(spec, "listPets")
    ok = listing["responses"][0]  # type: ignore[index]
    assert ok["headers"] == [
        {
            "name": "x-next",
            "description": "A link to the next page of responses",
            "type": "string",
            "values": [],
        }
    ]
    assert ok["representations"][0]["typeName"] == "Pets"
    assert (
        spec.schema is not None
        and spec.schema.content_type == "application/vnd.oai.openapi.components+json"
    )


def test_json_openapi_and_yaml_give_the_same_result() -> None:
    import yaml

    as_json = json.dumps(yaml.safe_load(OPENAPI_PETSTORE_YAML))
    assert (
        parse_specification(as_json, "openapi+json").operations
        == parse_specification(
            OPENAPI_PETSTORE_YAML,
            "openapi",
            schema_id=parse_specification(as_json, "openapi+json").schema.schema_id,  # type: ignore[union-attr]
        ).operations
    )


@pytest.mark.parametrize(
    ("text", "fmt", "problem"),
    [
        ("{not json", "swagger-json", "not valid JSON (line 1, column 2)"),
        ("a: [1, 2", "openapi", "neither valid JSON nor valid YAML"),
        (
            '{"info": {"title": "x"}, "paths": {}}',
            "openapi+json",
            "neither 'swagger: 2.0' nor 'openapi: 3.x'",
        ),
        ('{"openapi": "3.0.0", "paths": {}}', "openapi+json", "no 'info.title'"),
        ('{"openapi": "3.0.0", "info": {"title": "x"}}', "openapi+json", "no 'paths'"),
        (SWAGGER_PETSTORE, "openapi+json", "import it as 'swagger-json'"),
        ('{"swagger": "2.0"}', "wadl-xml", "format 'wadl-xml'"),
        (
            '{"openapi": "3.0.0", "info": {"title": "x"}, '
            '"paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/nowhere"}}}}}}',
            "openapi+json",
            "$ref to nothing",
        ),
    ],
)
def test_bad_documents_say_what_is_wrong(text: str, fmt: str, problem: str) -> None:
    with pytest.raises(SpecificationError) as caught:
        parse_specification(text, fmt)
    assert problem in str(caught.value)
    assert str(caught.value).startswith("the API specification ")
