"""Property: deploying only what changed since a commit converges like a full deploy.

Hypothesis generates histories of 1-5 commits over a real export (seed-openai-v17,
eshop-v15) and W(3): edits of backends, policies and APIs, added and deleted backends,
APIs and named values, resources renamed (a new id) and folders moved (the same id),
product links made and removed, and the environment overlay changed. The start is
deployed in full (``deploy --env test``); then ``deploy --changed-since START --prune``;
afterwards a full plan is empty (see below) and the instance holds nothing the files
deleted. With drift, a resource the history did not touch is
also changed on the instance first: the partial deploy leaves it alone, says that it
does not see drift, and the full plan afterwards holds exactly that one change.

Everything is real: the git command, apimsync's reader and writer for the files, the
command functions in this process (no start-up per run), the SDK client over HTTPS and
the emulator. Revision switches are not generated: on this branch a full deploy of an
export holding API revisions does not converge in the emulator either (a second full
plan is not empty), so no partial deploy could. For the same reason the full plan after
the partial deploy is compared with the full plan after a full deploy on top of it: the
changes a full deploy cannot make either (API schemas the emulator answers in another
form, at this commit) are the only ones it may hold.

``APIMSYNC_PROPERTY_EXAMPLES`` (default 3) sets the examples per source.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from apimsync.commands.deploy import DeployOptions, deploy
from apimsync.commands.plan import PlanOptions, make_plan
from apimsync.emulator import EmulatorProcess
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, Kind, Resource, make_resource
from apimsync.output import Console
from apimsync.plan.changes import Action, Plan
from apimsync.plan.diff import compute_plan
from apimsync.plan.order import identity
from apimsync.targets.connection import resolve_target
from apimsync.targets.sdk import apply_plan
from tests.conftest import CORPUS
from tests.gitrepos import git
from tests.reliability.helpers import synthetic
from tests.targets.conftest import NAMED_VALUE_REFERENCE

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

EXAMPLES = int(os.environ.get("APIMSYNC_PROPERTY_EXAMPLES", "3"))
SOURCES = ("seed-openai-v17", "eshop-v15", "W(3)")
SERVICES = tuple(f"prop{n}" for n in range(max(12, 4 * EXAMPLES * len(SOURCES))))
ENVIRONMENT = "test"
OVERLAID_BACKEND = "/backends/overlaid"
OVERLAID_VALUE = "/namedValues/overlaid"
PINNED = {OVERLAID_BACKEND, OVERLAID_VALUE}

OPERATIONS = (
    "edit-backend",
    "edit-policy",
    "edit-api",
    "add-backend",
    "delete-backend",
    "rename-backend",
    "move-folder",
    "add-api",
    "delete-api",
    "add-named-value",
    "delete-named-value",
    "link-product",
    "unlink-product",
    "edit-overlay",
)
Operation = tuple[str, int, int]
operations = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 999), st.integers(0, 99999))
histories = st.lists(st.lists(operations, min_size=1, max_size=4), min_size=1, max_size=5)
PHASES = (Phase.explicit, Phase.generate)
"""No shrinking: each example takes seconds, shrinking one takes many minutes. A failure
is reported as generated (its history is printed)."""


# -- the instance and the commands -----------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp("emulator")
    with (
        EmulatorProcess(folder, services=SERVICES) as running,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("APIMSYNC_CONNECTION", str(running.data_dir / "connection.json"))
        patch.setenv("CI", "true")
        yield running


@dataclass
class Commands:
    """apimsync's command functions for one repository and one instance."""

    root: Path
    service: str
    output: io.StringIO

    def deploy(self, *, since: str | None = None, prune: bool = False) -> str:
        options = DeployOptions(prune=prune, yes=True, environment=ENVIRONMENT, changed_since=since)
        start = self.output.tell()
        code = deploy(self.root, self._target(), options, self._console(), lambda _: True)
        assert code == 0, self.output.getvalue()[start:]
        return self.output.getvalue()[start:]

    def full_plan(self) -> Plan:
        target = resolve_target(self._target(), os.environ, self.root)
        options = PlanOptions(environment=ENVIRONMENT)
        return make_plan(self.root, target, options, self._console())

    def _target(self) -> dict[str, str | None]:
        return {"service": self.service}

    def _console(self) -> Console:
        return Console(out=self.output, err=self.output)


