"""Tenant configuration: save, deploy and validate a branch of the scm repository.

``POST .../tenant/configuration/{save|deploy|validate}`` with
``{"properties": {"branch": ..., "force": ...}}`` runs the operation and answers 202 with
a ``Location`` at ``tenant/operationResults/{id}``, whose body is the spec's
``OperationResultContract`` (``Succeeded`` or ``Failed`` with an error naming the file).

- save: the service's state, in the scm layout, as a commit on the branch. The files
  already on the branch are read first (:func:`apimsync.formats.scm.reader.read_tree`)
  and rewritten by :func:`apimsync.formats.scm.writer.write_tree`, so unchanged resources
  keep their bytes; ``api-management-extras/`` is left as it is. A branch that moved
  since the last synchronisation is refused unless ``force``.
- validate: what a deploy of the branch would create, update and delete (``actionLog``).
- deploy: the service equal to the branch for the scm kinds, in one store transaction
  (:mod:`apimsync.emulator.scmdeploy`).

``GET .../tenant/configuration/syncState`` reports the last synchronisation; the state
is ``isSynced`` while no resource changed since (row count and newest version agree).
Operations on one service run one at a time.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apimsync.emulator.core import Ctx, Reply, not_found, validation_error
from apimsync.emulator.handlers import body_properties
from apimsync.emulator.kinds import KINDS, T
from apimsync.emulator.modelbridge import instance_state
from apimsync.emulator.scmdeploy import (
    BranchState,
    OperationFailed,
    apply_plan,
    check_subscriptions,
    plan,
    read_branch,
    translate,
)
from apimsync.emulator.scmrepo import DEFAULT_BRANCH, GitError, Repository, valid_branch
from apimsync.emulator.store import Row, utc_now
from apimsync.errors import ApimsyncError
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, Kind, Resource
from apimsync.plan.normalize import normalize

CONFIGURATION_NAME = "configuration"
RESULT_TYPE = f"{T}/tenant/operationResults"
SYNC_TYPE = f"{T}/tenant/syncState"
EXTRAS_KINDS = frozenset({Kind.NAMED_VALUE, Kind.POLICY_FRAGMENT, Kind.LOGGER, Kind.DIAGNOSTIC})
_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class Params:
    branch: str
    force: bool


@dataclass(frozen=True)
class Outcome:
    result_info: str
    action_log: list[dict[str, str]] | None = field(default=None)


Work = Callable[[Ctx, Params], Outcome]


# -- handlers --------------------------------------------------------------------------


def save(ctx: Ctx) -> Reply:
    return _start(ctx, _save)


def deploy(ctx: Ctx) -> Reply:
    return _start(ctx, _deploy)


def validate(ctx: Ctx) -> Reply:
    return _start(ctx, _validate)


def sync_state(ctx: Ctx) -> Reply:
    _check_configuration_name(ctx)
    record = load_sync(ctx) or {}
    rows = _all_rows(ctx)
    props: dict[str, Any] = {
        "branch": record.get("branch", DEFAULT_BRANCH),
        "isExport": bool(record.get("isExport")),
        "isSynced": record.get("fingerprint") == fingerprint(rows),
        "isGitEnabled": _git_enabled(ctx),
        "configurationChangeDate": max((r.updated for r in rows), default=utc_now()),
    }
    if record:
        props["commitId"] = record["commitId"]
        props["syncDate"] = record["syncDate"]
    last = ctx.store.meta(_key(ctx, "lastOperation"))
    if last:
        props["lastOperationId"] = last
    body = {
        "id": ctx.arm_id(f"tenant/{CONFIGURATION_NAME}/syncState"),
        "type": SYNC_TYPE,
        "name": "syncState",
        "properties": props,
    }
    return Reply(200, body)


# -- running an operation --------------------------------------------------------------


def _start(ctx: Ctx, work: Work) -> Reply:
    _check_configuration_name(ctx)
    params = _params(ctx)
    op_id = secrets.token_hex(12)
    started = utc_now()
    with _service_lock(ctx):
        try:
            outcome = work(ctx, params)
            properties: dict[str, Any] = {"status": "Succeeded", "resultInfo": outcome.result_info}
            if outcome.action_log is not None:
                properties["actionLog"] = outcome.action_log
        except OperationFailed as exc:
            properties = {"status": "Failed", "error": exc.error()}
        except (GitError, ApimsyncError) as exc:
            failed = OperationFailed(str(exc), code="OperationFailed")
            properties = {"status": "Failed", "error": failed.error()}
        _record_result(ctx, op_id, {"id": op_id, **properties, "started": started})
    location = ctx.url(f"tenant/operationResults/{op_id}")
    return Reply(202, None, {"Location": location, "Retry-After": "0"})


def _record_result(ctx: Ctx, op_id: str, properties: dict[str, Any]) -> None:
    properties["updated"] = utc_now()
    arm_id = ctx.arm_id(f"tenant/operationResults/{op_id}")
    body = {"id": arm_id, "type": RESULT_TYPE, "name": op_id, "properties": properties}
    ctx.store.put_operation(op_id, ctx.service, body)
    ctx.store.set_meta(_key(ctx, "lastOperation"), arm_id)


def _check_configuration_name(ctx: Ctx) -> None:
    if ctx.params.get("configurationName", "").lower() != CONFIGURATION_NAME:
        raise not_found("Configuration")


def _params(ctx: Ctx) -> Params:
    props = body_properties(ctx)
    branch = props.get("branch")
    if not isinstance(branch, str) or not branch.strip():
        raise validation_error("'branch' is required.", target="branch")
    if not valid_branch(branch):
        raise validation_error(f"'{branch}' is not a valid branch name.", target="branch")
    force = props.get("force", False)
    if not isinstance(force, bool):
        raise validation_error("'force' must be true or false.", target="force")
    return Params(branch, force)


def _service_lock(ctx: Ctx) -> threading.Lock:
    key = (str(ctx.store.path), ctx.service.lower())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def _repository(ctx: Ctx) -> Repository:
    return Repository.open(ctx.store.path.parent, ctx.service)


# -- the operations --------------------------------------------------------------------


def _validate(ctx: Ctx, params: Params) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="apimsync-validate-") as scratch:
        branch = _read_branch(ctx, params.branch, Path(scratch))
    state = instance_state(ctx)
    changes = plan(state.configuration, branch.configuration)
    check_subscriptions(ctx, changes, state, params.force)
    log = [change.log_item() for change in changes]
    return Outcome(f"Validation is successful: {_summary(log)}.", log)


def _deploy(ctx: Ctx, params: Params) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="apimsync-deploy-") as scratch:
        branch = _read_branch(ctx, params.branch, Path(scratch))
    with ctx.store.transaction():
        changes = apply_plan(ctx, branch, params.force)
        ctx.store.set_meta(_key(ctx, "aliases"), json.dumps(dict(branch.aliases)))
        _record_sync(ctx, params.branch, branch.commit, is_export=False)
    log = [change.log_item() for change in changes]
    return Outcome(
        f"The configuration was successfully deployed from {params.branch} at commit "
        f"{branch.commit}: {_summary(log)}."
    )


def _read_branch(ctx: Ctx, branch: str, scratch: Path) -> BranchState:
    try:
        return read_branch(ctx, _repository(ctx), branch, scratch)
    except GitError as exc:
        raise OperationFailed(str(exc), code="RepositoryError") from exc


def _save(ctx: Ctx, params: Params) -> Outcome:
    repository = _repository(ctx)
    head = repository.head(params.branch)
    _check_not_ahead(ctx, repository, params, head)
    with tempfile.TemporaryDirectory(prefix="apimsync-save-") as name:
        scratch = Path(name)
        folder = scratch / "tree"
        folder.mkdir()
        if head is not None:
            repository.export(head, folder, scratch / "index")
        with ctx.store.transaction():  # one consistent snapshot
            current = instance_state(ctx).configuration
            snapshot = fingerprint(_all_rows(ctx))
        _write_snapshot(ctx, current, folder)
        commit = _commit(ctx, repository, params.branch, head, folder, scratch / "index")
    _record_sync(ctx, params.branch, commit, is_export=True, snapshot=snapshot)
    return Outcome(
        f"The configuration was successfully saved to {params.branch} as commit {commit}.", []
    )


def _check_not_ahead(ctx: Ctx, repository: Repository, params: Params, head: str | None) -> None:
    """Refuse to save over commits the service has not seen (unless ``force``)."""
    synced = (load_sync(ctx) or {}).get("commitId")
    if head is None or params.force or (synced and repository.contains(synced, head)):
        return
    raise OperationFailed(
        f"The repository has changes that are not deployed: branch '{params.branch}' is at "
        f"commit {head}, which the service was never synchronised with. Deploy the branch "
        "first, or save with force to overwrite those changes.",
        code="RepositoryHasChanges",
    )


def _write_snapshot(ctx: Ctx, current: Configuration, folder: Path) -> None:
    previous = read_tree(folder)
    aliases = {v: k for k, v in _stored_aliases(ctx).items()}
    model = save_model(current, previous.configuration, aliases)
    try:
        write_tree(model, folder, previous.layout)
    except ApimsyncError as exc:
        raise OperationFailed(f"The configuration cannot be written: {exc}", "SaveFailed") from exc


def save_model(
    current: Configuration, previous: Configuration, aliases: dict[str, str]
) -> Configuration:
    """What save writes: the service's state, with the branch's own copy of every
    resource that means the same (so its files keep their bytes), plus the branch's extras."""
    chosen: list[Resource] = []
    for resource in current:
        resource = translate(resource, aliases)
        before = previous.get(resource.id)
        same = before is not None and normalize(before) == normalize(resource)
        chosen.append(before if same and before is not None else resource)
    chosen += [r for r in previous if r.kind in EXTRAS_KINDS]
    return Configuration(chosen)


