"""Property: deploying only what changed since a commit converges like a full deploy.

Hypothesis generates histories of 1-5 commits over a real export (seed-openai-v17,
eshop-v15), W(3), and W(3) in the APIOps layout (tests/histories.py): edits of
backends, policies and APIs, added and deleted backends, APIs and named values,
resources renamed (a new id) and folders moved (the same id), product links made and
removed, and the environment overlay changed. The start is
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
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given

from apimsync.commands.deploy import DeployOptions, deploy
from apimsync.commands.plan import PlanOptions, make_plan
from apimsync.emulator import EmulatorProcess
from apimsync.formats.scm.reader import read_tree
from apimsync.model import Configuration, Kind, Resource
from apimsync.output import Console
from apimsync.plan.changes import Action, Plan
from apimsync.plan.diff import compute_plan
from apimsync.plan.order import identity
from apimsync.targets.connection import resolve_target
from apimsync.targets.sdk import apply_plan
from tests.gitrepos import git
from tests.histories import (
    ENVIRONMENT,
    PINNED,
    Operation,
    commit_history,
    histories,
    history_settings,
    read_at,
    write_start,
)

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

EXAMPLES = int(os.environ.get("APIMSYNC_PROPERTY_EXAMPLES", "3"))
SOURCES = ("seed-openai-v17", "eshop-v15", "W(3)", "apiops:W(3)")
SERVICES = tuple(f"prop{n}" for n in range(max(12, 4 * EXAMPLES * len(SOURCES))))


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
    @history_settings(EXAMPLES)
    @given(history=histories)
    def run(history: list[list[Operation]]) -> None:
        check_history(emulator, tmp_path_factory.mktemp("history"), source, history, False)

    run()


@pytest.mark.parametrize("source", SOURCES)
def test_drift_outside_the_history_is_left_alone(
    source: str, emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    @history_settings(max(1, EXAMPLES // 2))
    @given(history=histories)
    def run(history: list[list[Operation]]) -> None:
        check_history(emulator, tmp_path_factory.mktemp("drift"), source, history, True)

    run()
