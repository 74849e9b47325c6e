"""3. Concurrent pipelines: two ``deploy --plan`` runs started together against one
instance, with saved plans that both change ``/backends/backend-00000`` (and each one
named value of its own), round after round.

What the README promises ("Saved plans and concurrent pipelines"): a deploy whose plan is
stale refuses before writing anything, with a "stale plan" message naming the resource;
when both pass that check at the same time, ``If-Match`` lets at most one write the
shared resource and the other reports a stale-plan failure for it; no update is lost.
Checked here against the reports of both runs and the emulator's store.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, make_resource
from tests.reliability.helpers import Cli, figure, stored

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

ROUNDS = 5
SERVICE = "pipelines"
SHARED = "/backends/backend-00000"
OWN = {"a": "/namedValues/nv-00000", "b": "/namedValues/nv-00001"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    data = tmp_path_factory.mktemp("pipelines-emulator")
    with EmulatorProcess(data, mode="subprocess", services=(SERVICE,)) as running:
        yield running


def test_two_deploys_of_plans_touching_one_resource(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    base = tmp_path / "base"
    write_tree(_configuration(), base)
    cli = Cli(emulator.data_dir / "connection.json", SERVICE)
    cli.run("deploy", "--dir", base, "--yes", "--quiet")
    paths = Counter[str]()

    for round_number in range(ROUNDS):
        before = stored(emulator.data_dir, SERVICE)
        plans = {side: tmp_path / f"{side}{round_number}.plan.json" for side in ("a", "b")}
        for side in ("a", "b"):
            folder = tmp_path / f"{side}{round_number}"
            shutil.copytree(base, folder)
            _edit(folder, SHARED, "url", f"https://{side}{round_number}.example.test/api")
            _edit(folder, OWN[side], "value", f"{side}-value-{round_number}")
        planning = [
            cli.start("plan", "--dir", tmp_path / f"{side}{round_number}", "--out", plans[side])
            for side in ("a", "b")
        ]
        assert all(p.wait(timeout=300) == 0 for p in planning), [p.communicate() for p in planning]

        running = {
            side: cli.start(
                "deploy",
                "--dir",
                tmp_path / f"{side}{round_number}",
                "--plan",
                plans[side],
                "--format",
                "json",
            )
            for side in ("a", "b")
        }
        finished = {side: (p.wait(timeout=300), *p.communicate()) for side, p in running.items()}
        after = stored(emulator.data_dir, SERVICE)

        outcome = {side: _outcome(*result) for side, result in finished.items()}
        writers = [side for side in outcome if outcome[side] == "applied"]
        assert len(writers) <= 1, finished
        assert all(
            outcome[side] in ("applied", "refused before writing", "stale at write")
            for side in outcome
        ), finished
        for side, (_, stdout, stderr) in finished.items():
            if outcome[side] != "applied":
                assert SHARED in stderr + stdout and "stale plan" in stderr + stdout, stderr
        # No update lost: the shared value is the writer's; each side's own change is live
        # exactly when its deploy applied it; nothing else changed.
        shared_url = after[SHARED]["url"]
        expected = f"https://{writers[0]}{round_number}.example.test/api" if writers else None
        assert shared_url == (expected or before[SHARED]["url"])
        for side, (_, stdout, _) in finished.items():
            applied = json.loads(stdout)["applied"] if stdout.strip() else []
            live_value = after[OWN[side]]["value"]
            assert (live_value == f"{side}-value-{round_number}") == (OWN[side] in applied)
            if outcome[side] == "refused before writing":
                assert live_value == before[OWN[side]]["value"]
        paths[" / ".join(sorted(outcome.values()))] += 1
        base = tmp_path / f"{writers[0]}{round_number}" if writers else base
        cli.run("deploy", "--dir", base, "--yes", "--quiet")  # converge for the next round

    figure(
        "3 concurrent pipelines",
        f"{ROUNDS} rounds of two simultaneous 'deploy --plan' touching {SHARED}: "
        + ", ".join(f"{n}x [{path}]" for path, n in sorted(paths.items()))
        + "; never two writers, no lost update, the README's text matches",
    )


def _configuration() -> Configuration:
    return Configuration(
        [
            make_resource(SHARED, {"url": "https://start.example.test/api", "protocol": "http"}),
            *(
                make_resource(
                    resource_id, {"displayName": resource_id.rsplit("/", 1)[1], "value": "x"}
                )
                for resource_id in OWN.values()
            ),
        ]
    )


def _edit(root: Path, resource_id: str, key: str, value: str) -> None:
    """Set one property of the file whose ``id`` is ``resource_id``."""
    for path in root.rglob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(document, dict) and document.get("id") == resource_id:
            document[key] = value
            path.write_text(json.dumps(document, indent=2), encoding="utf-8")
            return
    raise AssertionError(f"no file holds {resource_id}")


def _outcome(code: int, stdout: str, stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    if code == 0:
        return "applied"
    if not stdout.strip():
        assert "nothing was changed" in stderr, stderr
        return "refused before writing"
    report = json.loads(stdout)
    stale = [f["id"] for f in report["failed"] if f["stale"]]
    assert stale == [SHARED], report
    return "stale at write"
