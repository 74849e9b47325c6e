"""``apimsync convert``: one configuration written in the other layout, and what does not
carry over, by resource and property."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from apimsync.formats.layouts import detect_layout, read_tree
from apimsync.model import Configuration, Kind
from apimsync.plan.diff import compute_plan
from tests.apiops_corpus import tree_bytes

ARTIFACTS = "apimartifacts"


def run(*args: str | Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "apimsync", "convert", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def write(root: Path, relative: str, content: Any) -> None:
    path = root / ARTIFACTS / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))


def artifacts(root: Path) -> Path:
    """A small v7 folder with named values, a fragment, links, tags and a subscription."""
    write(root, "policy.xml", "<policies>\r\n\t<inbound />\r\n</policies>")
    write(
        root,
        "apis/echo/apiInformation.json",
        {
            "properties": {
                "displayName": "Echo",
                "path": "echo",
                "apiRevision": "1",
                "isCurrent": True,
                "serviceUrl": "https://echo.example.test",
                "protocols": ["https"],
                "description": "Echoes",
            }
        },
    )
    write(
        root,
        "apis/echo/policy.xml",
        "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t</inbound>\r\n</policies>",
    )
    write(
        root,
        "named values/region/namedValueInformation.json",
        {"properties": {"displayName": "region", "value": "west", "secret": False}},
    )
    write(
        root,
        "named values/key/namedValueInformation.json",
        {"properties": {"displayName": "key", "secret": True}},
    )
    write(
        root,
        "policy fragments/cors/policyFragmentInformation.json",
        {"properties": {"description": "CORS"}},
    )
    write(
        root,
        "policy fragments/cors/policy.xml",
        "<fragment>\r\n\t<cors><allowed-origins><origin>*</origin></allowed-origins></cors>\r\n</fragment>",
    )
    write(
        root,
        "products/shop/productInformation.json",
        {"properties": {"displayName": "Shop", "state": "published", "subscriptionRequired": True}},
    )
    write(root, "products/shop/apis/echo/productApiInformation.json", {})
    write(root, "tags/retail/tagInformation.json", {"properties": {"displayName": "retail"}})
    write(root, "tags/retail/apis/echo/tagApiInformation.json", {})
    write(
        root,
        "subscriptions/one/subscriptionInformation.json",
        {"properties": {"scope": "/products/shop", "displayName": "one", "state": "active"}},
    )
    return root


def model(root: Path) -> Configuration:
    return read_tree(root, detect_layout(root)).configuration


def test_an_apiops_folder_converts_to_scm_and_back_meaning_the_same(tmp_path: Path) -> None:
    source = artifacts(tmp_path / "apiops")

    to_scm = run(source, tmp_path / "scm", "--to", "scm")
    back = run(tmp_path / "scm", tmp_path / "again", "--to", "apiops")

    assert (tmp_path / "scm" / "api-management").is_dir()
    assert (tmp_path / "scm" / "api-management-extras" / "namedValues").is_dir()
    assert compute_plan(model(source), model(tmp_path / "scm")).is_empty
    assert compute_plan(model(source), model(tmp_path / "again")).is_empty
    assert (tmp_path / "again" / ARTIFACTS / "named values" / "region").is_dir()
    lines = to_scm.stdout.splitlines()
    assert lines[0].startswith("Converted 10 resources from the APIOps layout (apimartifacts/)")
    extras = "kept in api-management-extras/namedValues/: the scm layout cannot hold named values"
    assert f"  /namedValues/key: {extras}" in lines
    assert any(
        line.startswith(f"  {ARTIFACTS}/subscriptions/: 1 file not converted") for line in lines
    )
    assert "Converted 10 resources from the scm layout" in back.stdout


def test_converting_a_tree_to_its_own_layout_changes_nothing(tmp_path: Path) -> None:
    source = artifacts(tmp_path / "apiops")
    before = tree_bytes(source)

    in_place = run(source, source, "--to", "apiops")
    copied = run(source, tmp_path / "copy", "--to", "apiops")

    assert tree_bytes(source) == before
    assert tree_bytes(tmp_path / "copy") == before
    assert "already the target layout" in in_place.stdout and "(0 files written)" in in_place.stdout
    assert "already the target layout" in copied.stdout


def test_convert_refuses_what_it_cannot_do_and_writes_nothing(tmp_path: Path) -> None:
    source = artifacts(tmp_path / "apiops")
    scm = tmp_path / "scm"
    (scm / "api-management").mkdir(parents=True)
    broken = tmp_path / "broken"
    shutil.copytree(source, broken)
    (broken / ARTIFACTS / "apis/echo/apiInformation.json").write_text("{ nope")

    into_other = run(source, scm, "--to", "apiops", expect=2)
    in_place = run(source, source, "--to", "scm", expect=2)
    invalid = run(broken, tmp_path / "out", "--to", "scm", expect=1)

    assert "already holds the scm layout" in into_other.stderr
    assert "is the folder being converted" in in_place.stderr
    assert "apimartifacts/apis/echo/apiInformation.json:1:3: error json-syntax" in invalid.stderr
    assert not (tmp_path / "out").exists()
    assert list((scm / "api-management").iterdir()) == []


def test_the_report_is_available_as_json(tmp_path: Path) -> None:
    source = artifacts(tmp_path / "apiops")

    report = json.loads(run(source, tmp_path / "scm", "--to", "scm", "--format", "json").stdout)

    assert report["from"] == {"layout": "apiops", "folder": ARTIFACTS, "flavour": "v7"}
    assert report["to"] == {"layout": "scm"}
    assert report["resources"] == 10
    subjects = {loss["subject"] for loss in report["not_carried_over"]}
    assert {"/namedValues/region", "/namedValues/key", "/policyFragments/cors"} <= subjects


def test_apiops_cli_flavour_is_a_conversion(tmp_path: Path) -> None:
    source = artifacts(tmp_path / "apiops")

    run(source, tmp_path / "cli", "--to", "apiops", "--apiops-flavour", "cli")

    written = tmp_path / "cli" / "apim-artifacts"
    assert (written / "namedValues" / "region" / "namedValueInformation.json").is_file()
    assert (written / "products" / "shop" / "apis.json").is_file()
    assert compute_plan(model(source), model(tmp_path / "cli")).is_empty
    assert [r.kind for r in model(tmp_path / "cli") if r.id == "/apis/echo"] == [Kind.API]
