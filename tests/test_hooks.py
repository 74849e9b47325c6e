"""Git hooks in real repositories: ``apimsync hooks install``, and the pre-commit framework."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from tests.conftest import REPO
from tests.gitrepos import ROUND_ROBIN, break_policy, committed_copy, git

VENV_BIN = str(Path(sys.executable).parent)


def apimsync(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apimsync", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def commit(
    repo: Path, message: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    git(repo, "add", "-A")
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.test",
            "commit",
            "-q",
            "-m",
            message,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return committed_copy(tmp_path / "repo")


def test_the_pre_commit_hook_refuses_an_invalid_commit_and_passes_a_valid_one(repo: Path) -> None:
    installed = apimsync(repo, "hooks", "install")
    break_policy(repo)
    refused = commit(repo, "forward-request in inbound")
    (repo / ROUND_ROBIN).write_text(git(repo, "show", f"HEAD:{ROUND_ROBIN}"))
    limits = repo / "api-management-extras/policyFragments/openai-usage-limits.xml"
    limits.write_text(limits.read_text().replace('calls="60"', 'calls="90"'))
    accepted = commit(repo, "more calls")

    assert installed.returncode == 0, installed.stderr
    assert refused.returncode != 0
    assert f"{ROUND_ROBIN}:9:3: error policy-section" in refused.stdout + refused.stderr
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert git(repo, "log", "--format=%s", "-1").strip() == "more calls"


def test_without_apimsync_the_hook_says_so_and_lets_the_commit_through(repo: Path) -> None:
    apimsync(repo, "hooks", "install")
    break_policy(repo)
    env = {**os.environ, "APIMSYNC_PYTHON": "/nonexistent/python", "PATH": "/usr/bin:/bin"}

    result = commit(repo, "no apimsync here", env=env)

    assert result.returncode == 0, result.stderr
    assert "apimsync is not installed" in result.stderr


def test_a_foreign_hook_is_kept_unless_forced(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho mine\n")

    refused = apimsync(repo, "hooks", "install")
    kept = hook.read_text()
    forced = apimsync(repo, "hooks", "install", "--force")

    assert refused.returncode == 2 and "--force" in refused.stderr
    assert kept == "#!/bin/sh\necho mine\n"
    assert forced.returncode == 0
    assert (hook.parent / "pre-commit.apimsync-backup").read_text() == kept
    assert "validate --staged" in hook.read_text()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path / "emulator") as running:
        yield running


def test_the_pre_push_hook_plans_each_pushed_commit(
    repo: Path, tmp_path: Path, emulator: EmulatorProcess
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    apimsync(repo, "hooks", "install", "--pre-push", "--env", "dev")
    env = {**os.environ, "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json")}
    push = ["git", "push", "-q", "origin", "main"]

    planned = subprocess.run(push, cwd=repo, capture_output=True, text=True, env=env, check=False)
    break_policy(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "broken")
    refused = subprocess.run(push, cwd=repo, capture_output=True, text=True, env=env, check=False)

    assert planned.returncode == 0, planned.stderr
    assert "Plan: " in planned.stdout + planned.stderr
    assert refused.returncode != 0
    assert "push refused" in refused.stderr and "policy-section" in refused.stderr


def test_the_pre_commit_framework_runs_the_hook_offline(repo: Path, tmp_path: Path) -> None:
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    shutil.copy(REPO / ".pre-commit-hooks.yaml", hook_repo)
    git(tmp_path, "init", "-q", "-b", "main", str(hook_repo))
    git(hook_repo, "add", "-A")
    git(hook_repo, "commit", "-q", "-m", "hooks")
    env = {
        **os.environ,
        "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_NO_INDEX": "1",
    }
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "apimsync-validate"]

    limits = repo / "api-management-extras/policyFragments/openai-usage-limits.xml"
    limits.write_text(limits.read_text().replace('calls="60"', 'calls="90"'))
    git(repo, "add", "-A")
    clean = subprocess.run(try_repo, cwd=repo, capture_output=True, text=True, env=env, check=False)
    break_policy(repo)
    git(repo, "add", "-A")
    broken = subprocess.run(
        try_repo, cwd=repo, capture_output=True, text=True, env=env, check=False
    )

    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "apimsync validate" in clean.stdout and "Passed" in clean.stdout
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"{ROUND_ROBIN}:9:3: error policy-section" in broken.stdout
