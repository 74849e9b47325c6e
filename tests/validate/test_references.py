"""Reference rules on exports: what APIM accepts is no error, what it refuses still is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apimsync.validate.tree import validate_files
from tests.exports import CONSTRUCTED

APIS = "api-management/apis"
INVENTORY = f"{APIS}/Inventory_API_v1_2[CurreF3ZQ8M/configuration.json"
ORDERS = f"{APIS}/Orders_API__1[Current]_orderQ7K2ZP/configuration.json"
FABRIKAM_POLICY = "api-management/policies/apis/Fabrikam_Shipping_(beta).xml"


@pytest.fixture
def copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    def copy_of(name: str) -> Path:
        shutil.copytree(CONSTRUCTED / name, tmp_path / name)
        return tmp_path / name

    return copy_of


def _replace(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_bytes().decode("utf-8")
    assert old in text
    file.write_bytes(text.replace(old, new, 1).encode("utf-8"))


def _findings(root: Path) -> set[tuple[str, str, str]]:
    return {(f.path, f.severity.value, f.code) for f in validate_files(root).findings}


def test_a_template_parameter_matches_its_declaration_in_any_letter_case() -> None:
    """Inventory's '/warehouses/{whid}/stock' declares the parameter as WHID."""
    assert not any(
        code == "template-parameter"
        for *_, code in _findings(CONSTRUCTED / "contoso-revisions-v17")
    )


def test_an_undeclared_template_parameter_is_still_an_error(copy) -> None:  # type: ignore[no-untyped-def]
    root = copy("contoso-revisions-v17")
    _replace(root, INVENTORY, '"/warehouses/{whid}/stock"', '"/warehouses/{site}/stock"')

    assert (INVENTORY, "error", "template-parameter") in _findings(root)


def test_revisions_of_one_api_share_its_path_but_two_apis_do_not(copy) -> None:  # type: ignore[no-untyped-def]
    root = copy("contoso-revisions-v17")
    assert not any(code == "duplicate-api-path" for *_, code in _findings(root))

    _replace(root, INVENTORY, '"path": "inventory"', '"path": "orders"')
    _replace(
        root,
        INVENTORY,
        '"apiVersionSetId": "/api-version-sets/inventory-versions"',
        '"apiVersionSetId": null',
    )

    found = {(path, code) for path, _, code in _findings(root) if code == "duplicate-api-path"}
    assert len(found) == 1 and {p for p, _ in found} <= {INVENTORY, ORDERS}


def test_a_missing_backend_is_an_error_where_the_export_holds_the_backends(copy) -> None:  # type: ignore[no-untyped-def]
    root = copy("contoso-revisions-v17")
    policy = "api-management/policies/apis/Orders_API__1[Current]_orderQ7K2ZP.xml"
    _replace(root, policy, 'backend-id="orders-backend"', 'backend-id="billing-backend"')

    assert (policy, "error", "unknown-backend") in _findings(root)


def test_a_backend_an_old_export_cannot_hold_is_only_a_warning(copy) -> None:  # type: ignore[no-untyped-def]
    """Module versions before 15 wrote no backends/: the instance may well have it."""
    root = copy("fabrikam-legacy")
    _replace(
        root,
        FABRIKAM_POLICY,
        "<base />",
        '<base />\r\n\t\t<set-backend-service backend-id="couriers" />',
    )

    assert (FABRIKAM_POLICY, "warning", "unknown-backend") in _findings(root)

    root_file = root / "api-management/configuration.json"
    document = json.loads(root_file.read_text(encoding="utf-8"))
    root_file.write_text(
        json.dumps({**document, "IntegrationModuleVersion": "15"}), encoding="utf-8"
    )

    assert (FABRIKAM_POLICY, "error", "unknown-backend") in _findings(root)
