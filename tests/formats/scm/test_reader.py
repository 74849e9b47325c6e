"""Reading exports into the model: API revisions, Windows separators, old module versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apimsync.formats.scm.reader import read_tree
from apimsync.model import Kind
from tests.exports import CONSTRUCTED

CONTOSO = CONSTRUCTED / "contoso-revisions-v17"
FABRIKAM = CONSTRUCTED / "fabrikam-legacy"
APIS = "api-management/apis"
ORDERS_CURRENT = f"{APIS}/Orders_API__1[Current]_orderQ7K2ZP/configuration.json"
ORDERS_REV_2 = f"{APIS}/Orders_API__2_orders-rev-2/configuration.json"
INVENTORY_CURRENT = f"{APIS}/Inventory_API_v1_2[CurreF3ZQ8M/configuration.json"


@pytest.fixture
def contoso(tmp_path: Path) -> Path:
    shutil.copytree(CONTOSO, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _edit(root: Path, path: str, **changes: object) -> None:
    file = root / path
    document = json.loads(file.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    file.write_text(json.dumps(document, indent=2), encoding="utf-8")


def _errors(root: Path) -> list[tuple[str, str]]:
    return [(f.path, f.code) for f in read_tree(root).findings if f.is_error]


def test_each_revision_of_an_api_is_its_own_resource() -> None:
    config = read_tree(CONTOSO).configuration

    apis = {api.id: api for api in config.of_kind(Kind.API)}
    assert set(apis) == {
        "/apis/orders",
        "/apis/orders;rev=2",
        "/apis/inventory",
        "/apis/inventory;rev=1",
    }
    assert apis["/apis/orders"].get("apiRevision") == "1"
    assert apis["/apis/orders"].get("isCurrent") is True
    assert apis["/apis/orders;rev=2"].get("apiRevision") == "2"
    assert "isCurrent" not in apis["/apis/orders;rev=2"].properties
    assert apis["/apis/inventory"].get("apiRevision") == "2"  # the current one need not be 1
    assert {r.id for r in config.children("/apis/orders;rev=2")} == {
        "/apis/orders;rev=2/operations/list-orders",
        "/apis/orders;rev=2/operations/list-orders/policies/policy",
        "/apis/orders;rev=2/operations/get-order",
        "/apis/orders;rev=2/operations/cancel-order",
        "/apis/orders;rev=2/operations/cancel-order/policies/policy",
        "/apis/orders;rev=2/policies/policy",
        "/apis/orders;rev=2/schemas/orders-schema",
    }
    assert "/apis/orders/operations/cancel-order" not in config  # only revision 2 has it


def test_each_revision_has_its_own_policies() -> None:
    config = read_tree(CONTOSO).configuration

    current = config.get("/apis/orders/policies/policy")
    revision = config.get("/apis/orders;rev=2/policies/policy")
    assert current is not None and revision is not None
    assert "X-Api-Revision" in str(revision.get("value"))
    assert "X-Api-Revision" not in str(current.get("value"))


def test_windows_separators_resolve_like_slashes_even_deep_inside() -> None:
    result = read_tree(CONTOSO)

    inventory = result.configuration.get("/apis/inventory")
    stock = result.configuration.get("/apis/inventory/operations/get-stock")
    assert inventory is not None and stock is not None
    assert inventory.get("description") == "<p>Stock levels per warehouse.</p>"
    assert stock.get("description") == "Stock of one warehouse."
    sku = stock.get("request")["queryParameters"][0]
    assert sku["examples"]["default"]["value"] == "CTS-1042"
    policy_id = "/apis/inventory/operations/get-stock/policies/policy"
    assert result.layout.policy_files[policy_id] == (
        "api-management/policies/apis/Inventory_API_v1_2[CurreF3ZQ8M/operations/"
        "GET__warehouses_{whid}_stock_inve1WX7RC.xml"
    )
    assert "rewrite-uri" in str(result.configuration.get(policy_id).get("value"))  # type: ignore[union-attr]


def test_an_old_export_without_module_version_or_parameter_types_reads() -> None:
    result = read_tree(FABRIKAM)

    assert [f for f in result.findings if f.is_error] == []
    assert result.layout.declared_module_version is None
    api = result.configuration.get("/apis/5540c1f06e4b1a0a3c0b77a1")
    assert api is not None and "apiRevision" not in api.properties
    link = result.configuration.get(
        "/products/5540bd3b6e4b1a0b84060002/apiLinks/5540c1f06e4b1a0a3c0b77a1"
    )
    assert link is not None  # linked through a Windows-separated $refs-apis entry


def test_two_folders_claiming_the_current_revision_are_a_duplicate(contoso: Path) -> None:
    _edit(contoso, ORDERS_REV_2, isCurrent=True)

    assert (ORDERS_REV_2, "duplicate-id") in _errors(contoso)


def test_two_folders_holding_one_revision_are_a_duplicate(contoso: Path) -> None:
    _edit(contoso, ORDERS_REV_2, apiRevision="1")

    assert (ORDERS_REV_2, "duplicate-id") in _errors(contoso)


def test_revisions_without_a_current_one_are_an_error(contoso: Path) -> None:
    _edit(contoso, ORDERS_CURRENT, isCurrent=None)

    errors = _errors(contoso)
    assert (ORDERS_CURRENT, "no-current-revision") in errors
    assert (ORDERS_REV_2, "no-current-revision") in errors


def test_an_apis_only_document_without_is_current_is_its_current_revision(contoso: Path) -> None:
    shutil.rmtree(contoso / "api-management/apis/Orders_API__2_orders-rev-2")
    _edit(contoso, ORDERS_CURRENT, isCurrent=None)

    result = read_tree(contoso)

    assert _errors(contoso) == []
    assert "/apis/orders" in result.configuration


def test_operations_of_a_revision_must_carry_its_id(contoso: Path) -> None:
    file = contoso / ORDERS_REV_2
    file.write_text(
        file.read_text(encoding="utf-8").replace(
            "/apis/orders;rev=2/operations/", "/apis/orders/operations/"
        ),
        encoding="utf-8",
    )

    assert (ORDERS_REV_2, "invalid-id") in _errors(contoso)


def test_a_missing_file_an_operation_names_is_reported_at_its_reference(contoso: Path) -> None:
    folder = contoso / INVENTORY_CURRENT.removesuffix("/configuration.json")
    (folder / "operations/GET__items_{itemId}_inventoN4T7WQ.description.html").unlink()

    (finding,) = [f for f in read_tree(contoso).findings if f.code == "ref-missing"]

    lines = (contoso / INVENTORY_CURRENT).read_text(encoding="utf-8").splitlines()
    assert finding.path == INVENTORY_CURRENT
    assert "GET__items_{itemId}_inventoN4T7WQ.description.html" in lines[finding.line - 1]
