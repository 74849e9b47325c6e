"""The instance's scm git repository: pull it, plan against it, deploy through it.

API Management's classic tiers keep a git repository of their configuration at the
service's ``properties.scmUrl`` (user ``apim``, a short-lived password minted by
``POST .../users/git/token``), and move configuration between it and the instance with
the tenant configuration operations ``save``, ``validate`` and ``deploy``.

- :func:`pull_repository` clones branch B into an empty folder, or fetches and
  fast-forwards a clone of it (``save`` first, on request);
- :func:`branch_configuration` reads branch B (the live state of ``plan --via git``);
- :class:`GitDeployment` plans and deploys: the kinds the scm layout cannot hold (named
  values, fragments, loggers, diagnostics) through the management API around a push of
  the committed ``HEAD`` and the service's ``validate`` and ``deploy``.

The git password never reaches a URL, ``.git/config``, a log or a command line: git asks
for it through a ``GIT_ASKPASS`` script (in a private temporary folder) that prints it
from an environment variable set only for git children that talk to the repository,
with every credential helper switched off and no terminal prompt.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from apimsync.errors import ApimsyncError, Refused
from apimsync.formats.files import CONFIG_ROOTS, EXTRAS_ROOT, SCM_ROOT
from apimsync.formats.scm.reader import read_tree
from apimsync.model import Configuration, Kind
from apimsync.output import Console
from apimsync.plan.changes import Action, Change, Plan
from apimsync.plan.diff import compute_plan
from apimsync.plan.render import NO_CHANGES, render_text
from apimsync.targets.calls import Session
from apimsync.targets.connection import READ_TIMEOUT, Target
from apimsync.targets.sdk import ApplyReport, LiveState, apply_plan, read_instance
from apimsync.workspace import Desired, load_desired

DEFAULT_BRANCH = "master"
GIT_USER = "apim"
PASSWORD_VARIABLE = "APIMSYNC_GIT_PASSWORD"
PASSWORD_LIFETIME = dt.timedelta(hours=1)
CONFIGURATION = "configuration"
GIT_TIMEOUT = 600
EXTRAS_KINDS = frozenset({Kind.NAMED_VALUE, Kind.POLICY_FRAGMENT, Kind.LOGGER, Kind.DIAGNOSTIC})
"""What the scm layout cannot hold: apimsync keeps it in ``api-management-extras/``."""
SCM_KINDS = frozenset(Kind) - EXTRAS_KINDS
_BEFORE_DEPLOY = frozenset({Kind.NAMED_VALUE, Kind.POLICY_FRAGMENT, Kind.LOGGER})
"""Extras the branch's policies may name: created or updated before the branch is deployed."""
_KEPT_GIT_VARIABLES = frozenset(
    {"GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"}
)
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) echo apim ;;
  *) printf '%s\\n' "$APIMSYNC_GIT_PASSWORD" ;;
esac
"""
_IDENTITY = {
    "GIT_AUTHOR_NAME": "apimsync",
    "GIT_AUTHOR_EMAIL": "apimsync@localhost",
    "GIT_COMMITTER_NAME": "apimsync",
    "GIT_COMMITTER_EMAIL": "apimsync@localhost",
}


# -- errors a user can cause ------------------------------------------------------------


class GitProblem(ApimsyncError):
    """git, or the instance's repository, cannot do what was asked."""

    @classmethod
    def failed(cls, action: str, stderr: str) -> GitProblem:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        detail = "; ".join(lines[-3:]) or "no message"
        return cls(f"git {action} failed: {detail}{_hint(detail.lower())}")

    @classmethod
    def not_installed(cls) -> GitProblem:
        return cls("git is not installed or not on PATH; --via git needs it")

    @classmethod
    def timed_out(cls, action: str) -> GitProblem:
        return cls(f"git {action} did not finish within {GIT_TIMEOUT} seconds")

    @classmethod
    def no_repository(cls, target: Target) -> GitProblem:
        return cls(
            f"service '{target.service}' has no scm git repository (its scmUrl is empty): "
            "only the classic tiers had one, and Microsoft retired it in March 2025; "
            "use --via sdk"
        )

    @classmethod
    def missing_branch(cls, branch: str, target: Target) -> GitProblem:
        return cls(
            f"branch '{branch}' does not exist in the repository of '{target.service}'; "
            "'apimsync pull --via git --save' saves the instance's configuration into it"
        )


def _hint(detail: str) -> str:
    if "certificate" in detail:
        return " (point ca_bundle, --ca-bundle / APIMSYNC_CA_BUNDLE, at the right CAs)"
    if "rejected" in detail:
        return " (the branch moved meanwhile; run the command again)"
    return ""


