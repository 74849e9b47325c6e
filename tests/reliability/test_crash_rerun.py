"""2. Crash and re-run.

- ``deploy`` (through the management API) killed with SIGKILL at 10 points of a full
  deploy of W(10) (188 resources), each on a fresh instance, then run again: every re-run
  converges to an empty plan and the instance holds what the files hold, nothing else.
  The kill points are counts of resources the instance holds (read from the emulator's
  store while the deploy runs); the first is during the initial read, before any write.
  Two cycles run at a time, on two instances.
- ``deploy --via git`` with the emulator killed with SIGKILL at 4 points of the deploy
  (during the push, as the tenant ``deploy`` operation is asked for, during it, as it
  ends), then restarted on the same data: the instance is either entirely as before
  that deploy or entirely as after it, and running the deploy again converges.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Kind
from apimsync.plan.diff import compute_plan
from apimsync.targets.sdk import read_instance
from apimsync.workspace import load_desired
from tests.reliability.helpers import (
    Cli,
    comes_with_instance,
    figure,
    stored_ids,
    synthetic,
    target_of,
    write_synthetic,
)

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

APIS = 10
POINTS = (0.0, 0.02, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95)
"""Where to kill, as a share of the resources the deploy creates (0: while it reads)."""
SERVICES = tuple(f"crash{n}" for n in range(len(POINTS)))
GIT_SERVICE = "crashgit"
GIT_POINTS = (("Pushing", 0.05), ("Deploy:", 0.0), ("Deploy:", 0.06), ("Deploy:", 0.15))
"""When to kill the emulator: this long after the deploy printed this (``--verbose``):
during the push, as the tenant deploy operation is asked for, during it, as it ends."""
PORTAL = frozenset({Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION})


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    data = tmp_path_factory.mktemp("crash-emulator")
    with EmulatorProcess(data, mode="subprocess", services=SERVICES) as running:
        yield running


def _plan_is_empty(connection: Path, service: str, repo: Path) -> bool:
    live = read_instance(target_of(connection, service))
    desired = load_desired(repo).configuration
    plan = compute_plan(desired, live.configuration, ignore_kinds=live.unsupported | PORTAL)
    return plan.is_empty


def test_deploy_killed_at_ten_points_converges_on_rerun(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    desired = write_synthetic(APIS, repo)
    wanted = {r.id for r in desired if not comes_with_instance(r)}
    connection = emulator.data_dir / "connection.json"

    def cycle(point: float, service: str) -> str:
        cli = Cli(connection, service)
        held_at_kill = _kill_at(cli, repo, emulator.data_dir, service, round(point * len(wanted)))
        rerun = cli.run("deploy", "--dir", repo, "--yes")
        held = stored_ids(emulator.data_dir, service)
        assert _plan_is_empty(connection, service, repo), (point, rerun.stdout[-2000:])
        assert held == wanted, (point, sorted(wanted ^ held)[:10])
        return f"{held_at_kill}"

    with ThreadPoolExecutor(2) as pool:
        held = list(pool.map(cycle, POINTS, SERVICES))

    figure(
        "2 crash and re-run",
        f"deploy of W({APIS}) = {len(wanted)} resources SIGKILLed at {len(POINTS)} points "
        f"(resources live at the kill: {', '.join(held)}); every re-run converged to an "
        "empty plan, nothing missing or extra",
    )


def _kill_at(cli: Cli, repo: Path, data_dir: Path, service: str, resources: int) -> int:
    """Start a full deploy and SIGKILL it once the instance holds ``resources`` of it
    (0: as soon as it says it is reading); how many it held once the dust settled."""
    process = cli.start("deploy", "--dir", repo, "--yes")
    said = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if resources == 0:
                said += _available(process)
                if b"Reading" in said:
                    break
            elif len(stored_ids(data_dir, service)) >= resources:
                break
            assert process.poll() is None, "the deploy ended before the kill point"
            time.sleep(0.003)
        else:
            pytest.fail("the kill point was never reached")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    time.sleep(0.2)  # writes in flight when it died reach the store
    return len(stored_ids(data_dir, service))


def _available(process: subprocess.Popen[str]) -> bytes:
    """What the process has written to stderr since the last call (without blocking)."""
    assert process.stderr is not None
    descriptor = process.stderr.fileno()
    ready, _, _ = select.select([descriptor], [], [], 0)
    return os.read(descriptor, 65536) if ready else b""


# -- the emulator killed during a git deploy --------------------------------------------


def _git(directory: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=directory,
        capture_output=True,
        check=True,
    )


def _commit_version(repo: Path, version: int) -> Path:
    """W(8) where every API's display name and every backend's URL name ``version``."""
    configuration = synthetic(8)
    changed = [
        r.with_properties(displayName=f"{r.get('displayName')} v{version}")
        if r.kind is Kind.API
        else r.with_properties(url=f"https://v{version}.example.test/api")
        for r in configuration.of_kind(Kind.API, Kind.BACKEND)
    ]
    layout = read_tree(repo).layout if (repo / "api-management").is_dir() else None
    write_tree(configuration.with_resources(*changed), repo, layout)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", f"version {version}", "--allow-empty")
    return repo


def test_emulator_killed_during_a_git_deploy_leaves_before_or_after(tmp_path: Path) -> None:
    data = tmp_path / "emulator"
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    outcomes = []
    emulator = EmulatorProcess(data, mode="subprocess", services=(GIT_SERVICE,))
    emulator.start()
    try:
        connection = data / "connection.json"
        cli = Cli(connection, GIT_SERVICE)
        cli.run("deploy", "--dir", _commit_version(repo, 0), "--via", "git", "--yes")
        for number, (trigger, delay) in enumerate(GIT_POINTS, start=1):
            before = tmp_path / f"before{number}"
            _git(tmp_path, "clone", "-q", str(repo), str(before))
            _commit_version(repo, number)
            process = cli.start("deploy", "--dir", repo, "--via", "git", "--yes", "--verbose")
            said = b""
            while trigger.encode() not in said and process.poll() is None:
                said += _available(process)
                time.sleep(0.002)
            time.sleep(delay)
            os.kill(emulator.connection.pid, signal.SIGKILL)
            emulator.stop()
            process.communicate(timeout=300)
            emulator = EmulatorProcess(data, mode="subprocess", services=(GIT_SERVICE,))
            emulator.start()

            as_before = _plan_is_empty(connection, GIT_SERVICE, before)
            as_after = _plan_is_empty(connection, GIT_SERVICE, repo)
            cli.run("deploy", "--dir", repo, "--via", "git", "--yes")
            converged = _plan_is_empty(connection, GIT_SERVICE, repo)
            state = "before" if as_before else "after" if as_after else "PARTIAL"
            outcomes.append(f"{delay * 1000:.0f} ms after '{trigger}': {state}")
            assert as_before or as_after, outcomes[-1]
            assert converged
    finally:
        emulator.stop()

    figure(
        "2 emulator killed during git deploy",
        "W(8), every API and backend changed; emulator SIGKILLed and restarted "
        + "; ".join(outcomes)
        + "; the instance was entirely before or after, and each re-run converged",
    )
