"""Specifications instead of operations, end to end: a changed specification is one
import (not a write per operation), then the operation policies; a changed API property
is a plain write that imports nothing; pull writes a specification from the live API.

(An operation's display name is its operationId once imported, as the service maps
specifications, so the operation's description is what the pull test changes.)"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from apimsync.emulator import EmulatorProcess
from tests.apiops_corpus import APIOPS_CORPUS
from tests.apiops_instance import Instance, commit_all, git, init_repository

SERVICES = tuple(f"spec{n}" for n in range(4))
_fresh = itertools.count()
ECHO = "apimartifacts/apis/echo-api"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


@pytest.fixture
def deployed(emulator: EmulatorProcess, tmp_path: Path) -> tuple[Instance, Path]:
    instance = Instance(emulator, SERVICES[next(_fresh)])
    repo = tmp_path / "repo"
    shutil.copytree(APIOPS_CORPUS / "mifurm-apim", repo)
    init_repository(repo)
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    return instance, repo


def edit_specification(repo: Path) -> None:
    path = repo / ECHO / "specification.yaml"
    document = yaml.safe_load(path.read_text())
    document["paths"]["/resource"]["get"]["summary"] = "Fetch a resource"
    document["paths"]["/status"] = {
        "get": {"operationId": "get-status", "responses": {"200": {"description": "OK"}}}
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_changed_specification_is_one_import_then_the_operation_policies_even_saved(
    deployed: tuple[Instance, Path],
) -> None:
    instance, repo = deployed
    edit_specification(repo)
    commit_all(repo, "a new operation")

    plan = instance.plan_json(repo)
    saved = repo.parent / "plan.json"
    instance.run("plan", "--dir", repo, "--out", saved)
    instance.counters.reset()
    instance.run("deploy", "--dir", repo, "--plan", saved, "--yes")  # the reviewed plan
    writes = instance.counters.writes_by_route()

    ids = {c["id"]: c for c in plan["changes"]}
    assert ids["/apis/echo-api/operations/get-status"]["action"] == "create"
    assert ids["/apis/echo-api"]["changed_paths"] == ["/value"]
    assert writes.get("PUT /apis/{apiId}") == 1
    assert not [
        route for route in writes if "/operations/{operationId}" in route and "polic" not in route
    ]
    assert sum(n for route, n in writes.items() if "/policies/" in route) == 3  # written again
    assert instance.plan_json(repo)["changes"] == []
    assert instance.live().get("/apis/echo-api/operations/get-status") is not None


def test_an_api_property_change_is_a_plain_write_that_imports_nothing(
    deployed: tuple[Instance, Path],
) -> None:
    instance, repo = deployed
    info = repo / ECHO / "apiInformation.json"
    document = json.loads(info.read_text())
    document["properties"]["description"] = "Echoes what it gets"
    info.write_text(json.dumps(document, indent=2))
    commit_all(repo, "describe the API")

    plan = instance.plan_json(repo)
    instance.counters.reset()
    instance.run("deploy", "--dir", repo, "--yes")

    assert [(c["id"], c["changed_paths"]) for c in plan["changes"]] == [
        ("/apis/echo-api", ["/description"])
    ]
    assert instance.counters.writes_by_route() == {"PUT /apis/{apiId}": 1}
    assert len(instance.live().children("/apis/echo-api")) > 6  # operations kept


def test_pull_writes_the_specification_of_operations_changed_on_the_instance(
    deployed: tuple[Instance, Path],
) -> None:
    instance, repo = deployed
    operations = instance.target().client().api_operation
    operation = operations.get(
        instance.connection.resource_group, instance.service, "echo-api", "retrieve-resource"
    )
    operation.description = "Returns what it gets."
    operations.create_or_update(
        instance.connection.resource_group,
        instance.service,
        "echo-api",
        "retrieve-resource",
        operation,
        if_match="*",
    )

    instance.run("pull", "--dir", repo)
    changed = git(repo, "status", "--porcelain").split()

    assert changed == ["M", f"{ECHO}/specification.yaml"]
    spec = yaml.safe_load((repo / ECHO / "specification.yaml").read_text())
    assert spec["paths"]["/resource"]["get"]["description"] == "Returns what it gets."
    assert instance.plan_json(repo)["changes"] == []
