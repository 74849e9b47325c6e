"""Tenant configuration (save, validate, deploy, syncState) on the real exports.

Each export in the corpus is pushed with the stock git client to a fresh service's scm
repository, validated (the action log lists what ``read_tree`` finds), deployed, listed
back through the SDK, and saved: once onto the same branch (nothing changes, so the
commit stays) and once onto a new branch whose fresh clone reads back into the same
model. Named values are not part of the repository, so the instance gets the ones the
policies name before the deploy, as a real instance would already have them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.apimanagement.models import (
    BackendContract,
    DeployConfigurationParameters,
    NamedValueCreateContract,
    OperationResultContract,
    OperationResultLogItemContract,
    ProductContract,
    SaveConfigurationParameter,
    SubscriptionCreateParameters,
)

from apimsync.emulator import Connection, EmulatorProcess, policydocs
from apimsync.emulator.modelbridge import SCM_KINDS
from apimsync.emulator.scmdeploy import OBJECT_TYPES, is_builtin
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, Kind, Resource, make_resource
from apimsync.plan.normalize import normalize
from apimsync.policy.canonical import policies_equal
from tests.conftest import CORPUS, EXPORTS

from .conftest import RawClient, Recorder, make_client
from .scmgit import GitClient, mint_password

CONFIGURATION = "configuration"
SERVICES = tuple(f"scm-{name}" for name in EXPORTS)


@dataclass
class Target:
    """One service of the module's emulator, with a git client for its repository."""

    client: ApiManagementClient
    rg: str
    svc: str
    url: str
    git: GitClient

    def run(self, operation: str, branch: str = "master", force: bool = False) -> Any:
        operations = self.client.tenant_configuration
        if operation == "save":
            body: Any = SaveConfigurationParameter(branch=branch, force=force)
        else:
            body = DeployConfigurationParameters(branch=branch, force=force)
        begin = getattr(operations, f"begin_{operation}")
        return begin(self.rg, self.svc, CONFIGURATION, body, polling_interval=0).result()

    def sync(self) -> Any:
        return self.client.tenant_configuration.get_sync_state(self.rg, self.svc, CONFIGURATION)


@pytest.fixture(scope="module")
def scm_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    services = (*SERVICES, "scm-broken", "scm-save", "scm-force", "scm-update", "scm-fresh")
    with EmulatorProcess(tmp_path_factory.mktemp("scm"), services=services) as running:
        yield running


@pytest.fixture(scope="module")
def scm_client(scm_emulator: EmulatorProcess, recorder: Recorder) -> ApiManagementClient:
    return make_client(scm_emulator.connection, recorder, retry_total=0)


def target_for(conn: Connection, client: ApiManagementClient, svc: str, home: Path) -> Target:
    rg = conn.resource_group
    url = str(client.api_management_service.get(rg, svc).scm_url)
    return Target(client, rg, svc, url, GitClient(conn, mint_password(client, rg, svc), home))


def succeeded(result: OperationResultContract) -> OperationResultContract:
    assert result.status == "Succeeded", result.error and result.error.message
    return result


def scm_model(configuration: Configuration) -> dict[str, Resource]:
    return {r.id: r for r in configuration if r.kind in SCM_KINDS}


def give_named_values(target: Target, configuration: Configuration) -> None:
    """Create the named values the branch's policies name (they live outside the repo)."""
    names: set[str] = set()
    for policy in configuration.of_kind(Kind.POLICY):
        text = str(policy.properties["value"])
        root = policydocs.validate(text, "rawxml", "policies")
        names |= policydocs.references(text, root).named_values
    for name in sorted(names):
        body = NamedValueCreateContract(display_name=name, value="from-the-test")
        target.client.named_value.begin_create_or_update(target.rg, target.svc, name, body).result()


# -- what the SDK lists -------------------------------------------------------------------


def listed(target: Target) -> dict[str, Any]:
    """APIs, operations, policies, backends, products and groups as the SDK lists them."""
    client, rg, svc = target.client, target.rg, target.svc
    apis = {
        f"/apis/{a.name}": (a.display_name, a.path) for a in client.api.list_by_service(rg, svc)
    }
    operations = {
        f"{api}/operations/{o.name}": (o.method, o.url_template)
        for api in apis
        for o in client.api_operation.list_by_api(rg, svc, api.split("/")[-1])
    }
    products = {
        f"/products/{p.name}": (p.display_name, p.state)
        for p in client.product.list_by_service(rg, svc)
    }
    links = {
        f"{product}/apis/{a.name}"
        for product in products
        for a in client.product_api.list_by_product(rg, svc, product.split("/")[-1])
    }
    return {
        "apis": apis,
        "operations": operations,
        "policies": {p: policy_text(target, p) for p in policy_ids(target)},
        "backends": {f"/backends/{b.name}": b.url for b in client.backend.list_by_service(rg, svc)},
        "products": products,
        "product apis": links,
        "groups": sorted(g.display_name for g in client.group.list_by_service(rg, svc)),
    }


