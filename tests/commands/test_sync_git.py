"""pull, plan and deploy ``--via git``: the installed command, the real git, the emulator.

Each test takes fresh, empty instances of one emulator and runs ``python -m apimsync`` as
a user would. The live state a git deploy leaves is compared with the one the management
API path leaves on a second instance; failures must leave the instance (and, for a dirty
working tree, the repository) alone; the git password must show up nowhere.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.mgmt.apimanagement.models import BackendContract

from apimsync.commands.deploy import DeployOptions, DeployRefused, deploy
from apimsync.emulator import EmulatorProcess
from apimsync.emulator.store import Store
from apimsync.emulator.tokens import mint_git_password
from apimsync.formats.scm.reader import read_tree
from apimsync.model import Configuration, Kind
from apimsync.output import Console
from apimsync.plan.diff import compute_plan
from apimsync.targets.connection import Target
from apimsync.targets.sdk import apply_plan, read_instance
from apimsync.workspace import load_desired
from tests.commands.test_sync import EXAMPLE, SOURCES, Instance, git, workdir
from tests.conftest import CORPUS, one_export_by_default
from tests.targets.conftest import target_for

SERVICES = tuple(f"git{n}" for n in range(20))
PORTAL = frozenset({Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION})  # the emulator serves none
UNKNOWN_NAMED_VALUE = (
    "<policies>\n  <inbound>\n    <base />\n"
    '    <set-header name="x-test" exists-action="override">\n'
    "      <value>{{named-value-the-instance-lacks}}</value>\n    </set-header>\n"
    "  </inbound>\n  <backend>\n    <base />\n  </backend>\n"
    "  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n"
    "</policies>"
)
_fresh = itertools.count()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


def fresh(emulator: EmulatorProcess) -> Instance:
    return Instance(emulator, SERVICES[next(_fresh)])


def target(instance: Instance) -> Target:
    return target_for(instance.emulator.connection, instance.service)


def live(instance: Instance) -> Configuration:
    return read_instance(target(instance)).configuration


def assert_same(first: Configuration, second: Configuration) -> None:
    plan = compute_plan(first, second, ignore_kinds=PORTAL)
    assert plan.is_empty and not plan.unmanaged, (plan.changes, plan.unmanaged)


def deploy_via_git(instance: Instance, repo: Path, *extra: str, expect: int = 0) -> str:
    args = ("deploy", "--via", "git", "--branch", "master", "--dir", repo, "--yes", *extra)
    result = instance.run(*args, expect=expect)
    return result.stdout + result.stderr


# -- deploy ----------------------------------------------------------------------------


# The default run deploys the example through git; real exports go through the emulator's
# git deploy in tests/emulator/test_tenant_config.py, and end to end here with -m slow.
@pytest.mark.parametrize(
    "source", one_export_by_default(SOURCES, lambda source: source.name, kept=None)
)
def test_a_git_deploy_leaves_the_same_live_state_as_the_sdk_path(
    emulator: EmulatorProcess, source: Path, tmp_path: Path
) -> None:
    via_git, via_sdk = fresh(emulator), fresh(emulator)
    repo = workdir(tmp_path, source)

    output = deploy_via_git(via_git, repo)
    desired = load_desired(repo).configuration
    sdk_target = target(via_sdk)
    new = read_instance(sdk_target)
    # A git deploy makes the instance hold what the branch holds: the SDK path prunes.
    plan = compute_plan(desired, new.configuration, prune=True, ignore_kinds=new.unsupported)
    assert apply_plan(sdk_target, plan).ok

    assert "successfully deployed from master" in output
    # diagnostics of new APIs go after the deploy; the instance then reports the change
    assert "Sync state: in sync" in output or "After the deploy" in output
    assert_same(live(via_git), live(via_sdk))


def test_a_dirty_tree_is_refused_and_nothing_is_pushed(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = fresh(emulator)
    before = live(instance)
    repo = workdir(tmp_path, EXAMPLE)
    policy = repo / "api-management/policies/global.xml"
    policy.write_text(policy.read_text() + "\n<!-- not committed -->")
    changed = deploy_via_git(instance, repo, expect=2)
    git(repo, "checkout", "--", ".")
    (repo / "api-management/backends/new").mkdir()
    (repo / "api-management/backends/new/configuration.json").write_text("{}")
    untracked = deploy_via_git(instance, repo, expect=2)
    shutil.rmtree(repo / "api-management/backends/new")
    branch = instance.run("plan", "--via", "git", "--dir", repo, expect=1)

    assert "uncommitted changes" in changed and "policies/global.xml" in changed
    assert "uncommitted changes" in untracked and "backends/new" in untracked
    assert "branch 'master' does not exist" in branch.stderr
    assert "Nothing was pushed" in changed
    assert_same(live(instance), before)


def test_a_policy_the_service_refuses_fails_with_its_message(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = fresh(emulator)
    repo = workdir(tmp_path, CORPUS / "blank-v14")
    deploy_via_git(instance, repo)
    before = live(instance)
    layout = read_tree(repo).layout
    policy_id = next(p for p in sorted(layout.policy_files) if p.count("/") == 4)  # an API's
    policy_file = layout.policy_files[policy_id]
    api_file = layout.units[policy_id.removesuffix("/policies/policy")].main
    document = json.loads((repo / api_file).read_text(encoding="utf-8"))
    document["name"] = "Renamed by a deploy that must not happen"
    (repo / api_file).write_text(json.dumps(document, indent=2), encoding="utf-8")
    (repo / policy_file).write_text(UNKNOWN_NAMED_VALUE, encoding="utf-8")
    git(repo, "commit", "-qam", "name a named value the instance lacks")

    output = deploy_via_git(instance, repo, expect=1)

    assert f"deploy of branch 'master' failed: ValidationError: {policy_file}: " in output
    assert "named-value-the-instance-lacks" in output
    assert "Traceback" not in output
    assert_same(live(instance), before)


def test_deploy_off_a_terminal_without_yes_refuses(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = fresh(emulator)
    before = live(instance)
    repo = workdir(tmp_path, EXAMPLE)

    refused = instance.run("deploy", "--via", "git", "--dir", repo, expect=2)
    branch = instance.run("plan", "--via", "git", "--dir", repo, expect=1)

    assert "--yes" in refused.stderr and "nothing was pushed" in refused.stderr
    assert re.search(r"Plan: [1-9]\d* to add", refused.stderr)  # the plan, before asking
    assert "branch 'master' does not exist" in branch.stderr  # nothing left the machine
    assert_same(live(instance), before)


def move_backend(repo: Path, url: str) -> None:
    backend = repo / "api-management/backends/openaione/configuration.json"
    document = json.loads(backend.read_text())
    document["url"] = url
    backend.write_text(json.dumps(document, indent=2))
    git(repo, "commit", "-qam", "move a backend")


def test_a_refused_git_deploy_leaves_the_branch_where_it_was(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = fresh(emulator)
    repo = workdir(tmp_path, EXAMPLE)
    deploy_via_git(instance, repo)
    move_backend(repo, "https://openai-one-moved.example.test/openai")

    refused = instance.run("deploy", "--via", "git", "--dir", repo, expect=2)
    via_git = instance.run("plan", "--via", "git", "--dir", repo, "--detailed-exitcode", expect=2)
    via_sdk = instance.run("plan", "--dir", repo, "--detailed-exitcode", expect=2)

    assert "nothing was pushed" in refused.stderr
    assert "~ /backends/openaione" in refused.stderr and "openai-one-moved" in refused.stderr
    assert "No changes" not in refused.stderr  # the extras have none; the branch has one
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in refused.stderr
    for plan in (via_git, via_sdk):  # the branch did not move: both still show the change
        assert "~ /backends/openaione" in plan.stdout


def test_cancelling_at_the_prompt_pushes_nothing(emulator: EmulatorProcess, tmp_path: Path) -> None:
    instance = fresh(emulator)
    repo = workdir(tmp_path, EXAMPLE)
    deploy_via_git(instance, repo)
    move_backend(repo, "https://openai-one-cancelled.example.test/openai")
    questions: list[str] = []

    def decline(question: str) -> bool:
        questions.append(question)
        return False

    chosen = target(instance)
    settings = {
        "subscription": chosen.subscription,
        "resource_group": chosen.resource_group,
        "service": chosen.service,
        "endpoint": chosen.endpoint,
        "ca_bundle": chosen.ca_bundle,
        "token": chosen.token,
    }
    options = DeployOptions(via="git", interactive=True)
    with pytest.raises(DeployRefused) as refused:
        deploy(repo, settings, options, Console(quiet=True), confirm=decline)

    assert questions and refused.value.exit_code == 2
    assert str(refused.value) == "deploy cancelled; nothing was pushed"
    after = instance.run("plan", "--via", "git", "--dir", repo, "--detailed-exitcode", expect=2)
    assert "openai-one-cancelled" in after.stdout


def test_a_git_deploy_with_nothing_to_do_deploys_nothing(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = fresh(emulator)
    repo = workdir(tmp_path, EXAMPLE)
    deploy_via_git(instance, repo)
    instance.reset_counter()

    again = instance.run("deploy", "--via", "git", "--dir", repo, "--yes", "--format", "json")

    assert "No changes. The instance matches the configuration." in again.stderr
    report = json.loads(again.stdout)
    assert report["deploy"] == {
        "ok": True,
        "message": "No changes. The instance matches the configuration.",
    }
    routes = " ".join(instance._requests("GET").get("by_route", {}))
    assert "validate" in routes  # the branch already holds HEAD: the service checks it
    assert "deploy" not in routes, routes
    assert report["commit"] == report["syncState"]["commitId"]  # the branch did not move


# -- plan ------------------------------------------------------------------------------


def test_plan_via_git_diffs_the_files_with_the_branch(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = fresh(emulator)
    repo = workdir(tmp_path, EXAMPLE)
    deploy_via_git(instance, repo)
    same = instance.run("plan", "--via", "git", "--dir", repo, "--detailed-exitcode")
    backend = repo / "api-management/backends/openaione/configuration.json"
    document = json.loads(backend.read_text())
    document["url"] = "https://openai-one-new.example.test/openai"
    backend.write_text(json.dumps(document, indent=2))
    added = {"id": "/namedValues/added", "displayName": "added", "value": "x"}
    (repo / "api-management-extras/namedValues/added.json").write_text(json.dumps(added))
    rg = instance.emulator.connection.resource_group
    changed = BackendContract(url="https://changed-on-the-instance.example.test", protocol="http")
    target(instance).client().backend.create_or_update(rg, instance.service, "other", changed)

    plan = instance.plan_json(repo, "--via", "git")
    text = instance.run("plan", "--via", "git", "--dir", repo, "--detailed-exitcode", expect=2)

    assert "No changes" in same.stdout
    assert "the instance is not in sync with branch 'master'" in text.stderr  # "other"
    changes = plan["changes"]
    assert isinstance(changes, list)
    # the named value is not the repository's to hold: not planned
    assert [(c["action"], c["id"], c["changed_paths"]) for c in changes] == [
        ("update", "/backends/openaione", ["/url"])
    ]
    assert "openai-one-new.example.test" in text.stdout


# -- pull ------------------------------------------------------------------------------


def recording_git(folder: Path) -> tuple[Path, Path]:
    """A ``git`` that records its command line, then runs the real one: (bin, record)."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir()
    record = folder / "argv.txt"
    wrapper = folder / "git"
    wrapper.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{record}'\nexec '{real}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return folder, record