class GitRefused(Refused):
    """The working folder is not in a state that --via git can use; nothing was changed."""

    @classmethod
    def not_a_repository(cls, directory: Path) -> GitRefused:
        return cls(
            f"{directory} is not inside a git repository with a commit; --via git deploys "
            "the committed HEAD"
        )

    @classmethod
    def uncommitted(cls, directory: Path, paths: Sequence[str]) -> GitRefused:
        listed = ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")
        return cls(
            f"{directory} has uncommitted changes ({listed}); --via git deploys the "
            "committed HEAD: commit or stash them first. Nothing was pushed"
        )

    @classmethod
    def not_a_clone(cls, directory: Path, url: str) -> GitRefused:
        return cls(
            f"{directory} is neither empty nor a clone of {url} (a repository whose top is "
            "this folder and which has that remote); pull --via git into an empty folder, "
            "or use --via sdk"
        )

    @classmethod
    def unsaved(cls, directory: Path, paths: Sequence[str]) -> GitRefused:
        listed = ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")
        return cls(
            f"{directory} has uncommitted changes under {SCM_ROOT}/ ({listed}); commit or "
            "stash them before pulling. Nothing was changed"
        )

    @classmethod
    def diverged(cls, directory: Path, branch: str) -> GitRefused:
        return cls(
            f"{directory} has commits that branch '{branch}' of the instance's repository "
            "does not have, and the branch has moved on: a fast-forward would lose them. "
            "Deploy them first (deploy --via git), or merge the branch yourself. "
            "Nothing was changed"
        )

    @classmethod
    def detached(cls, directory: Path) -> GitRefused:
        return cls(f"{directory} has no branch checked out (detached HEAD); check one out first")


class OperationFailed(ApimsyncError):
    """A tenant configuration operation (save, validate, deploy) ended ``Failed``."""

    def __init__(self, operation: str, branch: str, code: str, message: str) -> None:
        answer = f"{code}: {message}" if code else message
        super().__init__(f"{operation} of branch '{branch}' failed: {answer}")


# -- running git -----------------------------------------------------------------------


def git_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every git child: the caller's, minus ``GIT_*`` variables that
    would redirect or trace git (and minus any password), never prompting."""
    source = os.environ if environ is None else environ
    env = {
        key: value
        for key, value in source.items()
        if not key.startswith("GIT_") or key in _KEPT_GIT_VARIABLES
    }
    env.pop(PASSWORD_VARIABLE, None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run_git(
    args: Sequence[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    secret: str | None = None,
) -> str:
    """Run ``git args`` and return its output; a failure raises :class:`GitProblem`
    (``secret`` is scrubbed from its message, in case git ever echoed it)."""
    action = next((a for a in args if not a.startswith("-") and "=" not in a), "")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env) if env is not None else git_environment(),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GitProblem.not_installed() from None
    except subprocess.TimeoutExpired:
        raise GitProblem.timed_out(action) from None
    if done.returncode != 0:
        stderr = done.stderr.replace(secret, "***") if secret else done.stderr
        raise GitProblem.failed(action, stderr)
    return done.stdout


def _succeeds(args: Sequence[str], cwd: Path) -> bool:
    try:
        run_git(args, cwd)
    except GitProblem:
        return False
    return True


# -- the instance's repository ---------------------------------------------------------


def same_repository(first: str, second: str) -> bool:
    """Whether two repository URLs name the same repository (user, case of the host,
    a trailing ``/`` or ``.git`` aside)."""
    return _url_key(first) == _url_key(second)


def _url_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2].lower()
    path = parts.path.rstrip("/").removesuffix(".git").rstrip("/")
    return parts.scheme.lower(), host, path


def with_user(url: str) -> str:
    """``url`` with the user ``apim`` in it (never a password)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{GIT_USER}@{host}"))


