"""The bare git repository of each hosted service, driven through the ``git`` binary.

Repositories live under ``DATA/scm/{service}.git`` (default branch ``master``) and are
created on first use. The tenant configuration operations read a branch by exporting
one commit into a scratch folder (through a scratch index, so the bare repository never
gets a work tree) and write one by committing such a folder and moving the branch with a
compare-and-swap, so a push that lands in between makes the save fail instead of being lost.

Git runs with no system or global configuration and without the caller's ``GIT_*``
variables, so the host's settings (autocrlf, hooks, templates) never change the bytes.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

DEFAULT_BRANCH = "master"
ZERO_OID = "0" * 40
AUTHOR = "apim"
GIT_TIMEOUT = 120
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
_CREATE_LOCK = threading.Lock()
_REPOSITORY_CONFIG = (
    ("http.receivepack", "true"),
    ("receive.autogc", "false"),
    ("gc.auto", "0"),
    ("core.logallrefupdates", "false"),
)


class GitError(RuntimeError):
    """A git command failed (the message holds its first error line)."""


def scm_root(data_dir: Path) -> Path:
    return data_dir / "scm"


def repository_path(data_dir: Path, service: str) -> Path:
    return scm_root(data_dir) / f"{service.lower()}.git"


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the caller's minus ``GIT_*``, without user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }
    )
    env.update(extra or {})
    return env


def valid_branch(branch: str) -> bool:
    parts = branch.split("/")
    return (
        bool(_BRANCH.match(branch))
        and ".." not in branch
        and not branch.startswith("-")
        and all(p and not p.startswith(".") and not p.endswith(".lock") for p in parts)
    )


class Repository:
    """One service's bare repository."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, data_dir: Path, service: str) -> Repository:
        """The service's repository, created (empty, on ``master``) if it does not exist."""
        repository = cls(repository_path(data_dir, service))
        with _CREATE_LOCK:
            if not (repository.path / "HEAD").is_file():
                repository.create()
        return repository

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + f".{os.getpid()}.new")
        _run(
            [
                "git",
                "init",
                "--quiet",
                "--bare",
                f"--initial-branch={DEFAULT_BRANCH}",
                str(temporary),
            ]
        )
        for key, value in _REPOSITORY_CONFIG:
            Repository(temporary).git("config", key, value)
        temporary.rename(self.path)

    def git(
        self, *args: str, extra: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> str:
        env = {"GIT_DIR": str(self.path), **(extra or {})}
        return _run(["git", *args], env, cwd).strip()

    def head(self, branch: str) -> str | None:
        """The commit ``branch`` points at, or None when the branch does not exist."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        except GitError:
            return None

    def contains(self, commit: str, ancestor: str) -> bool:
        """Whether ``ancestor`` is ``commit`` or one of its ancestors."""
        try:
            self.git("merge-base", "--is-ancestor", ancestor, commit)
        except GitError:
            return False
        return True

    def tree_of(self, commit: str) -> str:
        return self.git("rev-parse", f"{commit}^{{tree}}")

    def export(self, commit: str, folder: Path, index: Path) -> None:
        """Write the files of ``commit`` into ``folder`` (through the scratch ``index``)."""
        extra = {"GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(folder)}
        self.git("read-tree", commit, extra=extra)
        self.git("checkout-index", "--all", "--force", extra=extra, cwd=folder)

    def commit_folder(
        self, folder: Path, index: Path, parent: str | None, message: str, email: str
    ) -> str | None:
        """Commit everything in ``folder`` on top of ``parent``; None if nothing changed."""
        extra = {"GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(folder)}
        self.git("add", "--all", "--force", ".", extra=extra, cwd=folder)
        tree = self.git("write-tree", extra=extra)
        if parent is not None and self.tree_of(parent) == tree:
            return None
        who = {
            "GIT_AUTHOR_NAME": AUTHOR,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": AUTHOR,
            "GIT_COMMITTER_EMAIL": email,
        }
        parents = ["-p", parent] if parent else []
        return self.git("commit-tree", tree, *parents, "-m", message, extra=who)

    def move_branch(self, branch: str, new: str, old: str | None) -> None:
        """Point ``branch`` at ``new`` if it still points at ``old`` (None: does not exist)."""
        self.git("update-ref", f"refs/heads/{branch}", new, old or ZERO_OID)


def _run(
    command: list[str], extra: Mapping[str, str] | None = None, cwd: Path | None = None
) -> str:
    try:
        done = subprocess.run(
            command,
            env=git_environment(extra),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {command[1]} could not run: {exc}") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {command[1]} failed: {lines[0] if lines else done.returncode}")
    return done.stdout.decode("utf-8", "replace")
