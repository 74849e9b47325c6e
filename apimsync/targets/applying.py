"""Apply a plan to a live instance through the SDK.

Changes run level by level (:func:`~apimsync.plan.order.dependency_levels`: creates and
updates first, deletes last in reverse order). Within a level they run in a bounded
thread pool, except that the writes to one API (the API and its operations, schemas,
policies, diagnostics) run one after another: API Management refuses overlapping writes
to an API (409 ``PessimisticConcurrencyConflict``).

Each write sends the model's ``properties`` as the JSON body (no SDK model in between),
with the ids the API wants in full expanded. Updates and deletes carry the plan's ETag
in ``If-Match``: a resource changed since the plan answers 412 and is reported as a stale
plan, never retried. A failed change does not stop independent ones; the changes that
need it are not attempted. Built-in groups are never created or deleted (they exist on
every instance), portal settings never deleted.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, NamedTuple

from apimsync.errors import ApimsyncError, Interrupted
from apimsync.jsonvalue import thaw
from apimsync.model import Kind
from apimsync.plan.changes import Action, Change, Plan
from apimsync.plan.order import dependency_levels, identity
from apimsync.schemadocs import as_sent
from apimsync.targets.apiwrites import ApiWrites
from apimsync.targets.armids import api_key, expand_ids, path_names
from apimsync.targets.calls import (
    CallCancelled,
    CallFailed,
    Retry,
    Session,
    TargetProblem,
    TimedOut,
)
from apimsync.targets.dependencies import Dependencies
from apimsync.targets.endpoints import BUILT_IN_GROUPS, Endpoint, endpoint_of
from apimsync.targets.longrunning import delete_and_wait, put_and_wait
from apimsync.targets.workers import Workers

STARTED = "started"
APPLIED = "applied"
SKIPPED = "skipped"
FAILED = "failed"
NOT_ATTEMPTED = "not-attempted"
RETRY = "retry"


@dataclass(frozen=True)
class ApplyEvent:
    """Something that happened to one change (``event`` is one of the constants above)."""

    event: str
    resource_id: str
    action: str
    message: str = ""
    attempt: int = 0
    """For ``retry``: the attempt about to start (2 = the first retry)."""
    delay: float = 0.0
    """For ``retry``: seconds waited before it."""

    def __str__(self) -> str:
        text = f"{self.event}: {self.action} {self.resource_id}".rstrip()
        return f"{text}: {self.message}" if self.message else text


class ApplyFailure(NamedTuple):
    """A change that failed: ``resource_id, message = failure``."""

    resource_id: str
    message: str


@dataclass(frozen=True)
class ApplyReport:
    """What a deploy did, change by change, in plan order."""

    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    """Built-in groups a plan creates: they exist on every instance; nothing was written."""
    failed: tuple[ApplyFailure, ...] = ()
    stale: tuple[str, ...] = ()
    """The failed changes whose resource changed on the instance since the plan (412)."""
    not_attempted: tuple[str, ...] = ()
    retries: int = 0
    writes: int = 0
    """Write requests sent (PUT, PATCH, DELETE, POST), retries included."""
    requests: int = 0
    interrupted: tuple[str, ...] = ()
    """Changes under way when the deploy was interrupted: they may or may not be applied."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted and not self.interrupted

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": list(self.applied),
            "skipped": list(self.skipped),
            "failed": [
                {"id": f.resource_id, "message": f.message, "stale": f.resource_id in self.stale}
                for f in self.failed
            ],
            "interrupted": list(self.interrupted),
            "not_attempted": list(self.not_attempted),
            "retries": self.retries,
            "writes": self.writes,
            "requests": self.requests,
        }


class ApplyInterrupted(ApimsyncError):
    """The instance became unusable mid-deploy; ``report`` says what happened until then."""

    def __init__(self, problem: TargetProblem, report: ApplyReport) -> None:
        super().__init__(
            f"{problem.message}. The deploy stopped: {len(report.applied)} changes applied, "
            f"{len(report.failed)} failed, {len(report.not_attempted)} not attempted"
        )
        self.exit_code = problem.exit_code
        self.problem = problem
        self.report = report