@dataclass(frozen=True)
class ScmRemote:
    """The instance's repository, reached with a short-lived password that only the git
    children talking to it see (in their environment, read by the askpass script)."""

    url: str
    password: str = field(repr=False)
    askpass: Path
    ca_bundle: str | None = None
    console: Console = field(default_factory=Console, repr=False)
    read_timeout: float = READ_TIMEOUT
    """git gives up on a transfer that sends nothing for this long."""

    def environment(self) -> dict[str, str]:
        env = git_environment()
        env.update({"GIT_ASKPASS": str(self.askpass), PASSWORD_VARIABLE: self.password})
        env.update(
            GIT_HTTP_LOW_SPEED_LIMIT="1", GIT_HTTP_LOW_SPEED_TIME=str(ceil(self.read_timeout))
        )
        if self.ca_bundle:
            env["GIT_SSL_CAINFO"] = self.ca_bundle
        return env

    def git(self, *args: str, cwd: Path | None = None) -> str:
        """git with the password: no credential helper may store it, no hook may see it."""
        self.console.detail(f"git {args[0]} {self.url}")
        safety = ("-c", "credential.helper=", "-c", f"core.hooksPath={os.devnull}")
        return run_git([*safety, *args], cwd, self.environment(), secret=self.password)

    def head(self, branch: str) -> str | None:
        """The commit ``branch`` points at, or None when it does not exist."""
        listed = self.git("ls-remote", "--heads", self.url, f"refs/heads/{branch}")
        for line in listed.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/heads/{branch}":
                return sha
        return None

    def clone(self, destination: Path, branch: str, *, shallow: bool = False) -> None:
        depth = ["--depth", "1", "--no-tags"] if shallow else []
        branch_args = ["--branch", branch, "--single-branch"] if shallow else ["--branch", branch]
        self.git("clone", "--quiet", *depth, *branch_args, self.url, str(destination))

    def fetch(self, work: Path, branch: str, tracking: str) -> str:
        """Fetch ``branch`` into the ref ``tracking`` of ``work``; its commit."""
        self.git(
            "fetch", "--quiet", "--no-tags", self.url, f"+refs/heads/{branch}:{tracking}", cwd=work
        )
        return run_git(["rev-parse", "--verify", f"{tracking}^{{commit}}"], work).strip()

    def push(self, work: Path, commit: str, branch: str) -> None:
        self.git("push", "--quiet", self.url, f"{commit}:refs/heads/{branch}", cwd=work)


