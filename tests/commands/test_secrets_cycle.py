"""No secret value leaves the environment: deploy, plan (every format), pull, --verbose.

A secret named value gets its value from ``APIMSYNC_SECRET_<NAME>`` at deploy time; this
drives the whole cycle against an emulator and then looks for the value everywhere
apimsync writes: its output, saved plans, the pulled files and ``.git/config``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from tests.gitrepos import committed_copy, git

SECRET = "s3cr3t-Value-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
VARIABLE = "APIMSYNC_SECRET_OPENAI_FALLBACK_KEY"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=("a", "b")) as running:
        yield running


def with_secret(root: Path) -> Path:
    """The starter plus a secret named value sent as the spill-over backend's api-key."""
    named_value = {
        "id": "/namedValues/openai-fallback-key",
        "displayName": "openai-fallback-key",
        "secret": True,
    }
    folder = root / "api-management-extras" / "namedValues"
    (folder / "openai-fallback-key.json").write_text(json.dumps(named_value, indent=2) + "\n")
    backend = root / "api-management" / "backends" / "openaifour" / "configuration.json"
    document = json.loads(backend.read_text())
    document["credentials"] = {"header": {"api-key": ["{{openai-fallback-key}}"]}}
    backend.write_text(json.dumps(document, indent=2) + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a secret named value")
    return root


class Runner:
    def __init__(self, emulator: EmulatorProcess, service: str, repo: Path) -> None:
        self.repo = repo
        self.outputs: list[str] = []
        self.env = {
            **os.environ,
            "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json"),
            "APIMSYNC_SERVICE": service,
            "CI": "true",
        }

    def __call__(self, *args: str, secret: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **({VARIABLE: SECRET} if secret else {})}
        result = subprocess.run(
            [sys.executable, "-m", "apimsync", *args, "--dir", str(self.repo)],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr, result.stderr
        return result


def test_the_secret_is_nowhere_but_on_the_instance(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    repo = with_secret(committed_copy(tmp_path / "repo"))
    run = Runner(emulator, "a", repo)
    plan_file = tmp_path / "plan.json"

    deployed = run("deploy", "--env", "dev", "--yes", "--prune", "--verbose", secret=True)
    backend = repo / "api-management" / "backends" / "openaifour" / "configuration.json"
    backend.write_text(backend.read_text().replace("openaifour.openai", "openaifour-2.openai"))
    git(repo, "commit", "-q", "-a", "-m", "move the spill-over backend")
    plans = [
        run("plan", "--env", "dev", "--verbose", "--format", f)
        for f in ("text", "json", "markdown")
    ]
    saved = run("plan", "--env", "dev", "--out", str(plan_file))
    applied = run("deploy", "--env", "dev", "--plan", str(plan_file), "--verbose", secret=True)
    pulled = run("pull", "--env", "dev", "--verbose")

    for result in (deployed, *plans, saved, applied, pulled):
        assert result.returncode == 0, result.stdout + result.stderr
    assert "(sensitive)" in plans[0].stdout or "openai-fallback-key" not in plans[0].stdout
    assert git(repo, "status", "--porcelain") == "", git(repo, "diff")
    written = [
        p for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts
    ]
    places = {str(p): p.read_bytes() for p in [*written, plan_file, repo / ".git" / "config"]}
    leaks = [where for where, data in places.items() if SECRET.encode() in data]
    leaks += [f"output {i}" for i, text in enumerate(run.outputs) if SECRET in text]
    assert leaks == []
    named_value = json.loads(
        (repo / "api-management-extras/namedValues/openai-fallback-key.json").read_text()
    )
    assert "value" not in named_value


def test_a_missing_secret_stops_the_deploy_naming_its_variable(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    repo = with_secret(committed_copy(tmp_path / "repo"))
    run = Runner(emulator, "b", repo)

    result = run("deploy", "--env", "dev", "--yes")
    after = run("plan", "--env", "dev", "--format", "json")

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("apimsync: error:")]
    assert len(errors) == 1 and VARIABLE in errors[0], result.stderr
    assert (
        json.loads(after.stdout)["summary"]["change"] == 1
    )  # nothing but the global policy written