def policy_ids(target: Target) -> list[str]:
    marker = f"/service/{target.svc}"
    found = target.client.all_policies.list_by_service(target.rg, target.svc)
    return sorted(str(p.reference_policy_id).split(marker, 1)[1] for p in found)


def policy_text(target: Target, policy_id: str) -> str:
    client, rg, svc = target.client, target.rg, target.svc
    parts = policy_id.strip("/").split("/")
    if parts[0] == "policies":
        got = client.policy.get(rg, svc, "policy", format="rawxml")
    elif parts[0] == "products":
        got = client.product_policy.get(rg, svc, parts[1], "policy", format="rawxml")
    elif len(parts) == 4:
        got = client.api_policy.get(rg, svc, parts[1], "policy", format="rawxml")
    else:
        got = client.api_operation_policy.get(
            rg, svc, parts[1], parts[3], "policy", format="rawxml"
        )
    return str(got.value)


def expected_listing(model: dict[str, Resource], groups: list[str]) -> dict[str, Any]:
    def of(kind: Kind) -> list[Resource]:
        return [r for r in model.values() if r.kind is kind]

    return {
        "apis": {r.id: (r.get("displayName"), r.get("path")) for r in of(Kind.API)},
        "operations": {r.id: (r.get("method"), r.get("urlTemplate")) for r in of(Kind.OPERATION)},
        "policies": {r.id: r.get("value") for r in of(Kind.POLICY)},
        "backends": {r.id: r.get("url") for r in of(Kind.BACKEND)},
        "products": {r.id: (r.get("displayName"), r.get("state")) for r in of(Kind.PRODUCT)},
        "product apis": {
            f"{r.parent}/apis/{str(r.get('apiId')).split('/')[-1]}"
            for r in of(Kind.PRODUCT_API_LINK)
        },
        "groups": groups,
    }