@contextmanager
def connect(session: Session, console: Console) -> Iterator[ScmRemote]:
    """The instance's repository, with a git password valid for an hour."""
    target = session.target
    url = _scm_url(session)
    password = _mint_password(session)
    with tempfile.TemporaryDirectory(prefix="apimsync-git-") as private:  # mode 0700
        askpass = Path(private) / "askpass.sh"
        descriptor = os.open(askpass, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        with os.fdopen(descriptor, "w", encoding="utf-8") as script:
            script.write(_ASKPASS)
        yield ScmRemote(
            with_user(url), password, askpass, target.ca_bundle, console, target.read_timeout
        )


def _scm_url(session: Session) -> str:
    service = session.call(
        f"the service '{session.service}'",
        lambda: session.operations("api_management_service").get(
            session.rg, session.service, **session.options()
        ),
    )
    url = getattr(service, "scm_url", None)
    if not url:
        raise GitProblem.no_repository(session.target)
    return str(url)


def _mint_password(session: Session) -> str:
    from azure.mgmt.apimanagement.models import UserTokenParameters

    expiry = dt.datetime.now(dt.UTC) + PASSWORD_LIFETIME
    parameters = UserTokenParameters(key_type="primary", expiry=expiry)
    token = session.call(
        "a git password (POST .../users/git/token)",
        lambda: session.operations("user").get_shared_access_token(
            session.rg, session.service, "git", parameters, **session.options()
        ),
    )
    return str(token.value)


# -- tenant configuration operations ----------------------------------------------------


@dataclass(frozen=True)
class LogItem:
    """One line of a validate's ``actionLog``: what a deploy would do to one object."""

    object_type: str
    action: str
    object_key: str


@dataclass(frozen=True)
class OperationResult:
    status: str
    result_info: str
    action_log: tuple[LogItem, ...]


_OPERATION_LABELS = {"save": "Saving", "validate": "Validating", "deploy": "Deploying"}


def run_operation(
    session: Session, console: Console, operation: str, branch: str
) -> OperationResult:
    """Run ``save``, ``validate`` or ``deploy`` of ``branch`` and wait for it, with a
    status line; a ``Failed`` end raises :class:`OperationFailed` with the service's error."""
    from azure.mgmt.apimanagement.models import (
        DeployConfigurationParameters,
        SaveConfigurationParameter,
    )

    kind = SaveConfigurationParameter if operation == "save" else DeployConfigurationParameters
    parameters = kind(branch=branch, force=False)
    label = f"{_OPERATION_LABELS[operation]} branch '{branch}' of {session.service}"
    begin = getattr(session.operations("tenant_configuration"), f"begin_{operation}")

    def run() -> Any:
        poller = begin(
            session.rg,
            session.service,
            CONFIGURATION,
            parameters,
            polling=session.polling(),
            **session.options(),
        )
        return _wait(poller, console, label)

    result = session.call(f"the {operation} of branch '{branch}'", run)
    return _operation_result(operation, branch, result)


def _wait(poller: Any, console: Console, label: str) -> Any:
    started = time.monotonic()
    interval = 1.0 if console.live else 10.0
    while not poller.done():
        console.status(f"{label} ... {time.monotonic() - started:.0f}s")
        poller.wait(timeout=interval)
    return poller.result()


def _operation_result(operation: str, branch: str, result: Any) -> OperationResult:
    status = str(getattr(result, "status", "") or "Succeeded")
    if status != "Succeeded":
        error = getattr(result, "error", None)
        code = str(getattr(error, "code", "") or "")
        message = str(getattr(error, "message", "") or f"the operation ended {status}")
        raise OperationFailed(operation, branch, code, message)
    log = tuple(
        LogItem(str(i.object_type), str(i.action), str(i.object_key))
        for i in getattr(result, "action_log", None) or []
    )
    return OperationResult(status, str(getattr(result, "result_info", "") or ""), log)


def sync_state(session: Session) -> dict[str, Any]:
    """``GET .../tenant/configuration/syncState`` as JSON (branch, commitId, isSynced...)."""
    state = session.call(
        "the sync state",
        lambda: session.operations("tenant_configuration").get_sync_state(
            session.rg, session.service, CONFIGURATION, **session.options()
        ),
    )
    properties = state.serialize(keep_readonly=False).get("properties") or {}
    return {key: value for key, value in properties.items() if value is not None}


def describe_sync_state(state: Mapping[str, Any]) -> str:
    commit = str(state.get("commitId") or "(none)")
    synced = "in sync" if state.get("isSynced") else "not in sync"
    direction = "saved to" if state.get("isExport") else "deployed from"
    when = state.get("syncDate")
    at = f" at {when}" if when else ""
    return (
        f"Sync state: {synced}; last {direction} branch '{state.get('branch')}' "
        f"commit {commit[:12]}{at}."
    )


# -- the user's repository -------------------------------------------------------------


@dataclass(frozen=True)
class WorkingRepository:
    """The git repository that holds the working folder."""

    top: Path
    prefix: str
    """The working folder relative to ``top`` (``""`` at the top, else ending in ``/``)."""
    objects: Path
    shallow: bool = False
    """A shallow clone (as CI checkouts often are): its history cannot be pushed."""

    @classmethod
    def find(cls, directory: Path) -> WorkingRepository | None:
        if not directory.is_dir():
            return None
        try:
            found = run_git(
                ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"],
                directory,
            ).splitlines()
            prefix = run_git(["rev-parse", "--show-prefix"], directory).strip()
            shallow = run_git(["rev-parse", "--is-shallow-repository"], directory).strip()
        except GitProblem:
            return None
        return cls(Path(found[0]), prefix, Path(found[1]) / "objects", shallow == "true")

    def head(self) -> str | None:
        try:
            return run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], self.top).strip()
        except GitProblem:
            return None

    def changed(self, roots: Sequence[str]) -> list[str]:
        """Uncommitted changes (staged, unstaged, untracked) under ``roots`` of the folder."""
        paths = [f":(top){self.prefix}{root}" for root in roots]
        listed = run_git(
            [
                "status",
                "--porcelain=v1",
                "-z",
                "--no-renames",
                "--untracked-files=all",
                "--",
                *paths,
            ],
            self.top,
        )
        return [entry[3:] for entry in listed.split("\0") if len(entry) > 3]

    def is_ancestor(self, ancestor: str, commit: str) -> bool:
        return _succeeds(["merge-base", "--is-ancestor", ancestor, commit], self.top)

    def remote_for(self, url: str) -> str | None:
        """The name of a remote of this repository that points at ``url``."""
        try:
            listed = run_git(["config", "--get-regexp", r"^remote\..*\.url$"], self.top)
        except GitProblem:
            return None  # no remotes at all
        for line in listed.splitlines():
            key, _, value = line.partition(" ")
            if same_repository(value, url):
                return key.removeprefix("remote.").removesuffix(".url")
        return None


# -- pull ------------------------------------------------------------------------------


def pull_repository(
    target: Target, directory: Path, branch: str, console: Console, *, save: bool = False
) -> str:
    """Bring branch ``branch`` of the instance's repository into ``directory`` (cloned when
    it is empty, fast-forwarded when it is a clone); ``save`` first runs the tenant
    configuration save so the branch holds the instance's configuration. Says what it did."""
    session = Session(target)
    with connect(session, console) as remote:
        clone = None if _is_empty(directory) else _clone_of(remote, directory)
        if save:
            console.detail(run_operation(session, console, "save", branch).result_info)
        head = remote.head(branch)
        if head is None:
            raise GitProblem.missing_branch(branch, target)
        if clone is None:
            console.status(f"Cloning branch '{branch}' of {target.service} ...")
            remote.clone(directory, branch)
            return f"Cloned branch '{branch}' of {target.service} at {head[:12]} into {directory}."
        return _fast_forward(remote, clone, directory, branch)


def _is_empty(directory: Path) -> bool:
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