# -- the files -------------------------------------------------------------------------


def start_configuration(source: str) -> Configuration:
    if source.startswith("W("):
        configuration = synthetic(int(source[2:-1]))
    else:
        configuration = read_tree(CORPUS / source).configuration
    pinned = [
        make_resource(OVERLAID_BACKEND, {"url": "https://base.example.test", "protocol": "http"}),
        make_resource(OVERLAID_VALUE, {"displayName": "overlaid", "value": "base"}),
    ]
    return with_named_values(configuration.with_resources(*pinned))


def with_named_values(configuration: Configuration) -> Configuration:
    """``configuration`` with a plain named value for each ``{{name}}`` any resource holds
    (policies, backend credentials) that it does not define: the exports keep none."""
    defined = {
        str(r.get("displayName") or r.name).casefold()
        for r in configuration.of_kind(Kind.NAMED_VALUE)
    }
    text = json.dumps([r.to_json() for r in configuration])
    wanted = {
        name.casefold(): name
        for name in NAMED_VALUE_REFERENCE.findall(text)
        if name.casefold() not in defined
    }
    return configuration.with_resources(
        *(
            make_resource(f"/namedValues/{name}", {"displayName": name, "value": "placeholder"})
            for name in wanted.values()
        )
    )


def write_start(source: str, root: Path) -> None:
    if not source.startswith("W("):
        shutil.copytree(CORPUS / source / "api-management", root / "api-management")
    layout = read_tree(root).layout if (root / "api-management").is_dir() else None
    write_tree(start_configuration(source), root, layout)
    write_overlay(root, 0)
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")


def write_overlay(root: Path, salt: int) -> None:
    document = {
        "resources": {
            OVERLAID_BACKEND: {"url": f"https://overlay-{salt}.example.test"},
            OVERLAID_VALUE: {"value": f"overlay-{salt}"},
        }
    }
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / f"{ENVIRONMENT}.json").write_text(json.dumps(document, indent=2), encoding="utf-8")


