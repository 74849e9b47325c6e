"""An emulated instance to run ``python -m apimsync`` against, for the APIOps tests."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from apimsync.model import Configuration
from apimsync.targets.connection import Target
from apimsync.targets.sdk import read_instance
from tests.clirun import run_apimsync


class Instance:
    """One empty emulated APIM instance, and apimsync run against it as a user would."""

    def __init__(self, emulator: EmulatorProcess, service: str) -> None:
        self.connection = emulator.connection
        self.service = service
        self.env = {
            **os.environ,
            "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json"),
            "APIMSYNC_SERVICE": service,
            "CI": "true",
        }
        self.counters = RequestCounters(self.connection)

    def run(
        self, *args: str | Path, expect: int | None = 0, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return apimsync(*args, expect=expect, env={**self.env, **env})

    def plan_json(self, directory: Path, *extra: str, **env: str) -> dict[str, Any]:
        result = self.run("plan", "--dir", directory, "--format", "json", *extra, **env)
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def target(self) -> Target:
        return Target(
            subscription=self.connection.subscription_id,
            resource_group=self.connection.resource_group,
            service=self.service,
            endpoint=self.connection.endpoint,
            ca_bundle=self.connection.ca_bundle,
            token=self.connection.token,
        )

    def live(self) -> Configuration:
        return read_instance(self.target()).configuration


def apimsync(
    *args: str | Path, expect: int | None = 0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m apimsync ARGS`` as a user runs it (no terminal, ``CI`` set)."""
    return run_apimsync(*args, env=env or {**os.environ, "CI": "true"}, expect=expect)


def git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def commit_all(directory: Path, message: str) -> None:
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "--allow-empty", "-m", message)


def init_repository(directory: Path) -> Path:
    git(directory, "init", "-q", "-b", "main")
    commit_all(directory, "configuration")
    return directory