@dataclass(frozen=True)
class _Clone:
    work: WorkingRepository
    remote_name: str


def _clone_of(remote: ScmRemote, directory: Path) -> _Clone:
    """``directory`` as a clone of the instance's repository with nothing uncommitted
    under ``api-management/``, or :class:`GitRefused`."""
    work = WorkingRepository.find(directory)
    same_top = work is not None and work.prefix == ""
    name = work.remote_for(remote.url) if work is not None and same_top else None
    if work is None or name is None:
        raise GitRefused.not_a_clone(directory, remote.url)
    unsaved = work.changed([SCM_ROOT])
    if unsaved:
        raise GitRefused.unsaved(directory, unsaved)
    return _Clone(work, name)


def _fast_forward(remote: ScmRemote, clone: _Clone, directory: Path, branch: str) -> str:
    work = clone.work
    old = work.head()
    new = remote.fetch(work.top, branch, f"refs/remotes/{clone.remote_name}/{branch}")
    if old == new:
        return f"{directory} is up to date with branch '{branch}' ({new[:12]})."
    if old is not None and work.is_ancestor(new, old):
        return f"{directory} is ahead of branch '{branch}' ({new[:12]}); nothing to pull."
    if old is not None and not work.is_ancestor(old, new):
        raise GitRefused.diverged(directory, branch)
    if not _succeeds(["symbolic-ref", "--quiet", "HEAD"], work.top):
        raise GitRefused.detached(directory)
    run_git(["merge", "--ff-only", "--quiet", new], work.top)
    start = old[:12] if old else "nothing"
    return f"Fast-forwarded {directory} from {start} to {new[:12]} (branch '{branch}')."


# -- plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchState:
    """Branch B of the instance's repository, read for a plan."""

    configuration: Configuration
    head: str | None
    """The commit the branch points at; None when it does not exist."""
    sync: Mapping[str, Any] = field(default_factory=dict)
    """The instance's ``syncState``: which commit it last saved or deployed."""

    @property
    def instance_in_sync(self) -> bool:
        """Whether the instance holds what the branch holds (it last synced this commit
        and has not changed since)."""
        return bool(self.sync.get("isSynced")) and self.sync.get("commitId") == self.head

    def sync_note(self, branch: str) -> str | None:
        """A warning when deploying the branch would change more than the files' plan."""
        if self.head is None:
            return (
                f"note: branch '{branch}' does not exist yet: deploying it makes the instance "
                "hold what the branch holds, also deleting what the instance has beyond it; "
                "the service's validate lists every change once the branch is pushed "
                "('apimsync plan --prune' shows them now)"
            )
        if self.instance_in_sync:
            return None
        last = str(self.sync.get("commitId") or "")
        if last == self.head:
            why = f"the instance changed since it last synced the branch's commit {last[:12]}"
        elif last:
            why = f"the instance last synced commit {last[:12]}; the branch is at {self.head[:12]}"
        else:
            why = "the instance was never synced with it"
        return (
            f"note: the instance is not in sync with branch '{branch}' ({why}): deploying the "
            "branch also applies its other differences from the instance, which this plan "
            "does not show; 'apimsync plan' (through the management API) shows them"
        )


def branch_configuration(target: Target, branch: str, console: Console) -> Configuration:
    """The configuration on branch ``branch`` of the instance's repository."""
    return read_branch(target, branch, console).configuration


def read_branch(target: Target, branch: str, console: Console) -> BranchState:
    """Branch ``branch`` of the instance's repository (which must exist) and the sync state."""
    session = Session(target)
    with (
        connect(session, console) as remote,
        tempfile.TemporaryDirectory(prefix="apimsync-branch-") as scratch,
    ):
        head = remote.head(branch)
        if head is None:
            raise GitProblem.missing_branch(branch, target)
        configuration = _clone_and_read(remote, branch, Path(scratch) / "branch", console)
        return BranchState(configuration, head, sync_state(session))


def _clone_and_read(
    remote: ScmRemote, branch: str, destination: Path, console: Console
) -> Configuration:
    console.status(f"Reading branch '{branch}' ...")
    remote.clone(destination, branch, shallow=True)
    return read_tree(destination).configuration


def plan_against_branch(desired: Configuration, branch: Configuration) -> Plan:
    """What pushing ``desired`` changes on the branch: the scm kinds only, and resources
    of the branch that the files lack are deleted (a push replaces the branch's tree)."""
    return compute_plan(desired, branch, prune=True, ignore_kinds=EXTRAS_KINDS)