class Editor:
    """Applies generated operations to the files of one commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        read = read_tree(root)
        self.configuration = read.configuration
        self.layout = read.layout
        self.moves: list[int] = []
        self.overlay: int | None = None

    def apply(self, operation: Operation) -> None:
        name, index, salt = operation
        handler: Callable[[int, int], None] = getattr(self, "_" + name.replace("-", "_"))
        handler(index, salt)

    def finish(self) -> None:
        write_tree(self.configuration, self.root, self.layout)
        for index in self.moves:
            self._moved(index)
        if self.overlay is not None:
            write_overlay(self.root, self.overlay)

    # -- operations on the model -----------------------------------------------------

    def _pick(self, kind: Kind, index: int, *, free: bool = False) -> Resource | None:
        found = sorted(
            (r for r in self.configuration.of_kind(kind) if r.id not in PINNED),
            key=lambda r: r.id,
        )
        if free:
            found = [r for r in found if not self._referenced(r)]
        return found[index % len(found)] if found else None

    def _referenced(self, resource: Resource) -> bool:
        """Whether another resource names it: a policy's backend-id or {{named value}},
        a pool's member."""
        text = json.dumps(
            [r.to_json() for r in self.configuration if r.id != resource.id]
        ).casefold()
        name = resource.name.casefold()
        if resource.kind is Kind.BACKEND:
            return f'backend-id=\\"{name}\\"' in text or f'"/backends/{name}"' in text
        names = {name, str(resource.get("displayName", "")).casefold()}
        return any("{{" + n + "}}" in text for n in names if n)

    def _replace(self, resource: Resource, **changes: object) -> None:
        self.configuration = self.configuration.with_resources(resource.with_properties(**changes))

    def _edit_backend(self, index: int, salt: int) -> None:
        backend = self._pick(Kind.BACKEND, index)
        if backend is not None and backend.get("type") != "Pool":
            self._replace(backend, url=f"https://edited-{salt}.example.test")

    def _edit_policy(self, index: int, salt: int) -> None:
        policy = self._pick(Kind.POLICY, index)
        if policy is None or "<inbound>" not in str(policy.get("value")):
            return
        header = (
            f'<set-header name="x-edit-{salt}" exists-action="override">'
            f"<value>{salt}</value></set-header>"
        )
        value = str(policy.get("value")).replace("<inbound>", "<inbound>" + header, 1)
        self._replace(policy, value=value)

    def _edit_api(self, index: int, salt: int) -> None:
        api = self._pick(Kind.API, index)
        if api is not None and ";rev=" not in api.id:
            self._replace(api, description=f"Edited {salt}")

    def _add_backend(self, index: int, salt: int) -> None:
        self.configuration = self.configuration.with_resources(
            make_resource(
                f"/backends/added-{salt}",
                {"url": f"https://added-{salt}.example.test", "protocol": "http"},
            )
        )

    def _delete_backend(self, index: int, salt: int) -> None:
        backend = self._pick(Kind.BACKEND, index, free=True)
        if backend is not None:
            self.configuration = self.configuration.without(backend.id)

    def _rename_backend(self, index: int, salt: int) -> None:
        backend = self._pick(Kind.BACKEND, index, free=True)
        if backend is not None:
            renamed = make_resource(f"/backends/renamed-{salt}", backend.properties)
            self.configuration = self.configuration.without(backend.id).with_resources(renamed)

    def _move_folder(self, index: int, salt: int) -> None:
        self.moves.append(index)

    def _moved(self, index: int) -> None:
        """Move a backend's folder: a new file name, the same resource."""
        folders = sorted(p for p in (self.root / "api-management/backends").glob("*") if p.is_dir())
        if folders:
            folder = folders[index % len(folders)]
            folder.rename(folder.with_name(folder.name + "-moved"))

    def _add_api(self, index: int, salt: int) -> None:
        api_id = f"/apis/added-{salt}"
        self.configuration = self.configuration.with_resources(
            make_resource(
                api_id,
                {"displayName": f"Added {salt}", "path": f"added/{salt}", "protocols": ["https"]},
            ),
            make_resource(
                f"{api_id}/operations/get",
                {"displayName": "Get", "method": "GET", "urlTemplate": "/items"},
            ),
        )

    def _delete_api(self, index: int, salt: int) -> None:
        api = self._pick(Kind.API, index)
        if (
            api is not None
            and ";rev=" not in api.id
            and not self.configuration.revisions(api.id)[1:]
        ):
            self.configuration = self.configuration.without(api.id)

    def _add_named_value(self, index: int, salt: int) -> None:
        self.configuration = self.configuration.with_resources(
            make_resource(
                f"/namedValues/added-{salt}", {"displayName": f"added-{salt}", "value": str(salt)}
            )
        )

    def _delete_named_value(self, index: int, salt: int) -> None:
        named_value = self._pick(Kind.NAMED_VALUE, index, free=True)
        if named_value is not None:
            self.configuration = self.configuration.without(named_value.id)

    def _link_product(self, index: int, salt: int) -> None:
        product = self._pick(Kind.PRODUCT, index)
        api = self._pick(Kind.API, salt)
        if product is None or api is None or ";rev=" in api.id:
            return
        linked = {str(r.get("apiId")).casefold() for r in self.configuration.children(product.id)}
        if api.id.casefold() not in linked:
            link = make_resource(f"{product.id}/apiLinks/{api.name}", {"apiId": api.id})
            self.configuration = self.configuration.with_resources(link)

    def _unlink_product(self, index: int, salt: int) -> None:
        link = self._pick(Kind.PRODUCT_API_LINK, index)
        if link is not None:
            self.configuration = self.configuration.without(link.id)

    def _edit_overlay(self, index: int, salt: int) -> None:
        self.overlay = salt