def passwords(instance: Instance, since: dt.datetime) -> list[str]:
    """Every git password the instance could have minted since ``since`` (an hour each)."""
    store = Store(instance.emulator.data_dir / "state.sqlite3")
    try:
        row = store.get(instance.service, "tenant/gitAccess")
        assert row is not None
        key = str(row.props["_primaryKey"])
    finally:
        store.close()
    minutes = int((dt.datetime.now(dt.UTC) - since).total_seconds() // 60) + 3
    start = since + dt.timedelta(hours=1, minutes=-1)
    return [mint_git_password("git", start + dt.timedelta(minutes=m), key) for m in range(minutes)]


def test_pull_via_git_clones_fast_forwards_and_leaks_no_password(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    started = dt.datetime.now(dt.UTC)
    instance = fresh(emulator)
    folder, record = recording_git(tmp_path / "bin")
    instance.env["PATH"] = f"{folder}:{instance.env['PATH']}"
    clone = tmp_path / "clone"

    first = instance.run("pull", "--via", "git", "--save", "--dir", clone, "--verbose")
    instance.run("validate", clone)
    rg = instance.emulator.connection.resource_group
    backend = BackendContract(url="https://added.example.test", protocol="http")
    target(instance).client().backend.create_or_update(rg, instance.service, "added", backend)
    second = instance.run("pull", "--via", "git", "--save", "--dir", clone, "--verbose")
    third = instance.run("pull", "--via", "git", "--dir", clone, "--verbose")

    assert "Cloned branch 'master'" in first.stdout
    assert "Fast-forwarded" in second.stdout
    assert (clone / "api-management/backends/added/configuration.json").is_file()
    assert "up to date" in third.stdout
    assert git(clone, "status", "--porcelain") == ""
    commands = record.read_text()
    assert "clone" in commands and "fetch" in commands
    places = {
        ".git/config": (clone / ".git" / "config").read_text(),
        "output": "".join(r.stdout + r.stderr for r in (first, second, third)),
        "emulator.log": (instance.emulator.data_dir / "emulator.log").read_text(),
        "git command lines": commands,
    }
    secrets = passwords(instance, started)
    for where, text in places.items():
        assert not re.search(r"git&\d{12}&", text), f"a git password appears in {where}"
        for secret in secrets:
            assert secret.rsplit("&", 1)[1] not in text, f"the git password appears in {where}"
