"""The stock ``git`` client against the emulator's scm endpoint.

The git password never appears in a URL or in a command line: git asks for it through a
``GIT_ASKPASS`` script that prints it from the ``APIM_GIT_PASSWORD`` environment
variable. Every command line run is kept (``GitClient.commands``) so tests can check that.
Git runs without the host's system and global configuration and trusts only the
emulator's CA.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.apimanagement.models import UserTokenParameters

from apimsync.emulator import Connection

PASSWORD_VARIABLE = "APIM_GIT_PASSWORD"
ASKPASS = """#!/bin/sh
case "$1" in
  Username*) echo apim ;;
  *) printf '%s\\n' "$APIM_GIT_PASSWORD" ;;
esac
"""


def mint_password(client: ApiManagementClient, rg: str, svc: str, days: int = 1) -> str:
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    parameters = UserTokenParameters(key_type="primary", expiry=expiry)
    token = client.user.get_shared_access_token(rg, svc, "git", parameters)
    return str(token.value)


@dataclass
class GitClient:
    """Runs git with the password in the environment only."""

    conn: Connection
    password: str
    home: Path
    commands: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.askpass = self.home / "askpass.sh"
        self.askpass.write_text(ASKPASS, encoding="utf-8")
        self.askpass.chmod(0o700)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            {
                "GIT_ASKPASS": str(self.askpass),
                PASSWORD_VARIABLE: self.password,
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_SSL_CAINFO": self.conn.ca_bundle,
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_AUTHOR_NAME": "tester",
                "GIT_AUTHOR_EMAIL": "tester@example.com",
                "GIT_COMMITTER_NAME": "tester",
                "GIT_COMMITTER_EMAIL": "tester@example.com",
                "HOME": str(self.home),
            }
        )
        return env

    def execute(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = ["git", *args]
        self.commands.append(command)
        return subprocess.run(
            command,
            cwd=cwd,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def run(self, *args: str, cwd: Path | None = None) -> str:
        done = self.execute(*args, cwd=cwd)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def clone(self, url: str, target: Path, branch: str | None = None) -> Path:
        extra = ["--branch", branch] if branch else []
        self.run("clone", "--quiet", *extra, url, str(target))
        return target

    def head(self, work: Path) -> str:
        return self.run("rev-parse", "HEAD", cwd=work).strip()

    def commit_all(self, work: Path, message: str) -> str:
        self.run("add", "--all", cwd=work)
        self.run("commit", "--quiet", "--allow-empty", "-m", message, cwd=work)
        return self.head(work)

    def push_tree(self, url: str, source: Path, work: Path, branch: str = "master") -> str:
        """Commit ``source``'s ``api-management/`` in a new repository, push it as ``branch``."""
        work.mkdir(parents=True)
        self.run("init", "--quiet", "--initial-branch", branch, cwd=work)
        shutil.copytree(source / "api-management", work / "api-management")
        head = self.commit_all(work, "Import the export")
        self.run("push", "--quiet", url, f"HEAD:refs/heads/{branch}", cwd=work)
        return head
