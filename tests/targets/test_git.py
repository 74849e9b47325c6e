"""The scm git adapter against a real emulator with the real git: pushes, pulls, refusals.

What ``deploy --via git`` pushes (``HEAD`` itself, a merge over unrelated history, or a
folder's configuration at the root), what ``pull --via git`` refuses, and what the
tenant configuration operations report. The whole commands are in
``tests/commands/test_sync_git.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.mgmt.apimanagement.models import BackendContract

from apimsync.output import Console
from apimsync.targets.calls import Session
from apimsync.targets.connection import Target
from apimsync.targets.git import (
    PASSWORD_VARIABLE,
    GitProblem,
    GitRefused,
    OperationFailed,
    ScmRemote,
    WorkingRepository,
    branch_configuration,
    connect,
    git_environment,
    pull_repository,
    push_head,
    run_operation,
    same_repository,
    with_user,
)
from tests.conftest import REPO
from tests.reliability.servers import Answer, Seen, TlsServer

EXAMPLE = REPO / "examples" / "openai-usage"
QUIET = Console(quiet=True)


def git(directory: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def user_repository(root: Path, folder: str = "") -> Path:
    """A git repository holding the example in ``folder`` (and a README at its top)."""
    target = root / folder
    for top in ("api-management", "api-management-extras"):
        shutil.copytree(EXAMPLE / top, target / top)
    (root / "README.md").write_text("the team's repository\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "configuration")
    return target


def saved(target: Target) -> tuple[Session, str]:
    """A session of ``target`` after a save, so branch master exists; its head."""
    session = Session(target)
    run_operation(session, QUIET, "save", "master")
    with connect(session, QUIET) as remote:
        head = remote.head("master")
    assert head is not None
    return session, head


def push(session: Session, directory: Path) -> str:
    work = WorkingRepository.find(directory)
    assert work is not None
    with connect(session, QUIET) as remote:
        return push_head(remote, work, "master", QUIET)


def clone(session: Session, destination: Path) -> Path:
    with connect(session, QUIET) as remote:
        remote.clone(destination, "master")
    return destination


# -- helpers without an instance --------------------------------------------------------


def test_repository_urls_compare_without_user_case_or_suffix() -> None:
    url = "https://contoso.scm.azure-api.net"
    assert with_user(url) == "https://apim@contoso.scm.azure-api.net"
    assert with_user("https://someone@host/scm/a") == "https://apim@host/scm/a"
    assert same_repository("https://apim@Contoso.scm.azure-api.net/", url)
    assert same_repository("https://host/scm/a.git", "https://host/scm/a")
    assert not same_repository("https://host/scm/a", "https://host/scm/b")
    assert not same_repository("http://host/scm/a", "https://host/scm/a")


def test_git_children_get_no_redirects_traces_or_stray_passwords() -> None:
    environ = {
        "PATH": "/bin",
        "GIT_DIR": "/elsewhere",
        "GIT_TRACE_CURL": "1",
        "GIT_SSL_CAINFO": "/ca.pem",
        PASSWORD_VARIABLE: "leaked",
    }
    env = git_environment(environ)
    assert env == {"PATH": "/bin", "GIT_SSL_CAINFO": "/ca.pem", "GIT_TERMINAL_PROMPT": "0"}


# -- what a deploy pushes --------------------------------------------------------------


def test_a_subfolder_is_pushed_as_the_root_on_top_of_the_branch(
    fresh: Callable[[], Target], tmp_path: Path
) -> None:
    session, before = saved(fresh())
    folder = user_repository(tmp_path / "team", "infra/apim")

    pushed = push(session, folder)
    again = push(session, folder)
    check = clone(session, tmp_path / "check")

    assert sorted(p.name for p in check.iterdir()) == [
        ".git",
        "api-management",
        "api-management-extras",
    ]
    assert git(check, "rev-parse", "HEAD") == pushed == again  # unchanged: nothing pushed
    assert git(check, "rev-parse", "HEAD^") == before
    ours = git(folder, "rev-parse", "HEAD:infra/apim/api-management")
    assert git(check, "rev-parse", "HEAD:api-management") == ours


def test_the_top_of_a_repository_is_merged_over_unrelated_history_then_fast_forwarded(
    fresh: Callable[[], Target], tmp_path: Path
) -> None:
    session, before = saved(fresh())
    root = user_repository(tmp_path / "team")
    head = git(root, "rev-parse", "HEAD")

    merged = push(session, root)
    work = clone(session, tmp_path / "clone")
    (work / "api-management" / "README.md").write_text("a change on top\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "on top")
    forwarded = push(session, work)

    assert git(work, "rev-parse", f"{merged}^1", f"{merged}^2").split() == [before, head]
    assert git(work, "rev-parse", f"{merged}^{{tree}}") == git(root, "rev-parse", "HEAD^{tree}")
    assert forwarded == git(work, "rev-parse", "HEAD")  # the clone's own commit, pushed as is
    assert branch_configuration(session.target, "master", QUIET) is not None


def test_a_shallow_checkout_pushes_its_tree_on_top_of_the_branch(
    fresh: Callable[[], Target], tmp_path: Path
) -> None:
    session, before = saved(fresh())
    root = user_repository(tmp_path / "team")
    (root / "README.md").write_text("a second commit\n")
    git(root, "commit", "-qam", "second")
    shallow = tmp_path / "ci"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{root}", str(shallow))

    pushed = push(session, shallow)
    check = clone(session, tmp_path / "check")

    assert git(check, "rev-parse", "HEAD") == pushed
    assert git(check, "rev-parse", "HEAD^@") == before  # one parent: the branch
    assert git(check, "rev-parse", "HEAD^{tree}") == git(root, "rev-parse", "HEAD^{tree}")


# -- what a pull refuses ---------------------------------------------------------------


def test_pull_refuses_to_lose_work(fresh: Callable[[], Target], tmp_path: Path) -> None:
    target = fresh()
    work = tmp_path / "clone"
    assert "Cloned" in pull_repository(target, work, "master", QUIET, save=True)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("not a clone\n")
    configuration = work / "api-management" / "configuration.json"
    configuration.write_text(configuration.read_text() + " ")

    with pytest.raises(GitRefused, match="uncommitted changes under api-management"):
        pull_repository(target, work, "master", QUIET)
    with pytest.raises(GitRefused, match="neither empty nor a clone"):
        pull_repository(target, stranger, "master", QUIET)
    git(work, "commit", "-qam", "a local change")
    ahead = pull_repository(target, work, "master", QUIET)
    backend = BackendContract(url="https://added.example.test", protocol="http")
    target.client().backend.create_or_update(target.resource_group, target.service, "b", backend)
    with pytest.raises(GitRefused, match="a fast-forward would lose them"):
        pull_repository(target, work, "master", QUIET, save=True)

    assert "ahead of branch 'master'" in ahead


# -- the tenant configuration operations -----------------------------------------------


def test_operations_fail_with_the_services_message(
    fresh: Callable[[], Target], tmp_path: Path
) -> None:
    target = fresh()
    session = Session(target)
    readme = tmp_path / "readme"
    readme.mkdir()
    (readme / "README.md").write_text("no configuration here\n")
    git(readme, "init", "-q", "-b", "main")
    git(readme, "add", "-A")
    git(readme, "commit", "-qm", "README only")
    push(session, readme)

    with pytest.raises(OperationFailed) as failed:
        run_operation(session, QUIET, "validate", "master")
    with pytest.raises(GitProblem, match="branch 'other' does not exist"):
        branch_configuration(target, "other", QUIET)

    assert str(failed.value) == (
        "validate of branch 'master' failed: ValidationError: "
        "File not found: 'api-management/configuration.json'"
    )


def test_git_gives_up_on_a_repository_that_never_answers(tmp_path: Path) -> None:
    release = threading.Event()

    def silent(seen: Seen) -> Answer:
        release.wait(60)
        return Answer(drop=True)

    with TlsServer(tmp_path / "tls", silent) as server:
        askpass = tmp_path / "askpass.sh"
        askpass.write_text("#!/bin/sh\necho x\n")
        askpass.chmod(0o700)
        remote = ScmRemote(
            f"{server.url}/scm", "x", askpass, str(server.ca_bundle), QUIET, read_timeout=1
        )
        started = time.monotonic()
        try:
            with pytest.raises(GitProblem):
                remote.head("master")
        finally:
            release.set()

    assert time.monotonic() - started < 15  # git's own default would wait for ever
