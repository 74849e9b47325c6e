"""Writing the model as an APIOps artifact folder: byte for byte where nothing changed,
each changed resource in its own file and style, new ones as the tree's generation
writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apimsync.formats.apiops.layout import ApiopsLayout
from apimsync.formats.layouts import (
    Location,
    ReadResult,
    detect_layout,
    empty_layout,
    read_tree,
    render_tree,
    write_tree,
)
from apimsync.model import Configuration, make_resource
from tests.apiops_corpus import FOLDERS, copy_folder, tree_bytes


def _read(root: Path) -> ReadResult:
    return read_tree(root, detect_layout(root))


@pytest.mark.parametrize("name", FOLDERS)
def test_a_no_op_read_and_write_changes_no_byte(name: str, tmp_path: Path) -> None:
    root = copy_folder(name, tmp_path / name)
    before = tree_bytes(root)
    result = _read(root)

    report = write_tree(result.configuration, root, result.layout)

    assert report.written == () and report.deleted == ()
    assert tree_bytes(root) == before


def test_a_changed_property_rewrites_only_its_file_in_the_extractors_style(tmp_path: Path) -> None:
    root = copy_folder("pagopa-dx-playground", tmp_path / "repo")
    result = _read(root)
    api = result.configuration.get("/apis/dx-d-itn-playground-be-func-01")
    assert api is not None

    changed = result.configuration.with_resources(
        api.with_properties(description='Import from "func-01" app, it\'s <new>')
    )
    report = write_tree(changed, root, result.layout)

    path = "apimartifacts/apis/dx-d-itn-playground-be-func-01/apiInformation.json"
    assert report.written == (path,)
    text = (root / path).read_text()
    assert (
        '"description": "Import from \\u0022func-01\\u0022 app, it\\u0027s \\u003Cnew\\u003E"'
        in text
    )
    assert not text.endswith("\n")
    assert _read(root).configuration == changed


def test_a_full_arm_id_is_kept_while_it_names_the_same_resource(tmp_path: Path) -> None:
    root = copy_folder("gore-apiops-demo", tmp_path / "repo")
    result = _read(root)
    api = result.configuration.get("/apis/star-wars")
    assert api is not None

    write_tree(
        result.configuration.with_resources(api.with_properties(displayName="Star Wars!")),
        root,
        result.layout,
    )

    document = json.loads((root / "apimartifacts/apis/star-wars/apiInformation.json").read_text())
    assert document["properties"]["displayName"] == "Star Wars!"
    assert document["properties"]["apiVersionSetId"].startswith("/subscriptions/8bd05b2f")


def test_new_resources_get_the_v7_paths(tmp_path: Path) -> None:
    root = copy_folder("mifurm-apim", tmp_path / "repo")
    result = _read(root)
    additions = [
        make_resource("/namedValues/region", {"displayName": "region", "value": "west"}),
        make_resource("/policyFragments/cors", {"format": "rawxml", "value": "<fragment />"}),
        make_resource("/tags/beta", {"displayName": "beta"}),
        make_resource("/tags/beta/apiLinks/echo-api", {"apiId": "/apis/echo-api"}),
        make_resource("/products/starter/apiLinks/extra", {"apiId": "/apis/extra"}),
        make_resource("/apis/extra", {"path": "extra", "displayName": "Extra"}),
    ]
    model = Configuration([*result.configuration, *additions])

    report = write_tree(model, root, result.layout)

    artifacts = "apimartifacts"
    assert set(report.written) == {
        f"{artifacts}/named values/region/namedValueInformation.json",
        f"{artifacts}/policy fragments/cors/policyFragmentInformation.json",
        f"{artifacts}/policy fragments/cors/policy.xml",
        f"{artifacts}/tags/beta/tagInformation.json",
        f"{artifacts}/tags/beta/apis/echo-api/tagApiInformation.json",
        f"{artifacts}/products/starter/apis/extra/productApiInformation.json",
        f"{artifacts}/apis/extra/apiInformation.json",
    }
    link = json.loads(
        (root / artifacts / "tags/beta/apis/echo-api/tagApiInformation.json").read_text()
    )
    assert link == {"name": "echo-api", "properties": {"apiId": "/apis/echo-api"}}  # as this tree
    assert (root / artifacts / "policy fragments/cors/policy.xml").read_bytes() == b"<fragment />"
    assert _read(root).configuration == model


def test_new_links_in_a_v5_tree_go_into_its_association_lists(tmp_path: Path) -> None:
    root = copy_folder("azure-integration-services-demo", tmp_path / "repo")
    result = _read(root)
    link = make_resource("/products/unlimited/apiLinks/countries", {"apiId": "/apis/countries"})
    premium = result.configuration.without("/products/premiumservices/groupLinks/administrators")

    report = write_tree(premium.with_resources(link), root, result.layout)

    artifacts = root / "apimartifacts/products"
    assert set(report.written) == {
        "apimartifacts/products/unlimited/apis.json",
        "apimartifacts/products/premiumservices/groups.json",
    }
    assert json.loads((artifacts / "unlimited/apis.json").read_text()) == [
        {"name": "echo-api"},
        {"name": "countries"},
    ]
    # The link apimsync does not manage stays, the removed one goes.
    assert json.loads((artifacts / "premiumservices/groups.json").read_text()) == [
        {"name": "premium-customers"}
    ]


def test_a_deleted_api_takes_its_whole_folder(tmp_path: Path) -> None:
    root = copy_folder("gore-apiops-demo", tmp_path / "repo")
    (root / "apimartifacts/apis/petstore/wiki.md").write_text("notes")
    result = _read(root)

    report = write_tree(result.configuration.without("/apis/petstore"), root, result.layout)

    assert not (root / "apimartifacts/apis/petstore").exists()
    assert "apimartifacts/apis/petstore/specification.yaml" in report.deleted
    assert (root / "apimartifacts/apis/dogs/apiInformation.json").is_file()


def test_a_deleted_revision_folder_leaves_the_api(tmp_path: Path) -> None:
    root = copy_folder("gore-apiops-demo", tmp_path / "repo")
    result = _read(root)

    write_tree(result.configuration.without("/apis/star-wars;rev=1"), root, result.layout)

    assert not (root / "apimartifacts/apis/star-wars;rev=1").exists()
    assert (root / "apimartifacts/apis/star-wars/apiInformation.json").is_file()


def test_a_new_apiops_cli_folder_is_written_as_apiops_cli_writes_it(tmp_path: Path) -> None:
    model = Configuration(
        [
            make_resource("/apis/echo", {"path": "echo", "displayName": "Echo"}),
            make_resource("/namedValues/key", {"displayName": "key", "secret": True}),
            make_resource("/products/p", {"displayName": "P"}),
            make_resource("/products/p/apiLinks/echo", {"apiId": "/apis/echo"}),
            make_resource("/tags/t", {"displayName": "t's"}),
            make_resource("/tags/t/apiLinks/echo", {"apiId": "/apis/echo"}),
        ]
    )
    layout = empty_layout(Location("apiops", "apim-artifacts", "cli"))

    write_tree(model, tmp_path, layout)

    files = tree_bytes(tmp_path)
    assert set(files) == {
        "apim-artifacts/apis/echo/apiInformation.json",
        "apim-artifacts/namedValues/key/namedValueInformation.json",
        "apim-artifacts/products/p/productInformation.json",
        "apim-artifacts/products/p/apis.json",
        "apim-artifacts/tags/t/tagInformation.json",
        "apim-artifacts/apis/echo/tags/t/tagInformation.json",
    }
    secret = json.loads(files["apim-artifacts/namedValues/key/namedValueInformation.json"])
    assert secret["name"] == "key"
    assert secret["type"] == "Microsoft.ApiManagement/service/namedValues"
    assert secret["properties"]["value"] == "*** REDACTED ***"
    assert b'"t\'s"' in files["apim-artifacts/tags/t/tagInformation.json"]  # JSON.stringify
    assert read_tree(tmp_path, detect_layout(tmp_path)).configuration == model


def test_rendering_is_deterministic_and_readable_back(tmp_path: Path) -> None:
    root = copy_folder("demo-integrationsvcs", tmp_path / "repo")
    result = _read(root)
    layout = result.layout
    assert isinstance(layout, ApiopsLayout)
    backend = make_resource(
        "/backends/new", {"url": "https://new.example.test", "protocol": "http"}
    )
    model = result.configuration.with_resources(backend)

    first = render_tree(model, layout)

    assert first == render_tree(model, layout)
    write_tree(model, root, layout)
    assert _read(root).configuration == model