def assert_same_listing(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    policies, wanted = actual.pop("policies"), expected.pop("policies")
    assert sorted(policies) == sorted(wanted)
    for policy_id, text in wanted.items():
        assert policies_equal(policies[policy_id], text), policy_id
    assert actual == expected


def expected_creates(model: dict[str, Resource], fresh: dict[str, Resource]) -> Counter[str]:
    """Every resource of the export but those a new instance has already (the global
    policy, the built-in groups, echo-api, the starter and unlimited products...):
    validate lists those as updates, if anything."""
    return Counter(
        OBJECT_TYPES[r.kind]
        for r in model.values()
        if r.id not in fresh and r.id != "/policies/policy" and not is_builtin(r)
    )


@pytest.fixture(scope="module")
def new_instance(
    scm_emulator: EmulatorProcess,
    scm_client: ApiManagementClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Resource]:
    """What a new instance holds, as its own save writes it."""
    home = tmp_path_factory.mktemp("fresh")
    target = target_for(scm_emulator.connection, scm_client, "scm-fresh", home / "home")
    succeeded(target.run("save"))
    return scm_model(read_tree(target.git.clone(target.url, home / "clone")).configuration)


def comparable(model: dict[str, Resource]) -> dict[str, Any]:
    return {rid: normalize(r) for rid, r in model.items()}


# -- the full cycle -------------------------------------------------------------------


def keyed(log: list[OperationResultLogItemContract]) -> list[tuple[str, str, str]]:
    return [(str(i.object_type), str(i.action), str(i.object_key)) for i in log]


@pytest.mark.parametrize("name", EXPORTS)
def test_full_cycle_on_a_real_export(
    scm_emulator: EmulatorProcess,
    scm_client: ApiManagementClient,
    new_instance: dict[str, Resource],
    tmp_path: Path,
    name: str,
) -> None:
    conn = scm_emulator.connection
    target = target_for(conn, scm_client, f"scm-{name}", tmp_path / "home")
    pushed = target.git.push_tree(target.url, CORPUS / name, tmp_path / "pushed")
    model = scm_model(read_tree(CORPUS / name).configuration)
    give_named_values(target, Configuration(model.values()))

    checked = succeeded(target.run("validate"))
    log: list[OperationResultLogItemContract] = checked.action_log or []
    actions = Counter((i.object_type, i.action) for i in log)
    creates = Counter({t: n for (t, a), n in actions.items() if a == "Created"})
    assert creates == expected_creates(model, new_instance)
    changed = {key for _t, a, key in keyed(log) if a != "Created"}
    assert changed <= set(new_instance) | {"/policies/policy"}
    deleted = {key for _t, a, key in keyed(log) if a == "Deleted"}
    assert deleted == set(new_instance) - set(model)

    succeeded(target.run("deploy"))
    groups = sorted(str(g.get("displayName")) for g in model.values() if g.kind is Kind.GROUP)
    assert_same_listing(listed(target), expected_listing(model, groups))
    assert keyed(succeeded(target.run("validate")).action_log or []) == []
    state = target.sync()
    assert (state.commit_id, state.is_export, state.is_synced) == (pushed, False, True)

    saved = succeeded(target.run("save"))
    assert pushed in str(saved.result_info)  # nothing differs from the branch: no new commit
    state = target.sync()
    assert (state.commit_id, state.is_export, state.is_synced) == (pushed, True, True)

    succeeded(target.run("save", branch="export"))
    clone = target.git.clone(target.url, tmp_path / "export", branch="export")
    assert not (clone / "api-management-extras").exists()
    saved_model = scm_model(read_tree(clone).configuration)
    assert sorted(saved_model) == sorted(model)
    assert comparable(saved_model) == comparable(model)


# -- failures leave the instance alone --------------------------------------------------

BROKEN_POLICY = "<policies>\n  <inbound>\n    <no-such-policy />\n  </inbound>\n</policies>"
UNKNOWN_NAMED_VALUE = (
    "<policies>\n  <inbound>\n    <base />\n"
    '    <set-header name="x-test" exists-action="override">\n'
    "      <value>{{named-value-the-instance-lacks}}</value>\n    </set-header>\n"
    "  </inbound>\n  <backend>\n    <base />\n  </backend>\n"
    "  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n"
    "</policies>"
)


def edit_json(path: Path, **changes: Any) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(changes)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def api_policy_file(work: Path) -> tuple[str, str]:
    """An API-scope policy file of the tree and the main file of its API."""
    layout = read_tree(work).layout
    policy_id = next(p for p in sorted(layout.policy_files) if p.count("/") == 4)
    api_id = policy_id.removesuffix("/policies/policy")
    return layout.policy_files[policy_id], layout.units[api_id].main


def test_a_broken_branch_fails_naming_the_file_and_changes_nothing(
    scm_emulator: EmulatorProcess, scm_client: ApiManagementClient, tmp_path: Path
) -> None:
    target = target_for(scm_emulator.connection, scm_client, "scm-broken", tmp_path / "home")
    work = tmp_path / "work"
    good = target.git.push_tree(target.url, CORPUS / "blank-v14", work)
    succeeded(target.run("deploy"))
    before = listed(target)
    policy_file, api_file = api_policy_file(work)
    edit_json(work / api_file, name="Renamed by a deploy that must not happen")

    (work / policy_file).write_text(BROKEN_POLICY, encoding="utf-8")
    target.git.commit_all(work, "Break a policy")
    target.git.run("push", "--quiet", target.url, "HEAD:refs/heads/master", cwd=work)
    for operation in ("validate", "deploy"):
        failed = target.run(operation)
        assert failed.status == "Failed"
        assert failed.error.code == "ValidationError"
        assert failed.error.message.startswith(f"{policy_file}:3:5: "), failed.error.message
    assert listed(target) == before

    # valid files, but the service refuses the policy half-way through: all rolled back
    (work / policy_file).write_text(UNKNOWN_NAMED_VALUE, encoding="utf-8")
    target.git.commit_all(work, "Name a named value the instance lacks")
    target.git.run("push", "--quiet", target.url, "HEAD:refs/heads/master", cwd=work)
    assert succeeded(target.run("validate")).action_log
    failed = target.run("deploy")
    assert failed.status == "Failed"
    assert failed.error.message.startswith(f"{policy_file}: "), failed.error.message
    assert "named-value-the-instance-lacks" in failed.error.message
    assert listed(target) == before
    assert target.sync().commit_id == good


def test_missing_branches_and_files_fail(
    scm_emulator: EmulatorProcess, scm_client: ApiManagementClient, tmp_path: Path
) -> None:
    target = target_for(scm_emulator.connection, scm_client, "scm-broken", tmp_path / "home")
    missing = target.run("validate", branch="no-such-branch")
    assert missing.status == "Failed" and "does not exist" in missing.error.message
    work = tmp_path / "work"
    work.mkdir()
    target.git.run("init", "--quiet", cwd=work)
    (work / "README.md").write_text("no configuration here\n", encoding="utf-8")
    target.git.commit_all(work, "README only")
    target.git.run("push", "--quiet", target.url, "HEAD:refs/heads/readme-only", cwd=work)
    failed = target.run("deploy", branch="readme-only")
    assert failed.status == "Failed"
    assert failed.error.message == "File not found: 'api-management/configuration.json'"


def test_requests_are_checked_and_answered_like_apim(
    scm_emulator: EmulatorProcess, recorder: Recorder
) -> None:
    raw = RawClient(scm_emulator.connection, recorder)
    path = "tenant/configuration/validate"
    assert raw.call("POST", path, {"properties": {}}, service="scm-broken").status == 400
    bad = {"properties": {"branch": "../x"}}
    assert raw.call("POST", path, bad, service="scm-broken").status == 400
    other = raw.call("POST", "tenant/other/validate", {"properties": {"branch": "master"}})
    assert other.status in (400, 404)
    started = raw.call("POST", path, {"properties": {"branch": "master"}}, service="scm-broken")
    assert started.status == 202 and started.raw == b""
    assert started.header("Retry-After") in ("0", "1")
    location = started.header("Location") or ""
    assert "/service/scm-broken/tenant/operationResults/" in location
    result = raw.call("GET", "", absolute=location)
    assert result.status == 200
    assert result.body["properties"]["status"] in ("Succeeded", "Failed")


# -- save -----------------------------------------------------------------------------


def test_save_commits_changes_and_refuses_a_branch_that_moved(
    scm_emulator: EmulatorProcess, scm_client: ApiManagementClient, tmp_path: Path
) -> None:
    target = target_for(scm_emulator.connection, scm_client, "scm-save", tmp_path / "home")
    assert target.sync().is_synced is False
    first = succeeded(target.run("save"))
    state = target.sync()
    assert state.is_export and state.is_synced and state.commit_id in str(first.result_info)
    clone = target.git.clone(target.url, tmp_path / "clone")
    assert (clone / "api-management" / "configuration.json").is_file()
    assert not (clone / "api-management-extras").exists()

    backend = BackendContract(url="https://added.example", protocol="http")
    target.client.backend.create_or_update(target.rg, target.svc, "added", backend)
    assert target.sync().is_synced is False
    succeeded(target.run("save"))
    target.git.run("pull", "--quiet", cwd=clone)
    changed = target.git.run("diff", "--name-only", "HEAD~1", "HEAD", cwd=clone).split()
    assert changed == ["api-management/backends/added/configuration.json"]

    (clone / "README.md").write_text("pushed after the save\n", encoding="utf-8")
    pushed = target.git.commit_all(clone, "A change that is not deployed")
    target.git.run("push", "--quiet", "origin", "HEAD:refs/heads/master", cwd=clone)
    refused = target.run("save")
    assert refused.status == "Failed" and "not deployed" in refused.error.message
    backend.url = "https://changed.example"
    target.client.backend.create_or_update(target.rg, target.svc, "added", backend)
    forced = succeeded(target.run("save", force=True))
    target.git.run("pull", "--quiet", cwd=clone)
    assert target.git.run("rev-parse", "HEAD~1", cwd=clone).strip() == pushed
    assert (clone / "README.md").is_file()
    assert target.sync().commit_id in str(forced.result_info)


def test_deploy_deletes_subscribed_products_only_with_force(
    scm_emulator: EmulatorProcess, scm_client: ApiManagementClient, tmp_path: Path
) -> None:
    target = target_for(scm_emulator.connection, scm_client, "scm-force", tmp_path / "home")
    client, rg, svc = target.client, target.rg, target.svc
    client.product.create_or_update(rg, svc, "doomed", ProductContract(display_name="Doomed"))
    subscription = SubscriptionCreateParameters(scope="/products/doomed", display_name="S")
    client.subscription.create_or_update(rg, svc, "doomed-sub", subscription)
    succeeded(target.run("save", force=True))
    clone = target.git.clone(target.url, tmp_path / "clone")
    for path in read_tree(clone).layout.units["/products/doomed"].files:
        (clone / path).unlink()
    target.git.commit_all(clone, "Delete the product")
    target.git.run("push", "--quiet", "origin", "HEAD:refs/heads/master", cwd=clone)
    for operation in ("validate", "deploy"):
        refused = target.run(operation)
        assert refused.status == "Failed" and "force" in refused.error.message
    assert "doomed" in {p.name for p in client.product.list_by_service(rg, svc)}
    deleted: list[OperationResultLogItemContract] = (
        succeeded(target.run("validate", force=True)).action_log or []
    )
    assert {(i.object_type, i.object_key) for i in deleted} == {
        ("Product", "/products/doomed"),
        ("ProductGroup", "/products/doomed/groupLinks/administrators"),  # made with it (§8.1)
    }
    succeeded(target.run("deploy", force=True))
    assert "doomed" not in {p.name for p in client.product.list_by_service(rg, svc)}
    assert "doomed-sub" not in {s.name for s in client.subscription.list(rg, svc)}


# -- restart --------------------------------------------------------------------------


def test_restart_keeps_the_repository_and_the_sync_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with EmulatorProcess(data, services=("kept",)) as first:
        target = target_for(
            first.connection, make_client(first.connection, None), "kept", tmp_path / "a"
        )
        succeeded(target.run("save"))
        before = target.sync().as_dict()
        heads = target.git.run("ls-remote", target.url)
    with EmulatorProcess(data, services=("kept",)) as second:
        target = target_for(
            second.connection, make_client(second.connection, None), "kept", tmp_path / "b"
        )
        after = target.sync().as_dict()
        assert target.git.run("ls-remote", target.url) == heads
        clone = target.git.clone(target.url, tmp_path / "clone")
        assert (clone / "api-management" / "configuration.json").is_file()
    assert after == before
    assert after["is_synced"] and after["is_export"] and after["commit_id"] in heads


def test_a_busy_instance_saves_and_validates_without_changes(
    client: ApiManagementClient, conn: Connection, rg: str, svc: str, tmp_path: Path
) -> None:
    """Whatever the other tests left on the session's service reads back as itself."""
    target = target_for(conn, client, svc, tmp_path / "home")
    branch = f"busy-{tmp_path.name}"
    succeeded(target.run("save", branch=branch))
    log: list[OperationResultLogItemContract] = (
        succeeded(target.run("validate", branch=branch)).action_log or []
    )
    assert [(i.action, i.object_key) for i in log] == []


def test_a_second_deploy_updates_creates_and_deletes(
    scm_emulator: EmulatorProcess, scm_client: ApiManagementClient, tmp_path: Path
) -> None:
    target = target_for(scm_emulator.connection, scm_client, "scm-update", tmp_path / "home")
    work = tmp_path / "work"
    target.git.push_tree(target.url, CORPUS / "blank-v14", work)
    succeeded(target.run("deploy"))

    read = read_tree(work)
    configuration = read.configuration.without("/apis/echo-api").without("/products/starter")
    api = configuration.get("/apis/blank-api")
    product = configuration.get("/products/unlimited")
    assert api is not None and product is not None
    changed = configuration.with_resources(
        api.with_properties(serviceUrl=None, description="Now described"),
        product.with_properties(description=None, state="notPublished"),
        make_resource("/backends/added", {"url": "https://added.example", "protocol": "http"}),
    )
    write_tree(changed, work, read.layout)
    changed_head = target.git.commit_all(work, "Change, add and delete")
    target.git.run("push", "--quiet", target.url, "HEAD:refs/heads/master", cwd=work)

    log: list[OperationResultLogItemContract] = succeeded(target.run("validate")).action_log or []
    actions = {(i.action, i.object_key) for i in log}
    assert {("Deleted", "/apis/echo-api"), ("Deleted", "/products/starter")} <= actions
    assert {("Updated", "/apis/blank-api"), ("Created", "/backends/added")} <= actions
    succeeded(target.run("deploy"))
    assert keyed(succeeded(target.run("validate")).action_log or []) == []
    assert target.sync().commit_id == changed_head

    model = scm_model(changed)
    groups = sorted(str(g.get("displayName")) for g in model.values() if g.kind is Kind.GROUP)
    assert_same_listing(listed(target), expected_listing(model, groups))
    succeeded(target.run("save", branch="after"))
    clone = target.git.clone(target.url, tmp_path / "after", branch="after")
    assert comparable(scm_model(read_tree(clone).configuration)) == comparable(model)