# -- deploy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A deploy through git, planned: nothing has left the machine, nothing live changed."""

    desired: Desired
    extras: Plan
    """The extras' changes, applied through the management API."""
    branch: BranchState
    """The branch before the push (and the instance's sync state)."""
    branch_plan: Plan
    """What pushing ``HEAD`` changes on the branch."""
    commit: str
    """The commit the branch will point at (built locally; pushed when it moves)."""
    log: tuple[LogItem, ...] = ()
    """What deploying the branch changes on the instance (the service's validate): known
    before asking when the branch already holds the commit, else after the push."""

    @property
    def needs_push(self) -> bool:
        return self.commit != self.branch.head

    @property
    def is_empty(self) -> bool:
        return self.extras.is_empty and not self.needs_push and not self.log

    @property
    def deletes(self) -> int:
        """Resources deleted (children included): extras, the branch's, the validate's."""
        plans = (self.extras, self.branch_plan)
        deleted = [c for plan in plans for c in plan.changes if c.action is Action.DELETE]
        cascaded = sum(len(c.cascade) for c in deleted)
        return len(deleted) + cascaded + sum(1 for i in self.log if i.action == "Deleted")


@dataclass(frozen=True)
class GitDeployResult:
    """What :meth:`GitDeployment.apply` did: extras before, the deploy, extras after."""

    branch: str
    commit: str
    before: ApplyReport
    after: ApplyReport | None = None
    result_info: str = ""
    """The service's message on success."""
    error: OperationFailed | None = None
    """The service's error when the deploy failed."""
    sync: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def nothing(cls, branch: str, prepared: Prepared) -> GitDeployResult:
        """The result of a deploy with nothing to do (the branch is not deployed again)."""
        empty = ApplyReport()
        return cls(branch, prepared.commit, empty, empty, NO_CHANGES, sync=prepared.branch.sync)

    @property
    def ok(self) -> bool:
        after = self.after
        return self.error is None and after is not None and after.ok and self.before.ok

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "commit": self.commit,
            "before": self.before.to_json(),
            "deploy": {"ok": self.error is None, "message": str(self.error or self.result_info)},
            "after": self.after.to_json() if self.after is not None else None,
            "syncState": dict(self.sync),
        }


Reader = Callable[[frozenset[Kind]], LiveState]
"""Reads the live instance, leaving out the kinds given."""
Applier = Callable[[Plan], ApplyReport]
"""Applies a plan of extras."""