def commit_history(root: Path, history: list[list[Operation]]) -> None:
    for number, commit in enumerate(history, 1):
        editor = Editor(root)
        for operation in commit:
            editor.apply(operation)
        editor.finish()
        git(root, "add", "-A")
        status = subprocess.run(
            ["git", "diff", "--cached", "--quiet"], cwd=root, check=False
        ).returncode
        if status:
            git(root, "commit", "-q", "-m", f"commit {number}")


# -- the property ----------------------------------------------------------------------

_examples = itertools.count()


def new_repository(emulator: EmulatorProcess, tmp: Path, source: str) -> Commands:
    """The start committed, and deployed in full to a fresh instance (hypothesis does
    not shrink here, so there is one per example)."""
    number = next(_examples)
    assert number < len(SERVICES), "more examples than instances"
    root = tmp / f"repo-{number}"
    write_start(source, root)
    commands = Commands(root, SERVICES[number], io.StringIO())
    commands.deploy()
    return commands


def changes_of(plan: Plan) -> set[tuple[Action, str]]:
    return {(c.action, c.resource_id) for c in plan.changes}


def drift_target(commands: Commands, start: str) -> Resource | None:
    """A backend of the instance the history did not touch (nor anything near it)."""
    before = read_at(commands.root, start)
    after = read_tree(commands.root).configuration
    touched = {identity(r.id) for r in after if before.get(r.id) != r}
    touched |= {identity(r.id) for r in before if after.get(r.id) is None}
    candidates = [
        r
        for r in after.of_kind(Kind.BACKEND)
        if identity(r.id) not in touched and r.id not in PINNED and r.get("type") != "Pool"
    ]
    return candidates[0] if candidates else None


def read_at(root: Path, commit: str) -> Configuration:
    scratch = root.parent / f"{root.name}-at-{commit[:8]}"
    git(root, "worktree", "add", "-q", "--detach", str(scratch), commit)
    try:
        return read_tree(scratch).configuration
    finally:
        git(root, "worktree", "remove", "--force", str(scratch))


def check_history(
    emulator: EmulatorProcess, tmp: Path, source: str, history: list[list[Operation]], drift: bool
) -> None:
    commands = new_repository(emulator, tmp, source)
    start = git(commands.root, "rev-parse", "HEAD").strip()
    instance_own = set(commands.full_plan().unmanaged)
    commit_history(commands.root, history)
    drifted = drift_target(commands, start) if drift else None
    if drifted is not None:
        moved = drifted.with_properties(url="https://drifted.example.test")
        plan = compute_plan(Configuration([moved]), Configuration([drifted]))
        target = resolve_target({"service": commands.service}, os.environ, commands.root)
        assert apply_plan(target, plan).ok

    shown = commands.deploy(since=start, prune=True)
    after = commands.full_plan()
    commands.deploy()
    beyond_a_full_deploy = commands.full_plan()

    assert "Partial plan" in shown or "No changes." in shown
    # Nothing the history deleted is left: what the files do not hold is the instance's own.
    assert set(after.unmanaged) == instance_own
    # What the full plan still holds, a full deploy cannot do either (nothing, once the
    # emulator takes back what it answers); plus the drift the partial deploy left alone.
    expected = changes_of(beyond_a_full_deploy)
    if drifted is not None:
        assert "drift" in shown
        expected.add((Action.UPDATE, drifted.id))
    assert changes_of(after) == expected


@pytest.mark.parametrize("source", SOURCES)
def test_incremental_deploys_leave_a_full_plan_empty(
    source: str, emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(history=histories)
    def run(history: list[list[Operation]]) -> None:
        check_history(emulator, tmp_path_factory.mktemp("history"), source, history, False)

    run()


@pytest.mark.parametrize("source", SOURCES)
def test_drift_outside_the_history_is_left_alone(
    source: str, emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    @settings(
        max_examples=max(1, EXAMPLES // 2),
        deadline=None,
        database=None,
        phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(history=histories)
    def run(history: list[list[Operation]]) -> None:
        check_history(emulator, tmp_path_factory.mktemp("drift"), source, history, True)

    run()
