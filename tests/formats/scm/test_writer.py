from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from apimsync.formats.scm import writer
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import render_tree, write_tree
from apimsync.model import Configuration, make_resource
from tests.conftest import tree_bytes
from tests.exports import CONSTRUCTED

RETRY_FRAGMENT = (
    '<fragment>\n  <retry condition="@(context.Response.StatusCode == 429)" count="3" '
    'interval="1" />\n</fragment>'
)
WINDOWS_FORBIDDEN = re.compile(r'[<>:"\\|?*\x00-\x1f]')


def test_read_then_write_into_an_empty_folder_reproduces_every_byte(
    export: Path, tmp_path: Path
) -> None:
    result = read_tree(export)
    assert not [f for f in result.findings if f.is_error]

    write_tree(result.configuration, tmp_path, result.layout)

    assert tree_bytes(tmp_path) == tree_bytes(export)


def test_writing_an_unchanged_model_back_touches_no_file(copy_export, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_export("eshop-v15")
    result = read_tree(root)

    report = write_tree(result.configuration, root, result.layout)

    assert report.written == () and report.deleted == ()


def _changed(root: Path, change) -> tuple[dict[str, bytes], dict[str, bytes]]:  # type: ignore[no-untyped-def]
    before = tree_bytes(root)
    result = read_tree(root)
    write_tree(change(result.configuration), root, result.layout)
    return before, tree_bytes(root)


def _differing(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {p for p in set(before) | set(after) if before.get(p) != after.get(p)}


def test_a_changed_backend_rewrites_only_its_file_in_its_own_style(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export("seed-openai-v17")

    def change(config: Configuration) -> Configuration:
        backend = config.get("/backends/openaione")
        assert backend is not None
        return config.with_resources(backend.with_properties(url="https://example.test/openai"))

    before, after = _changed(root, change)

    path = "api-management/backends/_openaione/configuration.json"
    assert _differing(before, after) == {path}
    assert after[path].count(b"\r\n") == before[path].count(b"\r\n")  # CRLF kept
    assert not after[path].endswith(b"\n")  # still no final newline
    old, new = json.loads(before[path]), json.loads(after[path])
    assert list(old) == list(new)  # key order kept
    assert {k for k in old if old[k] != new[k]} == {"url"}


def test_a_changed_operation_policy_rewrites_only_the_policy_file(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export("seed-openai-v17")
    policy_id = "/apis/open-ai/operations/post-retry/policies/policy"
    new_xml = "<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n</policies>"

    def change(config: Configuration) -> Configuration:
        policy = config.get(policy_id)
        assert policy is not None
        return config.with_resources(policy.with_properties(value=new_xml))

    before, after = _changed(root, change)

    path = (
        "api-management/policies/apis/Open_AI__1[Current]_open-166H7PW/operations/"
        "POST__retry_open-aipost-retry.xml"
    )
    assert _differing(before, after) == {path}
    assert after[path] == new_xml.replace("\n", "\r\n").encode()


def test_a_changed_operation_keeps_the_rest_of_the_api_file(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export("eshop-v15")
    op_id = "/apis/inventory-api/operations/SetReorderPoint"

    def change(config: Configuration) -> Configuration:
        operation = config.get(op_id)
        assert operation is not None
        return config.with_resources(operation.with_properties(displayName="Set reorder point"))

    before, after = _changed(root, change)

    path = "api-management/apis/Inventory_API_v1_1[Current]/configuration.json"
    assert _differing(before, after) == {path}
    old, new = json.loads(before[path]), json.loads(after[path])
    changed_ops = [o for o, n in zip(old["operations"], new["operations"], strict=True) if o != n]
    assert [o["id"] for o in changed_ops] == [op_id]
    assert old["operations"][0] | {"name": "Set reorder point"} == new["operations"][0]


def test_a_deleted_api_loses_its_files_and_every_reference(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export("eshop-v15")
    before, after = _changed(root, lambda c: c.without("/apis/inventory-api"))

    gone = set(before) - set(after)
    assert "api-management/apis/Inventory_API_v1_1[Current]/configuration.json" in gone
    assert all("Inventory_API_v1" in p for p in gone)
    assert not any("Inventory_API_v1" in p for p in after)
    for data in after.values():
        assert b"Inventory_API_v1_1" not in data and b'"/apis/inventory-api' not in data
    reread = read_tree(root)
    assert not [f for f in reread.findings if f.is_error]
    assert "/apis/inventory-api" not in reread.configuration


def _new_api_config(base: Configuration) -> Configuration:
    api_id = "/apis/Orders v2:CON"
    return base.with_resources(
        make_resource(
            api_id,
            {
                "displayName": "Orders",
                "path": "orders",
                "protocols": ["https"],
                "description": "<p>Orders</p>",
            },
        ),
        make_resource(
            f"{api_id}/operations/get-order",
            {
                "displayName": "Get order",
                "method": "GET",
                "urlTemplate": "/orders/{id}",
                "templateParameters": [{"name": "id", "type": "string", "required": True}],
                "description": "Reads one order",
            },
        ),
        make_resource(f"{api_id}/policies/policy", {"format": "rawxml", "value": "<policies />"}),
        make_resource(
            f"{api_id}/operations/get-order/policies/policy",
            {"format": "rawxml", "value": "<policies><inbound><base /></inbound></policies>"},
        ),
    )


def test_a_new_api_gets_safe_deterministic_names_and_reads_back_the_same(
    copy_export,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    root = copy_export("seed-openai-v17")
    result = read_tree(root)
    config = _new_api_config(result.configuration)
    product = make_resource(
        "/products/starter/apiLinks/Orders v2:CON", {"apiId": "/apis/Orders v2:CON"}
    )
    config = config.with_resources(product)

    first = render_tree(config, result.layout)
    second = render_tree(config, result.layout)
    write_tree(config, root, result.layout)

    assert first == second
    new_paths = set(first) - set(result.layout.files)
    assert len(new_paths) == 5  # api json, description, op description, two policies
    for path in new_paths:
        assert path.startswith("api-management/") and ".." not in path
        assert not WINDOWS_FORBIDDEN.search(path), path
    reread = read_tree(root)
    assert not [f for f in reread.findings if f.is_error]
    assert reread.configuration == config


def test_names_differing_only_in_case_do_not_collide(tmp_path: Path) -> None:
    config = Configuration(
        [
            make_resource("/backends/Pool", {"url": "https://a.test", "protocol": "http"}),
            make_resource("/backends/pool", {"url": "https://b.test", "protocol": "http"}),
        ]
    )

    write_tree(config, tmp_path)

    folders = {
        p.parent.name.lower() for p in (tmp_path / "api-management/backends").rglob("*.json")
    }
    assert len(folders) == 2
    assert read_tree(tmp_path).configuration == config


def test_extras_round_trip_with_fragment_xml_in_its_own_file(tmp_path: Path) -> None:
    config = Configuration(
        [
            make_resource(
                "/namedValues/openai-key",
                {
                    "displayName": "OpenAI-Key",
                    "secret": True,
                    "keyVault": {
                        "secretIdentifier": "https://kv.vault.azure.net/secrets/openai-key"
                    },
                },
            ),
            make_resource(
                "/policyFragments/retry-429",
                {
                    "format": "rawxml",
                    "description": "Retry on throttling",
                    "value": RETRY_FRAGMENT,
                },
            ),
            make_resource("/loggers/appinsights", {"loggerType": "applicationInsights"}),
        ]
    )

    write_tree(config, tmp_path)

    files = tree_bytes(tmp_path)
    assert "api-management-extras/policyFragments/retry-429.xml" in files
    assert read_tree(tmp_path).configuration == config


@pytest.mark.parametrize("ref", ["../../etc/passwd", "/etc/passwd", "api-management/../../x.xml"])
def test_a_reference_outside_the_tree_is_a_finding_not_a_read(copy_export, ref: str) -> None:  # type: ignore[no-untyped-def]
    root = copy_export("seed-openai-v17")
    path = root / "api-management/configuration.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["$ref-policy"] = ref
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")

    result = read_tree(root)

    codes = [(f.path, f.code) for f in result.findings]
    assert ("api-management/configuration.json", "ref-outside-tree") in codes
    assert "/policies/policy" not in result.configuration


def test_merging_an_unchanged_unit_into_its_documents_reproduces_every_byte(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The targeted rewrites above rely on the merge path being faithful by itself, so
    here every unit is merged and rendered even though nothing changed."""
    result = read_tree(export)
    monkeypatch.setattr(writer, "_unchanged", lambda *args: False)

    rendered = render_tree(result.configuration, result.layout)

    assert rendered == {path: source.raw for path, source in result.layout.files.items()}


# -- API revisions -------------------------------------------------------------------

CONTOSO = CONSTRUCTED / "contoso-revisions-v17"
ORDERS_1 = "Orders_API__1[Current]_orderQ7K2ZP"
ORDERS_2 = "Orders_API__2_orders-rev-2"
INVENTORY_2 = "Inventory_API_v1_2[CurreF3ZQ8M"
INVENTORY_1 = "Inventory_API_v1_1_invenZX81QD"


@pytest.fixture
def contoso(tmp_path: Path) -> Path:
    shutil.copytree(CONTOSO, tmp_path / "contoso")
    return tmp_path / "contoso"


def _unit_of(path: str) -> str:
    """The API folder name a file of an API unit belongs to."""
    parts = path.split("/")
    name = parts[2] if parts[1] == "apis" else parts[3]
    return name.removesuffix(".xml")


def test_a_changed_revision_policy_rewrites_only_that_revisions_file(contoso: Path) -> None:
    policy_id = "/apis/orders;rev=2/operations/cancel-order/policies/policy"

    def change(config: Configuration) -> Configuration:
        policy = config.get(policy_id)
        assert policy is not None
        return config.with_resources(policy.with_properties(value="<policies />"))

    before, after = _changed(contoso, change)

    operations = f"api-management/policies/apis/{ORDERS_2}/operations"
    path = f"{operations}/POST__orders_{{orderId}}_order18WQ4TF.xml"
    assert _differing(before, after) == {path}
    assert after[path] == b"<policies />"


def test_a_rewritten_file_keeps_its_windows_separators(contoso: Path) -> None:
    op_id = "/apis/inventory/operations/get-stock"

    def change(config: Configuration) -> Configuration:
        operation = config.get(op_id)
        assert operation is not None
        return config.with_resources(operation.with_properties(displayName="Stock levels"))

    before, after = _changed(contoso, change)

    path = f"api-management/apis/{INVENTORY_2}/configuration.json"
    assert _differing(before, after) == {path}
    old, new = before[path].decode().splitlines(), after[path].decode().splitlines()
    assert [(o, n) for o, n in zip(old, new, strict=True) if o != n] == [
        ('      "name": "Get stock",', '      "name": "Stock levels",')
    ]


def test_a_new_revision_gets_a_folder_named_as_apim_names_them(contoso: Path) -> None:
    result = read_tree(contoso)
    base = result.configuration
    revision = "/apis/orders;rev=3"
    config = base.with_resources(
        # as the management API answers for a revision: isCurrent false, no apiRevision
        make_resource(
            revision, {"displayName": "Orders API", "path": "orders", "isCurrent": False}
        ),
        make_resource(
            f"{revision}/operations/list-orders",
            {"displayName": "List orders", "method": "GET", "urlTemplate": "/orders"},
        ),
        make_resource(
            f"{revision}/operations/list-orders/policies/policy",
            {"format": "rawxml", "value": "<policies><inbound><base /></inbound></policies>"},
        ),
    )

    written = write_tree(config, contoso, result.layout).written

    folders = {_unit_of(p) for p in written}
    assert len(folders) == 1
    (folder,) = folders
    assert re.fullmatch(r"Orders_API__3_[0-9A-F]{8}", folder), folder
    document = json.loads(
        (contoso / f"api-management/apis/{folder}/configuration.json").read_text()
    )
    assert document["id"] == "/apis/orders"
    assert document["apiRevision"] == "3" and "isCurrent" not in document
    assert [op["id"] for op in document["operations"]] == [f"{revision}/operations/list-orders"]
    assert (contoso / f"api-management/policies/apis/{folder}/operations").is_dir()
    reread = read_tree(contoso)
    assert [f.render() for f in reread.findings if f.is_error] == []
    assert reread.configuration == config.with_resources(
        make_resource(revision, {"displayName": "Orders API", "path": "orders", "apiRevision": "3"})
    )


def test_making_another_revision_current_writes_what_apim_would_export(contoso: Path) -> None:
    before = tree_bytes(contoso)
    result = read_tree(contoso)
    released = result.configuration.with_current_revision("/apis/orders", "2")

    write_tree(released, contoso, result.layout)
    after = tree_bytes(contoso)

    changed = _differing(before, after)
    assert {_unit_of(p) for p in changed if "/products/" not in p} >= {ORDERS_1, ORDERS_2}
    assert all(
        "Orders_API" in p or p.endswith("products/Starter/configuration.json") for p in changed
    )
    folders = {p.split("/")[2] for p in after if p.startswith("api-management/apis/Orders")}
    current = [f for f in folders if "[Current]" in f]
    assert (
        len(folders) == 2 and len(current) == 1 and current[0].startswith("Orders_API__2[Current]")
    )
    (other,) = folders - set(current)
    assert other.startswith("Orders_API__1_")
    promoted = json.loads(after[f"api-management/apis/{current[0]}/configuration.json"])
    demoted = json.loads(after[f"api-management/apis/{other}/configuration.json"])
    assert (promoted["id"], promoted["apiRevision"], promoted["isCurrent"]) == (
        "/apis/orders",
        "2",
        True,
    )
    assert (
        list(promoted).index("isCurrent")
        == list(promoted).index("subscriptionKeyParameterNames") + 1
    )
    assert {op["id"] for op in promoted["operations"]} == {
        "/apis/orders/operations/list-orders",
        "/apis/orders/operations/get-order",
        "/apis/orders/operations/cancel-order",
    }
    assert (demoted["id"], demoted["apiRevision"], "isCurrent" in demoted) == (
        "/apis/orders",
        "1",
        False,
    )
    assert demoted["operations"][0]["id"] == "/apis/orders;rev=1/operations/list-orders"
    for document in (promoted, demoted):
        folder = current[0] if document is promoted else other
        refs = [
            v for v in _values(document) if isinstance(v, str) and v.startswith("api-management/")
        ]
        assert refs and all(f"/{folder}/" in r or f"/{folder}.xml" in r for r in refs), refs
    product = json.loads(after["api-management/products/Starter/configuration.json"])
    assert product["$refs-apis"][1] == f"api-management/apis/{current[0]}/configuration.json"
    reread = read_tree(contoso)
    assert [f.render() for f in reread.findings] == []
    assert reread.configuration == released


def test_making_a_revision_current_keeps_windows_separators_and_file_styles(contoso: Path) -> None:
    for file in contoso.rglob("*"):  # as the export that wrote CRLF everywhere
        if file.is_file():
            file.write_bytes(file.read_bytes().replace(b"\n", b"\r\n"))
    result = read_tree(contoso)
    before = tree_bytes(contoso)

    write_tree(
        result.configuration.with_current_revision("/apis/inventory", "1"), contoso, result.layout
    )

    after = tree_bytes(contoso)
    (demoted,) = (
        p for p in after if p.endswith("configuration.json") and "Inventory_API_v1_2_" in p
    )
    document = json.loads(after[demoted])
    assert document["$ref-description"].startswith("api-management\\apis\\Inventory_API_v1_2_")
    assert after[demoted].count(b"\r\n") == after[demoted].count(b"\n") > 0
    moved = [p for p in after if p not in before and not p.endswith("configuration.json")]
    assert len(moved) == 11  # 2 descriptions, 6 operation texts, 3 policies
    for path in moved:  # texts and policies move with their bytes
        folder = _unit_of(path)
        old = path.replace(folder, INVENTORY_1 if "_v1_1" in folder else INVENTORY_2)
        assert after[path] == before[old]
    assert read_tree(contoso).configuration == result.configuration.with_current_revision(
        "/apis/inventory", "1"
    )


def test_making_the_first_revision_current_again_reads_back_as_the_original(contoso: Path) -> None:
    result = read_tree(contoso)
    released = result.configuration.with_current_revision("/apis/orders", "2")
    write_tree(released, contoso, result.layout)
    second = read_tree(contoso)

    write_tree(
        second.configuration.with_current_revision("/apis/orders", "1"), contoso, second.layout
    )

    assert read_tree(contoso).configuration == result.configuration


def test_a_deleted_api_takes_every_revision_folder_with_it(contoso: Path) -> None:
    before, after = _changed(contoso, lambda c: c.without("/apis/orders"))

    gone = set(before) - set(after)
    assert {_unit_of(p) for p in gone if "/products/" not in p} == {ORDERS_1, ORDERS_2}
    assert not any("Orders_API" in p for p in after)
    assert b"Orders_API" not in after["api-management/products/Starter/configuration.json"]


def _values(value: object) -> list[object]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value]
