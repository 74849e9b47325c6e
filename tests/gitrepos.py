"""Real git repositories for tests: a copy of a configuration, committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO

STARTER = REPO / "examples" / "openai-usage"
TOPS = ("api-management", "api-management-extras", "environments")
ROUND_ROBIN = "api-management/policies/apis/open-ai/operations/chat-completions-round-robin.xml"


def git(directory: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout


def committed_copy(target: Path, source: Path = STARTER) -> Path:
    """A new git repository at ``target`` holding the configuration folders of ``source``."""
    for top in TOPS:
        if (source / top).is_dir():
            shutil.copytree(source / top, target / top)
    git(
        target.parent if target.parent.exists() else target, "init", "-q", "-b", "main", str(target)
    )
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "configuration")
    return target


def break_policy(root: Path) -> Path:
    """Put a forward-request into the inbound section of the round-robin policy."""
    path = root / ROUND_ROBIN
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("<rewrite-uri", "<forward-request />\n\t\t<rewrite-uri", 1))
    return path