class ApplyStopped(Interrupted):
    """Ctrl-C mid-deploy; ``report`` says what was applied until then."""

    def __init__(self, report: ApplyReport) -> None:
        super().__init__(
            f"{len(report.applied)} changes applied, {len(report.interrupted)} under way "
            f"(they may have been applied), {len(report.not_attempted)} not attempted; "
            "run deploy again to converge"
        )
        self.report = report


class SecretMissing(ApimsyncError):
    def __init__(self, resource_id: str) -> None:
        super().__init__(
            f"named value '{resource_id}' is secret and no value was supplied for it: provide "
            f"the value of '{resource_id}' through the deploy's secret inputs (secret values "
            "are never stored in the repository nor read from the instance)"
        )


class _Outcomes:
    """The results so far, shared by the worker threads."""

    def __init__(self, on_event: Callable[[ApplyEvent], None] | None) -> None:
        self._lock = threading.Lock()
        self._on_event = on_event
        self.by_key: dict[str, str] = {}
        self.failures: dict[str, ApplyFailure] = {}
        self.stale: set[str] = set()
        self.started: set[str] = set()
        self._unsuccessful: set[str] = set()  # kept as events come: asked before each write

    def start(self, change: Change) -> None:
        with self._lock:
            self.started.add(identity(change.resource_id))
        self.emit(ApplyEvent(STARTED, change.resource_id, change.action.value))

    def record(self, change: Change, event: str, message: str = "", stale: bool = False) -> None:
        key = identity(change.resource_id)
        with self._lock:
            self.by_key[key] = event
            if event in (FAILED, NOT_ATTEMPTED):
                self._unsuccessful.add(key)
            else:
                self._unsuccessful.discard(key)
            if event == FAILED:
                self.failures[key] = ApplyFailure(change.resource_id, message)
            if stale:
                self.stale.add(key)
        self.emit(ApplyEvent(event, change.resource_id, change.action.value, message))

    def emit(self, event: ApplyEvent) -> None:
        if self._on_event is not None:
            with self._lock:
                self._on_event(event)

    def unsuccessful(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._unsuccessful)

    def report(self, plan: Plan, session: Session, *, interrupted: bool = False) -> ApplyReport:
        """What happened; ``interrupted``: changes that have no outcome yet were under way
        (started) or are not attempted."""
        with self._lock:
            by_key = dict(self.by_key)
            started = set(self.started)
        if interrupted:
            for change in plan.changes:
                key = identity(change.resource_id)
                if key not in by_key:
                    by_key[key] = STARTED if key in started else NOT_ATTEMPTED

        def having(event: str) -> tuple[str, ...]:
            keys = {key for key, value in by_key.items() if value == event}
            return tuple(c.resource_id for c in plan.changes if identity(c.resource_id) in keys)

        failed = tuple(
            self.failures[identity(c.resource_id)]
            for c in plan.changes
            if identity(c.resource_id) in self.failures
        )
        stale = tuple(c.resource_id for c in plan.changes if identity(c.resource_id) in self.stale)
        return ApplyReport(
            having(APPLIED),
            having(SKIPPED),
            failed,
            stale,
            having(NOT_ATTEMPTED),
            session.retries,
            session.writes,
            session.requests,
            having(STARTED),
        )


