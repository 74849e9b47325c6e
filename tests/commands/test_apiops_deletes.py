"""Deletes and revisions in an APIOps folder, end to end against an emulator.

Plan and deploy compare the whole artifact folder with the instance, so a delete made in
any commit is planned, and each of the APIOps publisher's known pitfalls (apiops-layouts.md
§5) behaves as a user expects: deleting a non-current revision folder deletes that
revision only; making another revision current is a release; a renamed folder that names
the same resource is no change; the Administrators link the service gives a new product
is not deleted.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apimsync.emulator import EmulatorProcess
from tests.apiops_instance import Instance, commit_all, git, init_repository

SERVICES = tuple(f"ops{n}" for n in range(12))
_fresh = itertools.count()
ARTIFACTS = "apimartifacts"
BUILT_IN_GROUPS = {"/groups/administrators", "/groups/developers", "/groups/guests"}
PORTAL_SETTINGS = {"/portalsettings/signup", "/portalsettings/delegation"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


@pytest.fixture
def instance(emulator: EmulatorProcess) -> Instance:
    return Instance(emulator, SERVICES[next(_fresh)])


def write(root: Path, relative: str, content: Any) -> None:
    path = root / ARTIFACTS / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    path.write_text(text, encoding="utf-8")


def revision(number: str, url: str, current: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "displayName": "Orders",
        "path": "orders",
        "apiRevision": number,
        "protocols": ["https"],
        "serviceUrl": url,
        "subscriptionRequired": True,
    }
    if current:
        properties["isCurrent"] = True
    return {"properties": properties}


GLOBAL_POLICY = (
    "<policies>\r\n\t<inbound />\r\n\t<backend>\r\n\t\t<forward-request />\r\n\t</backend>"
    "\r\n\t<outbound />\r\n\t<on-error />\r\n</policies>"
)


def policy(header: str) -> str:
    return (
        "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n"
        f'\t\t<set-header name="x-revision" exists-action="override"><value>{header}</value>'
        "</set-header>\r\n\t</inbound>\r\n\t<backend>\r\n\t\t<base />\r\n\t</backend>\r\n"
        "\t<outbound>\r\n\t\t<base />\r\n\t</outbound>\r\n\t<on-error>\r\n\t\t<base />\r\n"
        "\t</on-error>\r\n</policies>"
    )


def shop(root: Path) -> Path:
    """A v7 artifact folder: an API with a second revision, a product, a tag, a backend."""
    write(root, "policy.xml", GLOBAL_POLICY)
    write(root, "apis/orders/apiInformation.json", revision("1", "https://one.example.test", True))
    write(root, "apis/orders/policy.xml", policy("one"))
    write(
        root,
        "apis/orders;rev=2/apiInformation.json",
        revision("2", "https://two.example.test", False),
    )
    write(root, "apis/orders;rev=2/policy.xml", policy("two"))
    write(
        root,
        "products/shop/productInformation.json",
        {"properties": {"displayName": "Shop", "state": "published", "subscriptionRequired": True}},
    )
    write(root, "products/shop/apis/orders/productApiInformation.json", {})
    write(
        root,
        "products/shop/groups/developers/productGroupInformation.json",
        {"name": "developers", "properties": {"groupId": "/groups/developers"}},
    )
    write(root, "tags/retail/tagInformation.json", {"properties": {"displayName": "retail"}})
    write(root, "tags/retail/apis/orders/tagApiInformation.json", {})
    write(
        root,
        "backends/stock/backendInformation.json",
        {"properties": {"url": "https://stock.example.test", "protocol": "http"}},
    )
    write(
        root,
        "subscriptions/shop-one/subscriptionInformation.json",
        {"properties": {"scope": "/products/shop", "displayName": "one", "state": "active"}},
    )
    return init_repository(root)


def deployed(instance: Instance, tmp_path: Path) -> Path:
    repo = shop(tmp_path / "repo")
    instance.run("deploy", "--dir", repo, "--yes", "--prune")  # a new instance's echo-api...
    return repo


def changes(plan: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(c["action"], c["id"], c["changed_paths"]) for c in plan["changes"]]


def test_an_apiops_folder_deploys_plans_empty_and_pulls_clean(
    instance: Instance, tmp_path: Path
) -> None:
    repo = shop(tmp_path / "repo")

    first = instance.plan_json(repo)
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    second = instance.run("plan", "--dir", repo, "--detailed-exitcode")
    note = f"note: {ARTIFACTS}/subscriptions/shop-one/subscriptionInformation.json: apimsync"
    instance.run("pull", "--dir", repo)

    assert first["summary"]["add"] == 10, changes(first)
    assert "No changes" in second.stdout
    assert f"{note} does not manage 1 file below {ARTIFACTS}/subscriptions/" in second.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_deleting_a_non_current_revision_folder_deletes_that_revision_only(
    instance: Instance, tmp_path: Path
) -> None:
    repo = deployed(instance, tmp_path)
    shutil.rmtree(repo / ARTIFACTS / "apis/orders;rev=2")
    commit_all(repo, "drop revision 2")

    without_prune = instance.plan_json(repo)
    pruned = instance.plan_json(repo, "--prune")
    instance.run("deploy", "--dir", repo, "--yes", "--prune")

    assert without_prune["changes"] == []
    assert "/apis/orders;rev=2" in without_prune["unmanaged"]
    deletes = [c for c in pruned["changes"] if c["action"] == "delete"]
    assert [c["id"] for c in deletes] == ["/apis/orders;rev=2"]
    live = instance.live()
    assert live.get("/apis/orders") is not None and live.get("/apis/orders;rev=2") is None
    assert live.get("/products/shop/apiLinks/orders") is not None
    assert instance.plan_json(repo, "--prune")["changes"] == []


def test_making_another_revision_current_is_a_release(instance: Instance, tmp_path: Path) -> None:
    repo = deployed(instance, tmp_path)
    # What an extract shows after revision 2 was made current: the root folder holds
    # revision 2, the old current one moved to its own folder.
    apis = repo / ARTIFACTS / "apis"
    shutil.rmtree(apis / "orders;rev=2")
    write(repo, "apis/orders/apiInformation.json", revision("2", "https://two.example.test", True))
    write(repo, "apis/orders/policy.xml", policy("two"))
    write(
        repo,
        "apis/orders;rev=1/apiInformation.json",
        revision("1", "https://one.example.test", False),
    )
    write(repo, "apis/orders;rev=1/policy.xml", policy("one"))
    commit_all(repo, "make revision 2 current")

    plan = instance.plan_json(repo, "--prune")
    instance.counters.reset()
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    writes = instance.counters.writes_by_route()

    release = "/apis/orders/releases/apimsync-rev-2"
    assert changes(plan) == [("create", release, ["/apiId", "/notes"])]
    assert writes == {"PUT /apis/{apiId}/releases/{releaseId}": 1}
    current = instance.live().get("/apis/orders")
    assert current is not None and current.properties["serviceUrl"] == "https://two.example.test"
    assert instance.plan_json(repo, "--prune")["changes"] == []


def test_a_renamed_folder_naming_the_same_resource_is_no_change(
    instance: Instance, tmp_path: Path
) -> None:
    repo = deployed(instance, tmp_path)
    artifacts = repo / ARTIFACTS
    # A link's folder is not its identity: what it links is.
    (artifacts / "products/shop/groups/developers").rename(artifacts / "products/shop/groups/devs")
    # Resource names ignore letter case, as API Management's do.
    (artifacts / "backends/stock").rename(artifacts / "backends/Stock")
    # An information file that states its name (apiops-cli writes them so) names the API.
    document = json.loads((artifacts / "apis/orders/apiInformation.json").read_text())
    (artifacts / "apis/orders").rename(artifacts / "apis/orders-api")
    write(repo, "apis/orders-api/apiInformation.json", {"name": "orders", **document})
    commit_all(repo, "rename folders")

    plan = instance.plan_json(repo, "--prune")

    assert plan["changes"] == []
    # The service's own: v7 folders hold neither built-in groups nor portal settings.
    assert set(plan["unmanaged"]) <= BUILT_IN_GROUPS | PORTAL_SETTINGS


def test_the_administrators_link_of_a_new_product_is_not_deleted(
    instance: Instance, tmp_path: Path
) -> None:
    repo = deployed(instance, tmp_path)
    live = instance.live()
    if live.get("/products/shop/groupLinks/administrators") is None:
        # The real service links every new product to Administrators on create
        # (real-service-behaviour.md §8.1); where the emulator did not, link it here.
        links = instance.target().client().product_group
        links.create_or_update(
            instance.connection.resource_group, instance.service, "shop", "administrators"
        )

    plan = instance.plan_json(repo, "--prune")
    instance.run("pull", "--dir", repo)

    assert plan["changes"] == []
    assert not (repo / ARTIFACTS / "products/shop/groups/administrators").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_a_delete_made_in_an_earlier_commit_is_planned(instance: Instance, tmp_path: Path) -> None:
    repo = deployed(instance, tmp_path)
    shutil.rmtree(repo / ARTIFACTS / "tags/retail")
    commit_all(repo, "drop the tag")
    write(
        repo,
        "backends/stock/backendInformation.json",
        {"properties": {"url": "https://stock2.example.test", "protocol": "http"}},
    )
    commit_all(repo, "move the backend")

    plan = instance.plan_json(repo, "--prune")

    assert changes(plan) == [
        ("update", "/backends/stock", ["/url"]),
        ("delete", "/tags/retail", ["/displayName"]),
    ]


def test_max_deletes_stops_a_pruning_deploy_before_any_write(
    instance: Instance, tmp_path: Path
) -> None:
    repo = deployed(instance, tmp_path)
    shutil.rmtree(repo / ARTIFACTS / "apis/orders;rev=2")
    commit_all(repo, "drop revision 2")
    instance.counters.reset()

    refused = instance.run(
        "deploy", "--dir", repo, "--yes", "--prune", "--max-deletes", "0", expect=2
    )

    assert "max-deletes" in refused.stderr
    assert instance.counters.totals()[1] == 0
