"""pull, plan and deploy end to end: the installed command against a running emulator.

Each test takes a fresh, empty instance of one emulator (it hosts many), runs
``python -m apimsync`` as a user would, and checks what the instance and the files hold.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.formats.scm.reader import read_tree
from apimsync.model import Configuration
from apimsync.plan.diff import compute_plan
from apimsync.targets.connection import read_connection_file
from apimsync.validate.tree import validate_tree
from tests.clirun import run_apimsync
from tests.conftest import CORPUS, EXPORTS, REPO, one_export_by_default, tree_bytes
from tests.reliability.helpers import live_configuration

SERVICES = tuple(f"svc{n}" for n in range(40))
EXAMPLE = REPO / "examples" / "openai-usage"
_fresh = itertools.count()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


class Instance:
    """One empty emulated APIM instance and a way to run apimsync against it."""

    def __init__(self, emulator: EmulatorProcess, service: str) -> None:
        self.emulator = emulator
        self.service = service
        self.env = {
            **os.environ,
            "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json"),
            "APIMSYNC_SERVICE": service,
            "CI": "true",
        }

    def run(self, *args: str | Path, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        return run_apimsync(*args, env=self.env, expect=expect, timeout=300)

    def live(self) -> Configuration:
        """What the instance holds, read with the library."""
        return live_configuration(self.emulator.data_dir / "connection.json", self.service)

    def plan_json(self, directory: Path, *extra: str) -> dict[str, object]:
        result = self.run("plan", "--dir", directory, "--format", "json", *extra)
        document: dict[str, object] = json.loads(result.stdout)
        return document

    def writes(self) -> int:
        """Write requests the emulator has counted since the last reset."""
        routes = self._requests("GET").get("by_route", {})
        return sum(
            count
            for route, count in routes.items()
            if route.split(" ", 1)[0] in {"PUT", "PATCH", "POST", "DELETE"}
            and "/_emulator/" not in route
        )

    def reset_counter(self) -> None:
        self._requests("DELETE")

    def _requests(self, method: str) -> dict[str, dict[str, int]]:
        settings = read_connection_file(self.emulator.data_dir / "connection.json")
        context = ssl.create_default_context(cafile=settings["ca_bundle"])
        request = urllib.request.Request(
            settings["endpoint"] + "/_emulator/requests",
            method=method,
            headers={"Authorization": f"Bearer {settings['token']}"},
        )
        with urllib.request.urlopen(request, context=context) as response:
            body = response.read()
        return json.loads(body) if body else {}


@pytest.fixture
def instance(emulator: EmulatorProcess) -> Instance:
    return Instance(emulator, SERVICES[next(_fresh)])


def workdir(tmp_path: Path, source: Path) -> Path:
    """A git repository holding a copy of the configuration folders of ``source``."""
    target = tmp_path / "repo"
    for top in ("api-management", "api-management-extras"):
        if (source / top).is_dir():
            shutil.copytree(source / top, target / top)
    _add_missing_named_values(target)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "configuration")
    return target


def _add_missing_named_values(root: Path) -> None:
    """Exports cannot hold named values; give the ones their policies use a value, as a
    team adopting the export would in api-management-extras/namedValues/."""
    report = validate_tree(root)
    names = {
        match.group(1)
        for finding in report.findings
        if finding.code == "unknown-named-value"
        for match in [re.search(r"named value '([^']+)'", finding.message)]
        if match
    }
    folder = root / "api-management-extras" / "namedValues"
    for name in sorted(names):
        folder.mkdir(parents=True, exist_ok=True)
        document = {"id": f"/namedValues/{name.lower()}", "displayName": name, "value": "x"}
        (folder / f"{name.lower()}.json").write_text(json.dumps(document, indent=2))


def git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


SOURCES = [CORPUS / name for name in EXPORTS] + [EXAMPLE]


@pytest.mark.parametrize("source", one_export_by_default(SOURCES, lambda source: source.name))
def test_full_cycle_plan_deploy_plan_pull(instance: Instance, source: Path, tmp_path: Path) -> None:
    """deploy (the files are the whole truth: --prune), then plan is empty, then a pull
    leaves git status clean, then a pull into an empty folder validates and plans empty."""
    repo = workdir(tmp_path, source)
    files = {r.id.casefold() for r in read_tree(repo).configuration}
    new_instance = {r.id.casefold() for r in instance.live()}

    first = instance.plan_json(repo, "--prune")
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    second = instance.run("plan", "--dir", repo, "--prune", "--detailed-exitcode")
    instance.run("pull", "--dir", repo)
    status = git(repo, "status", "--porcelain")
    fresh = tmp_path / "fresh"
    instance.run("pull", "--dir", fresh)

    changes = first["changes"]
    assert isinstance(changes, list)
    for change in changes:
        key = str(change["id"]).casefold()
        if change["action"] == "delete":
            assert key in new_instance and key not in files, change["id"]
        else:
            assert key in files, change["id"]
    assert "No changes" in second.stdout
    assert status == "", status
    instance.run("validate", fresh)
    pulled = read_tree(fresh).configuration
    assert compute_plan(read_tree(repo).configuration, pulled).is_empty


def test_one_field_edit_is_one_update_and_one_write(instance: Instance, tmp_path: Path) -> None:
    repo = workdir(tmp_path, EXAMPLE)
    instance.run("deploy", "--dir", repo, "--yes")
    backend = repo / "api-management/backends/openaione/configuration.json"
    document = json.loads(backend.read_text())
    document["url"] = "https://openai-one-new.example.test/openai"
    backend.write_text(json.dumps(document, indent=2))

    plan = instance.plan_json(repo)
    instance.reset_counter()
    instance.run("deploy", "--dir", repo, "--yes")

    changes = plan["changes"]
    assert isinstance(changes, list) and len(changes) == 1
    assert changes[0]["action"] == "update" and changes[0]["changed_paths"] == ["/url"]
    assert instance.writes() == 1


def test_a_multi_commit_history_deploys_every_change(instance: Instance, tmp_path: Path) -> None:
    repo = workdir(tmp_path, EXAMPLE)
    instance.run("deploy", "--dir", repo, "--yes")
    for name in ("openaione", "openaitwo", "openaithree"):
        path = repo / f"api-management/backends/{name}/configuration.json"
        document = json.loads(path.read_text())
        document["url"] = f"https://{name}.moved.example.test/openai"
        path.write_text(json.dumps(document, indent=2))
        git(repo, "commit", "-qam", f"move {name}")

    plan = instance.plan_json(repo)
    instance.run("deploy", "--dir", repo, "--yes")

    assert plan["summary"] == {"add": 0, "change": 3, "destroy": 0}
    assert "No changes" in instance.run("plan", "--dir", repo).stdout


@pytest.mark.slow  # the largest export
def test_removed_api_is_unmanaged_without_prune_and_deleted_with_it(
    instance: Instance, tmp_path: Path
) -> None:
    repo = workdir(tmp_path, CORPUS / "eshop-v15")
    instance.run("deploy", "--dir", repo, "--yes")
    shutil.rmtree(repo / "api-management/apis/Echo_API__1[Current]")
    for product in (repo / "api-management/products").glob("*/configuration.json"):
        document = json.loads(product.read_text())
        document["$refs-apis"] = [r for r in document["$refs-apis"] if "Echo_API" not in r]
        product.write_text(json.dumps(document, indent=2))
    shutil.rmtree(repo / "api-management/policies/apis/Echo_API__1[Current]", ignore_errors=True)

    without = instance.plan_json(repo)
    instance.reset_counter()
    aborted = instance.run(
        "deploy", "--dir", repo, "--yes", "--prune", "--max-deletes", "0", expect=2
    )
    writes_after_abort = instance.writes()
    with_prune = instance.plan_json(repo, "--prune")

    assert [c for c in without["changes"] if c["action"] == "delete"] == []  # type: ignore[union-attr]
    assert "/apis/echo-api" in without["unmanaged"]  # type: ignore[operator]
    deletes = [c for c in with_prune["changes"] if c["action"] == "delete"]  # type: ignore[union-attr]
    api_delete = [c for c in deletes if c["id"] == "/apis/echo-api"]
    assert api_delete and any("/operations/" in child for child in api_delete[0]["cascade"])
    assert {c["id"] for c in deletes} - {"/apis/echo-api"} <= {
        "/products/starter/apiLinks/echo-api",
        "/products/unlimited/apiLinks/echo-api",
    }
    assert "max-deletes" in aborted.stderr and writes_after_abort == 0


@pytest.mark.slow  # the largest export; every kind is pruned in tests/targets/test_sdk.py
def test_a_deleted_tag_folder_is_pruned(instance: Instance, tmp_path: Path) -> None:
    repo = workdir(tmp_path, CORPUS / "eshop-v15")
    instance.run("deploy", "--dir", repo, "--yes")
    shutil.rmtree(repo / "api-management/tags/Order")

    planned = instance.plan_json(repo, "--prune")
    instance.run("deploy", "--dir", repo, "--yes", "--prune")
    again = instance.plan_json(repo, "--prune")

    deletes = [c for c in planned["changes"] if c["action"] == "delete"]  # type: ignore[union-attr]
    assert [c["id"] for c in deletes] == ["/tags/order"]
    assert deletes[0]["cascade"]  # its API and operation links go with it
    assert again["changes"] == []


def test_a_stale_saved_plan_is_refused_and_changes_nothing(
    instance: Instance, tmp_path: Path
) -> None:
    repo = workdir(tmp_path, EXAMPLE)
    instance.run("deploy", "--dir", repo, "--yes")
    backend = repo / "api-management/backends/openaitwo/configuration.json"
    document = json.loads(backend.read_text())
    document["url"] = "https://mine.example.test/openai"
    backend.write_text(json.dumps(document, indent=2))
    saved = tmp_path / "plan.json"
    instance.run("plan", "--dir", repo, "--out", saved)
    other = tmp_path / "other"
    shutil.copytree(repo, other)
    document["url"] = "https://theirs.example.test/openai"
    (other / "api-management/backends/openaitwo/configuration.json").write_text(
        json.dumps(document, indent=2)
    )
    instance.run("deploy", "--dir", other, "--yes")

    instance.reset_counter()
    refused = instance.run("deploy", "--dir", repo, "--plan", saved, expect=2)

    assert "stale plan" in refused.stderr and "/backends/openaitwo" in refused.stderr
    assert instance.writes() == 0


def test_detailed_exit_codes_and_output_formats(instance: Instance, tmp_path: Path) -> None:
    repo = workdir(tmp_path, EXAMPLE)

    changes = instance.run("plan", "--dir", repo, "--detailed-exitcode", expect=2)
    markdown = instance.run("plan", "--dir", repo, "--format", "markdown").stdout
    instance.run("deploy", "--dir", repo, "--yes")
    instance.run("plan", "--dir", repo, "--detailed-exitcode", expect=0)
    broken = repo / "api-management/backends/openaione/configuration.json"
    broken.write_text("{ not json")
    error = instance.run("plan", "--dir", repo, "--detailed-exitcode", expect=1)

    assert "to add" in changes.stdout
    assert "|" in markdown and "<details>" in markdown
    assert "json-syntax" in error.stderr


def test_deploy_format_json_prints_json_also_when_there_is_nothing_to_do(
    instance: Instance, tmp_path: Path
) -> None:
    repo = workdir(tmp_path, EXAMPLE)
    first = instance.run("deploy", "--dir", repo, "--yes", "--format", "json")
    again = instance.run("deploy", "--dir", repo, "--yes", "--format", "json")

    assert len(json.loads(first.stdout)["applied"]) == 26
    report = json.loads(again.stdout)
    assert report["applied"] == [] and report["failed"] == [] and report["writes"] == 0
    assert "No changes" in again.stderr  # the plan, on stderr


def test_deploy_without_yes_off_a_terminal_refuses(instance: Instance, tmp_path: Path) -> None:
    repo = workdir(tmp_path, EXAMPLE)

    refused = instance.run("deploy", "--dir", repo, expect=2)

    assert "--yes" in refused.stderr
    assert "No changes" not in instance.run("plan", "--dir", repo).stdout


def test_a_missing_target_is_one_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIMSYNC_")}
    result = subprocess.run(
        [sys.executable, "-m", "apimsync", "plan", "--dir", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 2
    assert "no target instance" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_folder_is_named_before_the_target(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIMSYNC_")}
    missing = tmp_path / "nonexistent"

    for command in ("plan", "deploy"):
        result = subprocess.run(
            [sys.executable, "-m", "apimsync", command, "--dir", str(missing)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

        assert result.returncode == 2, result.stderr
        assert f"{missing} does not exist" in result.stderr
        assert "no target instance" not in result.stderr


def test_pull_into_an_existing_tree_keeps_legacy_files(instance: Instance, tmp_path: Path) -> None:
    repo = workdir(tmp_path, CORPUS / "seed-openai-v17")
    instance.run("deploy", "--dir", repo, "--yes")
    before = tree_bytes(repo)

    instance.run("pull", "--dir", repo)

    after = tree_bytes(repo)
    legacy = [p for p in before if "/portalTemplates/" in p or "/templates/" in p]
    assert legacy and all(after.get(p) == before[p] for p in legacy)
