"""API revisions end to end: an export with two revisions of two APIs and Windows
separators deploys, plans empty and pulls back unchanged; making another revision current
is a release, never a delete of the revision that was current."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import revision_number
from tests.exports import CONSTRUCTED
from tests.reliability.helpers import Cli, live_configuration

EXPORT = CONSTRUCTED / "contoso-revisions-v17"
SERVICES = ("revisions0", "revisions1")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


def _git(directory: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args]
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    for top in ("api-management", "api-management-extras"):
        if (EXPORT / top).is_dir():
            shutil.copytree(EXPORT / top, target / top)
    _git(target, "init", "-q", "-b", "main")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "export")
    return target


def _plan(cli: Cli, repo: Path, *extra: str) -> dict[str, object]:
    document: dict[str, object] = json.loads(
        cli.run("plan", "--dir", repo, "--format", "json", *extra).stdout
    )
    return document


def test_an_export_with_revisions_deploys_plans_empty_and_pulls_back(
    emulator: EmulatorProcess, repo: Path, tmp_path: Path
) -> None:
    cli = Cli(emulator.data_dir / "connection.json", SERVICES[0])

    cli.run("deploy", "--dir", repo, "--yes", "--prune")
    second = cli.run("plan", "--dir", repo, "--detailed-exitcode")
    cli.run("pull", "--dir", repo)
    status = _git(repo, "status", "--porcelain")
    fresh = tmp_path / "fresh"
    cli.run("pull", "--dir", fresh)
    cli.run("validate", fresh)

    assert "No changes" in second.stdout
    assert status == "", status
    live = live_configuration(emulator.data_dir / "connection.json", SERVICES[0])
    assert {r.id for r in live.revisions("/apis/orders")} == {"/apis/orders", "/apis/orders;rev=2"}
    assert revision_number(live.get("/apis/inventory")) == "2"  # type: ignore[arg-type]


def test_making_another_revision_current_is_a_release(
    emulator: EmulatorProcess, repo: Path
) -> None:
    cli = Cli(emulator.data_dir / "connection.json", SERVICES[1])
    cli.run("deploy", "--dir", repo, "--yes", "--prune")
    read = read_tree(repo)
    write_tree(read.configuration.with_current_revision("/apis/orders", "2"), repo, read.layout)

    plan = _plan(cli, repo, "--prune")
    cli.run("deploy", "--dir", repo, "--yes", "--prune")
    after = cli.run("plan", "--dir", repo, "--prune", "--detailed-exitcode")

    changes = plan["changes"]
    assert isinstance(changes, list)
    assert [(c["action"], c["id"]) for c in changes] == [
        ("create", "/apis/orders/releases/apimsync-rev-2")
    ]
    assert "No changes" in after.stdout
    live = live_configuration(emulator.data_dir / "connection.json", SERVICES[1])
    assert revision_number(live.get("/apis/orders")) == "2"  # type: ignore[arg-type]
    assert "/apis/orders;rev=1" in live
