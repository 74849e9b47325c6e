"""plan checks the references the files leave to the instance, before any write.

A real export names named values that the scm layout cannot hold; validate can only warn.
Against an instance that lacks them, plan (and so deploy, before its first write) must
fail with one error per reference, naming the file, line and missing thing, instead of
planning cleanly and then failing half-way through the deploy.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from tests.reliability.helpers import Cli

SERVICES = tuple(f"refs{n}" for n in range(6))
EXPORT = "seed-openai-v17"
ERROR = re.compile(r"^(\S+):(\d+):(\d+): error unknown-named-value names named value '([^']+)'")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


@pytest.fixture(scope="module")
def services() -> Iterator[str]:
    return iter(SERVICES)


@pytest.fixture
def cli(emulator: EmulatorProcess, services: Iterator[str]) -> Cli:
    return Cli(emulator.data_dir / "connection.json", next(services))


@pytest.fixture
def export(tmp_path: Path, corpus_dir: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(corpus_dir / EXPORT / "api-management", target / "api-management")
    return target


def _offline_warnings(cli: Cli, directory: Path) -> list[tuple[str, str, str]]:
    result = cli.run("validate", directory, "--format", "json")
    return sorted(
        (f["path"], f"{f['line']}:{f['column']}", f["message"].split("'")[1])
        for f in json.loads(result.stdout)["findings"]
        if f["code"] == "unknown-named-value"
    )


def _plan_errors(output: str) -> list[tuple[str, str, str]]:
    found = [ERROR.match(line) for line in output.splitlines()]
    return sorted((m[1], f"{m[2]}:{m[3]}", m[4]) for m in found if m)


def _named_value(root: Path, name: str, display_name: str) -> None:
    folder = root / "api-management-extras" / "namedValues"
    folder.mkdir(parents=True, exist_ok=True)
    document = {"id": f"/namedValues/{name}", "displayName": display_name, "value": "v"}
    (folder / f"{name}.json").write_text(json.dumps(document))


def test_plan_and_deploy_fail_before_any_write_on_each_missing_named_value(
    cli: Cli, emulator: EmulatorProcess, export: Path
) -> None:
    counters = RequestCounters(emulator.connection)
    warned = _offline_warnings(cli, export)
    assert len(warned) == 9  # validate keeps its offline warning, and passes
    counters.reset()

    plan = cli.run("plan", "--dir", export, expect=1)
    deploy = cli.run("deploy", "--dir", export, "--yes", expect=1)

    assert _plan_errors(plan.stderr) == warned  # one error per reference, where it is
    assert _plan_errors(deploy.stderr) == warned
    assert "nothing was changed" in deploy.stderr
    assert "exists neither in the files nor on the instance" in plan.stderr
    assert counters.writes_by_route() == {}


def test_a_named_value_on_the_instance_resolves_by_display_name(
    cli: Cli, export: Path, tmp_path: Path
) -> None:
    on_instance = tmp_path / "instance"
    _named_value(on_instance, "openai-key-1", "openai-KEY")  # APIM ignores letter case
    _named_value(on_instance, "JWE-FUNCTION-CODE", "another-name")  # the id does not count
    (on_instance / "api-management").mkdir()
    cli.run("deploy", "--dir", on_instance, "--yes")

    result = cli.run("plan", "--dir", export, expect=1)

    missing = {name for _, _, name in _plan_errors(result.stderr)}
    assert "OpenAI-Key" not in missing
    assert "JWE-FUNCTION-CODE" in missing
    assert len(missing) == 9 - 1


def test_every_reference_resolved_on_the_instance_plans(
    cli: Cli, export: Path, tmp_path: Path
) -> None:
    on_instance = tmp_path / "instance"
    (on_instance / "api-management").mkdir(parents=True)
    for _, _, name in _offline_warnings(cli, export):
        _named_value(on_instance, name.lower(), name)
    cli.run("deploy", "--dir", on_instance, "--yes")

    result = cli.run("plan", "--dir", export)

    assert "to add" in result.stdout


def test_a_named_value_the_plan_prunes_does_not_resolve(
    cli: Cli, export: Path, tmp_path: Path
) -> None:
    on_instance = tmp_path / "instance"
    (on_instance / "api-management").mkdir(parents=True)
    for _, _, name in _offline_warnings(cli, export):
        _named_value(on_instance, name.lower(), name)
    cli.run("deploy", "--dir", on_instance, "--yes")

    kept = cli.run("plan", "--dir", export)
    pruned = cli.run("plan", "--dir", export, "--prune", expect=1)

    assert "error" not in kept.stderr
    assert len(_plan_errors(pruned.stderr)) == 9
    assert "(the plan deletes it)" in pruned.stderr
