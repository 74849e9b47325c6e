"""Every command on an APIOps folder: pull into a new folder (--layout, --apiops-flavour),
--env with an override file, the git hooks' staged validation and --ref plans."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from tests.apiops_corpus import APIOPS_CORPUS
from tests.apiops_instance import Instance, apimsync, commit_all, git, init_repository

SERVICES = tuple(f"cmd{n}" for n in range(8))
_fresh = itertools.count()
ARTIFACTS = "apimartifacts"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


@pytest.fixture
def instance(emulator: EmulatorProcess) -> Instance:
    return Instance(emulator, SERVICES[next(_fresh)])


def mifurm(tmp_path: Path) -> Path:
    """The v7 beta folder: an echo API with operation policies, products, subscriptions."""
    repo = tmp_path / "repo"
    shutil.copytree(APIOPS_CORPUS / "mifurm-apim", repo)
    return init_repository(repo)


@pytest.mark.parametrize(
    ("options", "folder"), [((), ARTIFACTS), (("--apiops-flavour", "cli"), "apim-artifacts")]
)
def test_pull_into_a_new_folder_writes_the_chosen_apiops_flavour(
    instance: Instance, tmp_path: Path, options: tuple[str, ...], folder: str
) -> None:
    repo = mifurm(tmp_path)
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    instance.counters.reset()

    fresh = tmp_path / "fresh"
    instance.run("pull", "--dir", fresh, "--layout", "apiops", *options)
    plan = instance.plan_json(fresh)

    written = fresh / folder
    assert (written / "apis" / "echo-api" / "apiInformation.json").is_file()
    assert (written / "apis" / "echo-api" / "specification.yaml").is_file()
    assert (written / "apis/echo-api/operations/retrieve-resource-cached/policy.xml").is_file()
    cli_operation = written / "apis/echo-api/operations/retrieve-resource/operationInformation.json"
    assert cli_operation.is_file() == (folder == "apim-artifacts")
    assert (written / "products/starter/apis.json").is_file() == (folder == "apim-artifacts")
    assert plan["changes"] == [], plan["changes"]
    assert instance.counters.totals()[1] == 0  # pull and plan write nothing to the instance


def test_pull_env_keeps_the_override_values_out_of_the_artifacts(
    instance: Instance, tmp_path: Path
) -> None:
    repo = mifurm(tmp_path)
    product = repo / ARTIFACTS / "products/starter/productInformation.json"
    (repo / "configuration.prod.yaml").write_text(
        "products:\n  - name: starter\n    properties:\n      terms: Production terms\n"
    )
    commit_all(repo, "prod overrides")
    before = product.read_bytes()

    instance.run("deploy", "--dir", repo, "--yes", "--prune", "--env", "prod")
    planned = instance.plan_json(repo, "--env", "prod")
    base_plan = instance.plan_json(repo)
    pulled = instance.run("pull", "--dir", repo, "--env", "prod")

    assert planned["changes"] == []
    assert [c["changed_paths"] for c in base_plan["changes"]] == [["/terms"]]
    assert product.read_bytes() == before
    assert git(repo, "status", "--porcelain") == ""
    assert "Production terms" not in pulled.stdout + pulled.stderr


def test_the_pre_commit_hook_validates_the_staged_artifacts(tmp_path: Path) -> None:
    repo = mifurm(tmp_path)
    policy = repo / ARTIFACTS / "apis/echo-api/policy.xml"
    policy.write_text("<policies><inbound><forward-request /></inbound></policies>")
    git(repo, "add", "-A")
    staged = apimsync("validate", "--staged", repo, expect=1)
    git(repo, "reset", "-q")
    unstaged = apimsync("validate", "--staged", repo)

    assert f"{ARTIFACTS}/apis/echo-api/policy.xml:1:" in staged.stdout
    assert "policy-section" in staged.stdout
    assert unstaged.stdout.splitlines()[-1].startswith("0 errors")


def test_the_installed_pre_commit_hook_refuses_a_broken_artifact(tmp_path: Path) -> None:
    repo = mifurm(tmp_path)
    apimsync("hooks", "install", "--dir", repo)
    policy = repo / ARTIFACTS / "apis/echo-api/operations/create-resource/policy.xml"
    policy.write_text(policy.read_text().replace("<inbound>", "<inbound><forward-request />", 1))
    git(repo, "add", "-A")

    refused = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "x"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert refused.returncode != 0
    assert f"{ARTIFACTS}/apis/echo-api/operations/create-resource/policy.xml" in (
        refused.stdout + refused.stderr
    )
    assert git(repo, "log", "--format=%s").splitlines() == ["configuration"]


def test_plan_of_a_git_ref_reads_the_artifacts_at_that_ref(
    instance: Instance, tmp_path: Path
) -> None:
    repo = mifurm(tmp_path)
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    base = repo / ARTIFACTS / "products/starter/productInformation.json"
    document = json.loads(base.read_text())
    document["properties"]["terms"] = "Committed terms"
    base.write_text(json.dumps(document, indent=2))
    commit_all(repo, "new terms")
    document["properties"]["terms"] = "Uncommitted terms"
    base.write_text(json.dumps(document, indent=2))

    at_head = instance.plan_json(repo, "--ref", "HEAD")
    at_parent = instance.plan_json(repo, "--ref", "HEAD~1")

    assert [c["after"]["terms"] for c in at_head["changes"]] == ["Committed terms"]
    assert at_parent["changes"] == []


def test_deploy_via_git_refuses_an_apiops_folder(instance: Instance, tmp_path: Path) -> None:
    repo = mifurm(tmp_path)

    refused = instance.run("deploy", "--dir", repo, "--via", "git", "--yes", expect=2)

    assert "--via git pushes the scm layout" in refused.stderr
    assert "apimsync convert" in refused.stderr
