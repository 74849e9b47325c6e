"""``--changed-since`` on a real APIOps artifact folder: the files of both commits are
read through the APIOps adapter, and a partial deploy converges as a full one would.

A copy of ../shared/corpus-apiops/mifurm-apim is committed, deployed in full to a fresh
emulated instance, changed in two commits (an operation policy edited; an operation's
description in the specification edited and a product's API link deleted), then deployed
with ``--changed-since`` the first commit. Afterwards a full plan is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from tests.apiops_corpus import ARTIFACTS, copy_folder
from tests.apiops_instance import Instance, git, init_repository

OPERATION_POLICY = f"{ARTIFACTS}/apis/echo-api/operations/create-resource/policy.xml"
SPECIFICATION = f"{ARTIFACTS}/apis/echo-api/specification.yaml"
PRODUCT_LINK = f"{ARTIFACTS}/products/unlimited/apis/echo-api/productApiInformation.json"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=("since",)) as running:
        yield running


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def test_changes_in_two_commits_deploy_partially_and_leave_a_full_plan_empty(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = Instance(emulator, "since")
    repo = copy_folder("mifurm-apim", tmp_path / "repo")
    init_repository(repo)
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    start = git(repo, "rev-parse", "HEAD").strip()
    edit(repo / OPERATION_POLICY, 'apply="always"', 'apply="content-type-json"')
    commit(repo, "json-to-xml only for JSON bodies")
    edit(repo / SPECIFICATION, "A demonstration of a PUT call", "A PUT call")
    (repo / PRODUCT_LINK).unlink()
    commit(repo, "shorter PUT description; echo leaves the unlimited product")

    partial = instance.plan_json(repo, "--changed-since", start, "--prune")
    instance.run("deploy", "--dir", repo, "--changed-since", start, "--yes", "--prune")
    full = instance.plan_json(repo, "--prune")

    planned = {(c["action"], c["id"]) for c in partial["changes"]}
    assert partial["partial"]["since"] == start
    assert ("update", "/apis/echo-api/operations/create-resource/policies/policy") in planned
    assert ("update", "/apis/echo-api/operations/modify-resource") in planned
    assert ("delete", "/products/unlimited/apiLinks/echo-api") in planned
    assert not {r for _, r in planned if r.startswith("/products/starter")}
    assert full["changes"] == [], full["changes"]
