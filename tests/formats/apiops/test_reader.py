"""Reading APIOps artifact folders of every generation into the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apimsync.formats.layouts import detect_layout, read_tree
from apimsync.model import Configuration, Kind
from tests.apiops_corpus import APIOPS_CORPUS, FOLDERS


def _read(root: Path) -> Configuration:
    return read_tree(root, detect_layout(root)).configuration


def _write(root: Path, relative: str, document: object) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", FOLDERS)
def test_every_real_folder_reads_without_errors_from_the_files(name: str) -> None:
    result = read_tree(APIOPS_CORPUS / name, detect_layout(APIOPS_CORPUS / name))

    errors = [f.render() for f in result.findings if f.is_error]
    assert [e for e in errors if "unknown-owner" not in e] == []
    assert len(result.configuration.of_kind(Kind.API)) > 0


def test_revision_folders_are_revisions_of_the_api() -> None:
    model = _read(APIOPS_CORPUS / "gore-apiops-demo")

    current = model.get("/apis/star-wars")
    older = model.get("/apis/star-wars;rev=1")
    assert current is not None and current.properties["apiRevision"] == "2"
    assert older is not None and older.properties["apiRevision"] == "1"
    assert model.get("/apis/star-wars;rev=1/policies/policy") is not None


def test_v6_absolute_ids_become_service_relative() -> None:
    model = _read(APIOPS_CORPUS / "pagopa-dx-playground")

    api = model.get("/apis/function-demo")
    assert api is not None
    assert api.properties["apiVersionSetId"] == "/apiVersionSets/demo-app-version"


def test_links_of_each_generation_become_the_same_link_resources() -> None:
    v6 = _read(APIOPS_CORPUS / "gore-apiops-demo")  # products/p/apis/a/*.json = {}
    beta = _read(APIOPS_CORPUS / "mifurm-apim")  # {"name": GUID, "properties": {"apiId"}}
    arrays = _read(APIOPS_CORPUS / "azure-integration-services-demo")  # apis.json, groups.json
    tag_owned = _read(APIOPS_CORPUS / "apim-globalpolicy")  # tags/t/apis/a/tagApiInformation.json

    dogs = v6.get("/products/dogs-product-trial/apiLinks/dogs")
    echo = beta.get("/products/starter/apiLinks/echo-api")
    guests = beta.get("/products/starter/groupLinks/guests")
    listed = arrays.get("/products/starter/apiLinks/countryinfoservice")
    tagged = tag_owned.get("/tags/tag1/apiLinks/api1")
    assert dogs is not None and dogs.properties == {"apiId": "/apis/dogs"}
    assert echo is not None and echo.properties == {"apiId": "/apis/echo-api"}
    assert guests is not None and guests.properties == {"groupId": "/groups/guests"}
    assert listed is not None and listed.properties == {"apiId": "/apis/countryinfoservice"}
    assert tagged is not None and tagged.properties == {"apiId": "/apis/api1"}


def test_a_link_to_a_group_the_folder_lacks_is_kept_but_not_managed() -> None:
    root = APIOPS_CORPUS / "azure-integration-services-demo"
    result = read_tree(root, detect_layout(root))

    assert (
        result.configuration.get("/products/premiumservices/groupLinks/premium-customers") is None
    )
    assert result.configuration.get("/products/premiumservices/groupLinks/administrators")
    assert [f.code for f in result.findings if "premium-customers" in f.message] == ["unknown-link"]


def test_specifications_become_the_import_properties_of_their_api() -> None:
    model = _read(APIOPS_CORPUS / "demo-integrationsvcs")

    rest = model.get("/apis/star-wars-api")
    soap = model.get("/apis/countries-api")
    graphql = model.get("/apis/pokemon-api/schemas/graphql")
    assert rest is not None and rest.properties["format"] == "openapi"
    assert str(rest.properties["value"]).startswith("openapi: 3.0.1")
    assert soap is not None and soap.properties["format"] == "wsdl"
    assert graphql is not None
    assert graphql.properties["contentType"] == "application/vnd.ms-azure-apim.graphql.schema"
    assert "type Query" in graphql.properties["document"]["value"]


def test_json_specification_wins_over_yaml_as_the_publisher_reads_them(tmp_path: Path) -> None:
    _write(tmp_path, "apis/a/apiInformation.json", {"properties": {"path": "a"}})
    _write(tmp_path, "apis/a/specification.yaml", "openapi: 3.0.1\ninfo: {title: A}\npaths: {}\n")
    _write(
        tmp_path,
        "apis/a/specification.json",
        {"openapi": "3.0.1", "info": {"title": "A"}, "paths": {}},
    )

    result = read_tree(tmp_path, detect_layout(tmp_path))

    api = result.configuration.get("/apis/a")
    assert api is not None and api.properties["format"] == "openapi+json"
    assert [f.code for f in result.findings] == ["apiops-ignored"]
    assert result.findings[0].path == "apis/a/specification.yaml"


def test_a_swagger_2_yaml_specification_is_imported_as_swagger_json(tmp_path: Path) -> None:
    _write(tmp_path, "apis/a/apiInformation.json", {"properties": {"path": "a"}})
    _write(tmp_path, "apis/a/specification.yaml", "swagger: '2.0'\ninfo: {title: A}\npaths: {}\n")

    api = _read(tmp_path).get("/apis/a")

    assert api is not None and api.properties["format"] == "swagger-json"
    assert json.loads(api.properties["value"])["info"] == {"title": "A"}


def test_apiops_cli_artifacts_read_into_the_same_model(tmp_path: Path) -> None:
    root = tmp_path / "apim-artifacts"
    arm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/dev"
    _write(
        root,
        "apis/echo/apiInformation.json",
        {
            "id": f"{arm}/apis/echo",
            "type": "Microsoft.ApiManagement/service/apis",
            "name": "echo",
            "properties": {"path": "echo", "displayName": "Echo", "description": None},
        },
    )
    _write(
        root,
        "apis/echo/operations/get/operationInformation.json",
        {"name": "get", "properties": {"method": "GET", "urlTemplate": "/", "displayName": "Get"}},
    )
    _write(
        root,
        "namedValues/key/namedValueInformation.json",
        {
            "name": "key",
            "properties": {"displayName": "key", "secret": True, "value": "*** REDACTED ***"},
        },
    )
    _write(root, "products/p/productInformation.json", {"properties": {"displayName": "P"}})
    _write(root, "products/p/apis.json", [{"name": "echo"}])
    _write(root, "apis/echo/tags/t/tagInformation.json", {"properties": {"displayName": "t"}})
    _write(root, "tags/t/tagInformation.json", {"properties": {"displayName": "t"}})

    assert detect_layout(tmp_path).flavour == "cli"
    model = _read(tmp_path)

    echo = model.get("/apis/echo")
    key = model.get("/namedValues/key")
    assert echo is not None and echo.properties == {"path": "echo", "displayName": "Echo"}
    assert model.get("/apis/echo/operations/get") is not None
    assert key is not None and key.properties == {"displayName": "key", "secret": True}
    assert model.get("/products/p/apiLinks/echo") is not None
    assert model.get("/tags/t/apiLinks/echo") is not None


def test_subscriptions_and_gateways_are_reported_as_not_managed() -> None:
    root = APIOPS_CORPUS / "demo-integrationsvcs"
    result = read_tree(root, detect_layout(root))

    notes = {f.path.split("/")[1] for f in result.findings if f.code == "not-managed"}
    assert notes == {"gateways", "subscriptions"}
    assert all(not f.is_error for f in result.findings if f.code == "not-managed")


def test_a_broken_information_file_is_one_finding_at_its_line(tmp_path: Path) -> None:
    _write(tmp_path, "apis/a/apiInformation.json", '{\n  "properties": {\n    "path": "a",\n}}')

    result = read_tree(tmp_path, detect_layout(tmp_path))

    assert [(f.code, f.line) for f in result.findings] == [("json-syntax", 4)]
