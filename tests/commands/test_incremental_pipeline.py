"""The GitHub template's incremental pattern, run for real: its plan, deploy and tag steps
in bash, with real git (a bare "origin" the runs clone and push the tag to), the
installed ``apimsync`` and the emulator. Only Azure sign-in is left out (the emulator's
connection file stands in for it), as the steps themselves cannot be run on GitHub here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from tests.conftest import REPO
from tests.gitrepos import ROUND_ROBIN, committed_copy, git

TEMPLATE = REPO / "examples" / "pipelines" / "github" / "apimsync-deploy.yml"
ENVIRONMENT = "dev"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=("ci",)) as running:
        yield running


def job_steps(job: str) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    return {step.get("name", ""): step for step in document["jobs"][job]["steps"]}


def job_env(job: str, full: bool) -> dict[str, str]:
    document = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    return {
        key: expressions(str(value), full) for key, value in document["jobs"][job]["env"].items()
    }


def expressions(text: str, full: bool) -> str:
    """The template's ``${{ ... }}`` expressions as GitHub would expand them here."""
    values = {"inputs.environment": ENVIRONMENT, "inputs.full": "true" if full else "false"}
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values.get(m.group(1), ""), text)


class Run:
    """One workflow run: a fresh clone of origin at its head, as actions/checkout makes it."""

    def __init__(self, origin: Path, work: Path, emulator: EmulatorProcess, full: bool) -> None:
        self.full = full
        self.root = work
        git(origin.parent, "clone", "-q", str(origin), str(work))
        self.sha = git(work, "rev-parse", "HEAD").strip()
        self.summary = work.parent / f"{work.name}-summary.md"
        self.base_env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json"),
            "APIMSYNC_SERVICE": "ci",
            "GITHUB_SHA": self.sha,
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GIT_AUTHOR_NAME": "ci",
            "GIT_AUTHOR_EMAIL": "ci@example.test",
            "GIT_COMMITTER_NAME": "ci",
            "GIT_COMMITTER_EMAIL": "ci@example.test",
        }

    def step(self, job: str, name: str) -> subprocess.CompletedProcess[str]:
        script = expressions(job_steps(job)[name]["run"], self.full)
        environment = {**self.base_env, **job_env(job, self.full)}
        for key in ("APIMSYNC_SUBSCRIPTION", "APIMSYNC_RESOURCE_GROUP"):
            environment.pop(key, None)  # the emulator's connection file names them
        environment["APIMSYNC_SERVICE"] = "ci"
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def plan_and_deploy(self) -> dict[str, Any]:
        self.step("plan", "Plan (what changed since the last deploy) and save the plan")
        saved: dict[str, Any] = json.loads((self.root / "plan.json").read_text("utf-8"))
        self.step("deploy", "Deploy the saved plan")
        self.step("deploy", "Mark the deployed commit")
        return saved


def test_the_first_run_plans_everything_then_only_what_changed(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    source = committed_copy(tmp_path / "source")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(origin))
    counters = RequestCounters(emulator.connection)
    tag = f"apimsync-deployed/{ENVIRONMENT}"

    first = Run(origin, tmp_path / "run1", emulator, full=False).plan_and_deploy()
    tagged_first = git(origin, "rev-parse", f"{tag}^{{commit}}").strip()

    policy = source / ROUND_ROBIN
    policy.write_text(
        policy.read_text("utf-8").replace(
            "</inbound>",
            '<set-header name="x-ci" exists-action="override"><value>1</value>'
            "</set-header></inbound>",
            1,
        ),
        encoding="utf-8",
    )
    git(source, "commit", "-qam", "one policy")
    git(source, "push", "-q", str(origin), "HEAD:main")
    counters.reset()
    second_run = Run(origin, tmp_path / "run2", emulator, full=False)
    second = second_run.plan_and_deploy()
    requests, writes = counters.totals()
    third = Run(origin, tmp_path / "run3", emulator, full=True).plan_and_deploy()

    assert "changed_since" not in first and len(first["changes"]) > 20
    assert second["changed_since"] == {"since": tag, "commit": tagged_first}
    assert [c["id"] for c in second["changes"]] == [
        "/apis/open-ai/operations/chat-completions-round-robin/policies/policy"
    ]
    assert (requests, writes) == (3, 1)  # plan: 1 GET; deploy: 1 stale-plan check, 1 PUT
    assert git(origin, "rev-parse", f"{tag}^{{commit}}").strip() == second_run.sha
    assert "changed_since" not in third and third["changes"] == []