def _commit(
    ctx: Ctx, repository: Repository, branch: str, head: str | None, folder: Path, index: Path
) -> str:
    email = f"apim@{ctx.service.lower()}.scm.azure-api.net"
    message = f"Save the configuration of {ctx.service} ({utc_now()})"
    try:
        commit = repository.commit_folder(folder, index, head, message, email)
        if commit is None:
            assert head is not None
            return head
        repository.move_branch(branch, commit, head)
    except GitError as exc:
        raise OperationFailed(
            f"The branch '{branch}' could not be updated ({exc}); it may have moved meanwhile.",
            code="RepositoryError",
        ) from exc
    return commit


# -- sync state ------------------------------------------------------------------------


def _key(ctx: Ctx, what: str) -> str:
    return f"scm:{ctx.service.lower()}:{what}"


def load_sync(ctx: Ctx) -> dict[str, Any] | None:
    stored = ctx.store.meta(_key(ctx, "sync"))
    record = json.loads(stored) if stored else None
    return record if isinstance(record, dict) else None


def _stored_aliases(ctx: Ctx) -> dict[str, str]:
    stored = ctx.store.meta(_key(ctx, "aliases"))
    aliases = json.loads(stored) if stored else {}
    return {str(k): str(v) for k, v in aliases.items()} if isinstance(aliases, dict) else {}


def _record_sync(
    ctx: Ctx, branch: str, commit: str, *, is_export: bool, snapshot: str | None = None
) -> None:
    record = {
        "branch": branch,
        "commitId": commit,
        "isExport": is_export,
        "syncDate": utc_now(),
        "fingerprint": snapshot or fingerprint(_all_rows(ctx)),
    }
    ctx.store.set_meta(_key(ctx, "sync"), json.dumps(record))


def _all_rows(ctx: Ctx) -> list[Row]:
    return ctx.store.of_kind(ctx.service, *KINDS)


def fingerprint(rows: Iterable[Row]) -> str:
    """Changes whenever a resource is written (a new, highest version) or deleted (fewer)."""
    listed = list(rows)
    return f"{len(listed)}:{max((r.seq for r in listed), default=0)}"


def _git_enabled(ctx: Ctx) -> bool:
    row = ctx.store.get(ctx.service, "tenant/gitAccess")
    return bool(row is not None and row.props.get("enabled"))


def _summary(log: list[dict[str, str]]) -> str:
    counts = {
        a: sum(1 for item in log if item["action"] == a) for a in ("Created", "Updated", "Deleted")
    }
    return ", ".join(f"{n} {action.lower()}" for action, n in counts.items())