@dataclass
class GitDeployment:
    """``deploy --via git``, a context manager: :meth:`plan_extras`, :meth:`prepare` (the
    plan; nothing leaves the machine), then, once the caller has confirmed,
    :meth:`push_and_validate` and :meth:`apply`."""

    target: Target
    directory: Path
    branch: str = DEFAULT_BRANCH
    console: Console = field(default_factory=Console)
    prune: bool = False
    parallelism: int = 8
    session: Session = field(init=False)
    live_apis: frozenset[str] = field(init=False, default=frozenset())
    """The APIs the instance has before the deploy (their diagnostics can go first)."""
    _open: ExitStack = field(init=False, default_factory=ExitStack)
    _remote: ScmRemote | None = field(init=False, default=None)
    _scratch: Path | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.session = Session(self.target)

    def __enter__(self) -> GitDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self._open.close()

    def check_committed(self) -> WorkingRepository:
        """The repository of the working folder, if nothing under the configuration
        folders is uncommitted (what is pushed is the committed ``HEAD``)."""
        work = WorkingRepository.find(self.directory)
        if work is None or work.head() is None:
            raise GitRefused.not_a_repository(self.directory)
        changed = work.changed(CONFIG_ROOTS)
        if changed:
            raise GitRefused.uncommitted(self.directory, changed)
        return work

    def plan_extras(self, read: Reader | None = None) -> tuple[Desired, Plan]:
        """The validated files of ``HEAD`` and the extras' changes (nothing written)."""
        desired = load_desired(self.directory, "HEAD")
        wanted = EXTRAS_KINDS | {Kind.API}  # API diagnostics are listed per API
        skipped = frozenset(Kind) - wanted
        live = read(skipped) if read is not None else self._read(skipped)
        self.live_apis = frozenset(r.id.lower() for r in live.configuration.of_kind(Kind.API))
        plan = compute_plan(
            desired.configuration,
            live.configuration,
            prune=self.prune,
            ignore_kinds=SCM_KINDS | live.unsupported,
        )
        return desired, plan

    def _read(self, skipped: frozenset[Kind]) -> LiveState:
        self.console.status(f"Reading {self.target.describe()} ...")
        return read_instance(self.target, parallelism=self.parallelism, skip_kinds=skipped)

    def prepare(self, work: WorkingRepository, desired: Desired, extras: Plan) -> Prepared:
        """Plan the push: read the branch, build the commit to push in a scratch repository,
        and, when the branch already holds it, ask the service what deploying it changes.
        Nothing is pushed; the instance is not touched."""
        remote = self._connected()
        scratch = self._scratch_folder()
        head = remote.head(self.branch)
        configuration = Configuration()
        if head is not None:
            configuration = _clone_and_read(remote, self.branch, scratch / "branch", self.console)
        state = BranchState(configuration, head, sync_state(self.session))
        commit = build_commit(remote, work, self.branch, scratch / "push", head)
        plan = plan_against_branch(desired.configuration, configuration)
        prepared = Prepared(desired, extras, state, plan, commit)
        if prepared.needs_push:
            return prepared
        checked = run_operation(self.session, self.console, "validate", self.branch)
        return replace(prepared, log=checked.action_log)

    def push_and_validate(self, prepared: Prepared) -> Prepared:
        """Push the commit (when the branch moves) and ask the service what deploying the
        branch changes. The instance's configuration is not touched."""
        if not prepared.needs_push:
            return prepared
        assert self._remote is not None and self._scratch is not None, "prepare() first"
        self.console.status(f"Pushing {prepared.commit[:12]} to branch '{self.branch}' ...")
        self._remote.push(self._scratch / "push", prepared.commit, self.branch)
        checked = run_operation(self.session, self.console, "validate", self.branch)
        pushed = replace(prepared.branch, head=prepared.commit)
        return replace(prepared, branch=pushed, log=checked.action_log)

    def apply(
        self, prepared: Prepared, secrets: Mapping[str, str], applier: Applier | None = None
    ) -> GitDeployResult:
        """Extras the branch may name, the deploy of the branch, then the other extras."""
        apply = applier or (lambda plan: self._apply(plan, secrets))
        before, after = split_extras(prepared.extras, self.live_apis)
        result = GitDeployResult(self.branch, prepared.commit, apply(before))
        if result.before.ok:
            try:
                done = run_operation(self.session, self.console, "deploy", self.branch)
            except OperationFailed as failure:
                result = replace(result, error=failure)
            else:
                second = apply(after)
                result = replace(result, after=second, result_info=done.result_info)
        return replace(result, sync=sync_state(self.session))

    def _apply(self, plan: Plan, secrets: Mapping[str, str]) -> ApplyReport:
        return apply_plan(self.target, plan, parallelism=self.parallelism, secrets=secrets)

    def _connected(self) -> ScmRemote:
        if self._remote is None:
            self._remote = self._open.enter_context(connect(self.session, self.console))
        return self._remote

    def _scratch_folder(self) -> Path:
        if self._scratch is None:
            folder = tempfile.TemporaryDirectory(prefix="apimsync-deploy-")
            self._scratch = Path(self._open.enter_context(folder))
        return self._scratch


def split_extras(plan: Plan, live_apis: frozenset[str]) -> tuple[Plan, Plan]:
    """The extras to write before the branch is deployed (named values, fragments and
    loggers its policies may name; diagnostics of the service and of APIs that exist) and
    after it (diagnostics of APIs the deploy creates, and every delete)."""
    first = [c for c in plan.changes if _before_deploy(c, live_apis)]
    then = [c for c in plan.changes if not _before_deploy(c, live_apis)]
    return Plan(tuple(first)), Plan(tuple(then), plan.unmanaged)


def _before_deploy(change: Change, live_apis: frozenset[str]) -> bool:
    if change.action is Action.DELETE:
        return False
    if change.kind is Kind.DIAGNOSTIC:
        owner = change.resource_id.lower().partition("/diagnostics/")[0]
        return not owner or owner in live_apis
    return change.kind in _BEFORE_DEPLOY


def push_head(remote: ScmRemote, work: WorkingRepository, branch: str, console: Console) -> str:
    """Make ``branch`` of the instance's repository hold the configuration of ``HEAD`` and
    return the commit it points at (see :func:`build_commit`)."""
    with tempfile.TemporaryDirectory(prefix="apimsync-push-") as scratch_dir:
        scratch = Path(scratch_dir)
        remote_head = remote.head(branch)
        commit = build_commit(remote, work, branch, scratch, remote_head)
        if commit != remote_head:
            console.status(f"Pushing {commit[:12]} to branch '{branch}' ...")
            remote.push(scratch, commit, branch)
    return commit


