"""Validating APIOps folders: the real ones validate without errors; bad artifacts give
one finding each, at their file and line, with what to do."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from apimsync.validate.json_checks import schemas_dir
from apimsync.validate.tree import validate_tree
from tests.apiops_corpus import APIOPS_CORPUS, FOLDERS, copy_folder

ARTIFACTS = "apimartifacts"


@pytest.mark.parametrize("name", FOLDERS)
def test_every_real_folder_validates_without_errors(name: str) -> None:
    report = validate_tree(APIOPS_CORPUS / name)

    assert [f.render() for f in report.errors] == []
    assert report.files_checked > 10


def test_the_apiops_schemas_are_valid_json_schemas() -> None:
    schemas = sorted((schemas_dir() / "apiops").glob("*.schema.json"))

    assert len(schemas) >= 14
    for path in schemas:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_bad_artifacts_are_findings_at_their_lines(tmp_path: Path) -> None:
    root = copy_folder("gore-apiops-demo", tmp_path / "repo")
    artifacts = root / ARTIFACTS
    api = artifacts / "apis/dogs/apiInformation.json"
    api.write_text(
        api.read_text().replace('"subscriptionRequired": true', '"subscriptionRequired": "yes"')
    )
    product = artifacts / "products/starwarstrial/productInformation.json"
    product.write_text(product.read_text().replace('"properties"', '"propertys"'))
    policy = artifacts / "apis/dogs/policy.xml"
    policy.write_text("<policies><inbound><forward-request /></inbound></policies>")
    spec = artifacts / "apis/bintest/specification.yaml"
    spec.write_text("openapi: 3.0.1\ninfo: [not, a, map\n")

    report = validate_tree(root)

    found = {(f.path.removeprefix(f"{ARTIFACTS}/"), f.code) for f in report.errors}
    assert ("apis/dogs/apiInformation.json", "schema") in found
    assert ("products/starwarstrial/productInformation.json", "unknown-property") in found
    assert ("apis/dogs/policy.xml", "policy-section") in found
    assert ("apis/bintest/specification.yaml", "specification") in found
    wrong_type = next(f for f in report.errors if f.path.endswith("dogs/apiInformation.json"))
    assert wrong_type.line > 1 and "must be a boolean" in wrong_type.message


def test_a_policy_naming_an_unknown_fragment_is_an_error_where_fragments_are_managed(
    tmp_path: Path,
) -> None:
    root = copy_folder("apim-globalpolicy", tmp_path / "repo")
    policy = root / ARTIFACTS / "apis/api2/policy.xml"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(
        '<policies><inbound><base /><include-fragment fragment-id="missing" /></inbound>'
        "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>"
        "</policies>"
    )

    report = validate_tree(root)

    (finding,) = report.errors
    assert (finding.path, finding.code) == (f"{ARTIFACTS}/apis/api2/policy.xml", "unknown-fragment")
    assert f"not in {ARTIFACTS}/policy fragments/" in finding.message