class PlanApplier:
    """Applies one plan; :meth:`run` returns the report."""

    def __init__(
        self,
        session: Session,
        plan: Plan,
        secrets: Mapping[str, str],
        on_event: Callable[[ApplyEvent], None] | None,
        parallelism: int,
    ) -> None:
        self.session = session
        self.plan = plan
        self.secrets = secrets
        self.parallelism = max(1, parallelism)
        self.outcomes = _Outcomes(on_event)
        self.dependencies = Dependencies(plan.changes)
        self.api_writes = ApiWrites(session, plan)
        self._actions = {identity(c.resource_id): c.action.value for c in plan.changes}
        self._stop = threading.Event()
        session.on_retry = self._retried

    def run(self) -> ApplyReport:
        """Apply the plan. Ctrl-C stops at once: what was not started is not attempted,
        what was under way is reported as such (:class:`ApplyStopped`)."""
        problem: TargetProblem | None = None
        try:
            with Workers(self.parallelism, "apimsync-apply") as pool:
                for level in dependency_levels(self.plan.changes):
                    problem = problem or self._run_level(pool, level)
        except KeyboardInterrupt:
            self._stop_all()
            report = self.outcomes.report(self.plan, self.session, interrupted=True)
            raise ApplyStopped(report) from None
        report = self.outcomes.report(self.plan, self.session)
        if problem is not None:
            raise ApplyInterrupted(problem, report)
        return report

    def _stop_all(self) -> None:
        self._stop.set()
        self.session.cancel()

    def _run_level(self, pool: Workers, level: list[Change]) -> TargetProblem | None:
        if self._stop.is_set():
            for change in level:
                self.outcomes.record(change, NOT_ATTEMPTED, "the deploy stopped before it")
            return None
        futures: list[Future[None]] = [
            pool.submit(self._run_chain, chain) for chain in _chains(level)
        ]
        problem: TargetProblem | None = None
        for future in futures:
            try:
                future.result()
            except TargetProblem as error:
                problem = problem or error
        return problem

    def _run_chain(self, chain: list[Change]) -> None:
        for change in chain:
            if self._stop.is_set():
                self.outcomes.record(change, NOT_ATTEMPTED, "the deploy stopped before it")
                continue
            blocker = self.dependencies.blocked_by(change, self.outcomes.unsuccessful())
            if blocker is not None:
                self.outcomes.record(
                    change, NOT_ATTEMPTED, f"it needs '{blocker}', which did not succeed"
                )
                continue
            self.outcomes.start(change)
            try:
                self._apply(change)
            except TargetProblem as problem:
                self._stop_all()
                if isinstance(problem, TimedOut) and not problem.connecting:
                    message = f"{problem.message}; it may have been applied"
                    self.outcomes.record(change, FAILED, message)
                else:
                    self.outcomes.record(change, NOT_ATTEMPTED, "the instance became unusable")
                raise

    def _retried(self, retry: Retry) -> None:
        action = self._actions.get(identity(retry.subject), "")
        message = f"{retry.reason}; retrying in {retry.delay:.1f} s"
        self.outcomes.emit(
            ApplyEvent(RETRY, retry.subject, action, message, retry.attempt, retry.delay)
        )

    # -- one change ---------------------------------------------------------------------

    def _apply(self, change: Change) -> None:
        try:
            event = self._write(change)
        except CallFailed as failure:
            self._failed(change, failure)
        except CallCancelled as cancelled:
            if cancelled.after_lost_answer:
                message = "the deploy stopped; an answer was lost, so it may have been applied"
                self.outcomes.record(change, FAILED, message)
            else:
                self.outcomes.record(change, NOT_ATTEMPTED, "the deploy stopped before it")
        except SecretMissing as missing:
            self.outcomes.record(change, FAILED, missing.message)
        else:
            self.outcomes.record(change, event)

    def _failed(self, change: Change, failure: CallFailed) -> None:
        if change.action is Action.DELETE and failure.status == 404:
            self.outcomes.record(change, APPLIED, "it was already gone")
            return
        if change.action is Action.DELETE and failure.status == 200:
            # The service answers 200 to an API delete (recorded), which the SDK 5.0's
            # long-running delete does not expect: the resource is gone all the same.
            self.outcomes.record(change, APPLIED)
            return
        if failure.status != 412:
            self.outcomes.record(change, FAILED, failure.reason)
            return
        message = (
            f"stale plan: '{change.resource_id}' changed on the instance since the plan was "
            "made (its ETag no longer matches); make a new plan"
        )
        if failure.after_lost_answer:
            message += " (an earlier attempt's answer was lost: it may have been applied)"
        self.outcomes.record(change, FAILED, message, stale=True)

    def _write(self, change: Change) -> str:
        endpoint = endpoint_of(change.resource_id)
        if change.action is Action.DELETE:
            self._delete(change, endpoint)
            return APPLIED
        if change.action is Action.CREATE and _is_built_in_group(change):
            return SKIPPED
        if self.api_writes.covers(change):
            return APPLIED
        if_match = change.etag if change.action is Action.UPDATE and endpoint.etags else None
        if_match = self.api_writes.if_match(change, if_match)
        body = self._body(change)
        self.api_writes.prepare(change, body)
        if endpoint.lro:
            # The SDK raises on the 202 the real service may answer (see longrunning).
            what = f"{change.action.value} '{change.resource_id}'"
            headers = {"If-Match": if_match} if if_match else {}
            put_and_wait(self.session, change.resource_id, body, what=what, headers=headers)
            return APPLIED
        options = {"if_match": if_match} if if_match else {}
        self._send(change, endpoint.group, endpoint.create, endpoint.lro, body, options)
        return APPLIED

    def _delete(self, change: Change, endpoint: Endpoint) -> None:
        if endpoint.delete is None or identity(change.resource_id) in BUILT_IN_GROUPS:
            raise CallFailed(
                f"delete '{change.resource_id}'",
                None,
                "NotDeletable",
                "it exists on every instance and is never deleted",
            )
        options = dict(endpoint.delete_options)
        if endpoint.etags:
            options["if_match"] = change.etag or "*"
        if endpoint.lro_delete:
            # The SDK refuses the 200 the real service answered (see longrunning).
            query = {"deleteRevisions": "true"} if ";rev=" not in change.resource_id else {}
            headers = {"If-Match": options["if_match"]} if "if_match" in options else {}
            what = f"delete '{change.resource_id}'"
            delete_and_wait(
                self.session, change.resource_id, what=what, headers=headers, query=query
            )
            return
        self._send(change, endpoint.group, endpoint.delete, endpoint.lro_delete, None, options)

    def _body(self, change: Change) -> dict[str, Any]:
        resource = change.resource
        properties: dict[str, Any] = thaw(resource.properties)
        if resource.kind is Kind.NAMED_VALUE:
            self._fill_secret(change, properties)
        if resource.kind in (Kind.POLICY, Kind.POLICY_FRAGMENT):
            properties.setdefault("format", "rawxml")
        if resource.kind is Kind.API_SCHEMA:
            properties = as_sent(properties)
        expand_ids(self.session.target.service_path, resource.kind, properties)
        return {"properties": properties}

    def _fill_secret(self, change: Change, properties: dict[str, Any]) -> None:
        if properties.get("secret") is not True or properties.get("keyVault"):
            return
        value = _lookup(self.secrets, change.resource_id)
        if value is not None:
            properties["value"] = value
        elif "/value" in change.withheld or not properties.get("value"):
            raise SecretMissing(change.resource_id)

    def _send(
        self,
        change: Change,
        group: str,
        method_name: str,
        long_running: bool,
        body: dict[str, Any] | None,
        options: dict[str, Any],
    ) -> None:
        session = self.session
        method = getattr(session.operations(group), method_name)
        names = path_names(change.resource_id)
        what = f"{change.action.value} '{change.resource_id}'"

        def call(**extra: Any) -> Any:
            payload = () if body is None else (_stream(body),)
            return method(
                session.rg, session.service, *names, *payload, **options, **session.options(**extra)
            )

        if not long_running:
            session.call(what, call, change.resource_id)
            return
        poller = session.call(
            what,
            lambda: call(polling=session.polling(what, change.resource_id)),
            change.resource_id,
        )
        token = poller.continuation_token()
        pending = [poller]

        def finish() -> Any:
            current = (
                pending.pop()
                if pending
                else call(
                    polling=session.polling(what, change.resource_id), continuation_token=token
                )
            )
            return current.result()

        session.call(what, finish, change.resource_id)


def _chains(level: list[Change]) -> list[list[Change]]:
    """The level's changes in chains: one per API (its writes in order), one per other."""
    by_api: dict[str, list[Change]] = {}
    chains: list[list[Change]] = []
    for change in level:
        key = api_key(change.resource_id)
        if key is None:
            chains.append([change])
        elif key in by_api:
            by_api[key].append(change)
        else:
            by_api[key] = [change]
            chains.append(by_api[key])
    return chains


def _is_built_in_group(change: Change) -> bool:
    """One of the groups every instance has under its well-known id."""
    return identity(change.resource_id) in BUILT_IN_GROUPS


def _lookup(secrets: Mapping[str, str], resource_id: str) -> str | None:
    if resource_id in secrets:
        return secrets[resource_id]
    wanted = identity(resource_id)
    return next((v for k, v in secrets.items() if identity(k) == wanted), None)


def _stream(body: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(body).encode("utf-8"))