def build_commit(
    remote: ScmRemote,
    work: WorkingRepository,
    branch: str,
    scratch: Path,
    remote_head: str | None,
) -> str:
    """The commit that makes ``branch`` hold the configuration of ``HEAD``, built in the
    bare repository ``scratch`` (created here), which then has it for a push.

    At the top of its repository, ``HEAD`` itself when the branch can fast-forward to it,
    else a merge of the two whose tree is ``HEAD``'s; in a subfolder, a commit whose tree
    holds the folder's configuration folders at its root, on top of the branch (from a
    shallow clone, whose history cannot be pushed, likewise with ``HEAD``'s tree). The
    scratch repository borrows the user's objects: the user's repository is never changed,
    and nothing the branch has is ever lost. The branch's own commit when nothing changes.
    """
    head = work.head()
    assert head is not None
    run_git(["init", "--quiet", "--bare", "--template=", str(scratch)])
    (scratch / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (scratch / "objects" / "info" / "alternates").write_text(f"{work.objects}\n")
    if remote_head is not None:
        remote.fetch(scratch, branch, "refs/remotes/scm/branch")
    return _commit_to_push(scratch, work, head, remote_head)


def _commit_to_push(
    scratch: Path, work: WorkingRepository, head: str, remote_head: str | None
) -> str:
    if work.prefix == "" and not work.shallow:
        if remote_head is None or _succeeds(
            ["merge-base", "--is-ancestor", remote_head, head], scratch
        ):
            return head
        tree, parents = _tree_of(scratch, head), [remote_head, head]
    else:
        top = work.prefix == ""
        tree = _tree_of(scratch, head) if top else _folder_tree(scratch, head, work.prefix)
        parents = [remote_head] if remote_head else []
    if remote_head is not None and _tree_of(scratch, remote_head) == tree:
        return remote_head
    message = f"Deploy the configuration of {work.prefix or './'} at {head[:12]} (apimsync)"
    arguments = ["commit-tree", tree, *[a for p in parents for a in ("-p", p)], "-m", message]
    env = {**git_environment(), **_IDENTITY}
    return run_git(arguments, scratch, env).strip()


def _tree_of(scratch: Path, commit: str) -> str:
    return run_git(["rev-parse", f"{commit}^{{tree}}"], scratch).strip()


def _folder_tree(scratch: Path, head: str, prefix: str) -> str:
    """A tree holding the folder's ``api-management/`` (and extras) at its root."""
    entries = []
    for root in (SCM_ROOT, EXTRAS_ROOT):
        try:
            sha = run_git(["rev-parse", "--verify", "--quiet", f"{head}:{prefix}{root}"], scratch)
        except GitProblem:
            continue
        entries.append(f"040000 tree {sha.strip()}\t{root}\n")
    return run_git(["mktree"], scratch, stdin="".join(entries)).strip()


def render_prepared(prepared: Prepared, branch: str, color: bool) -> str:
    """The plan of a deploy through git: the extras' plan, the branch's, the summary."""
    lines = ["Named values, fragments, loggers and diagnostics (through the management API):"]
    lines += _plan_lines(prepared.extras, color, "no changes")
    where = f"Branch '{branch}'"
    if prepared.needs_push:
        lines += ["", f"{where} (pushing {prepared.commit[:12]}, HEAD's configuration):"]
        lines += _plan_lines(prepared.branch_plan, color, "no changes to the resources it holds")
    else:
        lines += ["", f"{where} (at {prepared.commit[:12]}, already HEAD's configuration):"]
    if prepared.log:
        lines += ["", *render_log(prepared.log)]
    note = prepared.branch.sync_note(branch)
    if note is not None:
        lines += ["", note]
    lines += ["", _summary(prepared)]
    return "\n".join(lines)


def _plan_lines(plan: Plan, color: bool, empty: str) -> list[str]:
    if plan.is_empty and not plan.unmanaged:
        return [f"  {empty}"]
    return render_text(plan, color=color, part=True).rstrip("\n").splitlines()


def render_log(log: Sequence[LogItem]) -> list[str]:
    """What the service's validate says deploying the branch changes on the instance."""
    lines = ["The service's validate: deploying the branch changes on the instance:"]
    lines += [f"  {_LOG_SYMBOLS.get(i.action, '?')} {i.object_type} {i.object_key}" for i in log]
    counts = {action: sum(1 for i in log if i.action == action) for action in _LOG_SYMBOLS}
    lines.append(
        f"Deploy: {counts['Created']} to create, {counts['Updated']} to update, "
        f"{counts['Deleted']} to delete."
    )
    return lines


def _summary(prepared: Prepared) -> str:
    if prepared.is_empty:
        return NO_CHANGES
    branch = prepared.branch_plan.summary() if prepared.needs_push else {}
    counts = {key: value + branch.get(key, 0) for key, value in prepared.extras.summary().items()}
    logged = {"add": "Created", "change": "Updated", "destroy": "Deleted"}
    for key, action in logged.items():
        counts[key] += 0 if prepared.needs_push else sum(i.action == action for i in prepared.log)
    return (
        f"Plan: {counts['add']} to add, {counts['change']} to change, "
        f"{counts['destroy']} to destroy."
    )


_LOG_SYMBOLS = {"Created": "+", "Updated": "~", "Deleted": "-"}
