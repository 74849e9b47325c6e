"""The live instance through the real ``azure-mgmt-apimanagement`` SDK.

- :func:`read_instance` reads every kind of the model with few requests;
- :func:`fetch_etags` gets the current ETags of the resources a plan changes or deletes;
- :func:`apply_plan` applies a :class:`~apimsync.plan.changes.Plan`.

Each takes a :class:`~apimsync.targets.connection.Target` and optionally a ready
``ApiManagementClient`` (``client=``; by default ``target.client(retry_total=0)``).
Requests are counted per call, azure-core's own retries are switched off per call and
replaced by :class:`~apimsync.targets.calls.RetryPolicy` (the per-call ``raw_request_hook``,
and ``raw_response_hook`` on lists, take the place of hooks set on a given client).
Problems a user can cause raise a :class:`~apimsync.targets.calls.TargetProblem`
(:class:`TargetUnreachable`, :class:`TlsFailure`, :class:`AccessDenied`,
:class:`ServiceNotFound`) with one message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from apimsync.model import Kind
from apimsync.plan.changes import Plan
from apimsync.targets.applying import (
    ApplyEvent,
    ApplyFailure,
    ApplyInterrupted,
    ApplyReport,
    ApplyStopped,
    PlanApplier,
    SecretMissing,
)
from apimsync.targets.armids import path_names
from apimsync.targets.calls import (
    DEFAULT_RETRY,
    AccessDenied,
    CallFailed,
    Retry,
    RetryPolicy,
    ServiceNotFound,
    Session,
    TargetProblem,
    TargetUnreachable,
    TlsFailure,
)
from apimsync.targets.connection import Target
from apimsync.targets.endpoints import endpoint_of
from apimsync.targets.reading import InstanceReader, LiveState, ReadProgress
from apimsync.targets.workers import Workers

__all__ = [
    "AccessDenied",
    "ApplyEvent",
    "ApplyFailure",
    "ApplyInterrupted",
    "ApplyReport",
    "ApplyStopped",
    "CallFailed",
    "LiveState",
    "ReadProgress",
    "RetryPolicy",
    "SecretMissing",
    "ServiceNotFound",
    "TargetProblem",
    "TargetUnreachable",
    "TlsFailure",
    "apply_plan",
    "fetch_etags",
    "read_instance",
]


def read_instance(
    target: Target,
    *,
    parallelism: int = 8,
    client: Any = None,
    skip_kinds: frozenset[Kind] = frozenset(),
    retry: RetryPolicy = DEFAULT_RETRY,
    on_retry: Callable[[Retry], None] | None = None,
    on_progress: Callable[[ReadProgress], None] | None = None,
) -> LiveState:
    """Every resource of the model on the instance (``skip_kinds`` left out; kinds the
    endpoint does not implement are named in ``LiveState.unsupported``). ``on_retry`` and
    ``on_progress`` hear each retry and each finished list or GET (from worker threads)."""
    session = Session(target, client, retry, on_retry)
    return InstanceReader(session, skip_kinds, parallelism, on_progress).read()


def fetch_etags(
    target: Target,
    ids: Iterable[str],
    *,
    client: Any = None,
    parallelism: int = 8,
    retry: RetryPolicy = DEFAULT_RETRY,
    on_retry: Callable[[Retry], None] | None = None,
    on_progress: Callable[[ReadProgress], None] | None = None,
) -> dict[str, str]:
    """The current ETag of each named resource that has one (links have none; resources
    that do not exist are left out), one ``HEAD`` each."""
    session = Session(target, client, retry, on_retry)
    wanted = [i for i in dict.fromkeys(ids) if endpoint_of(i).etags]
    found: dict[str, str] = {}
    done: list[str] = []
    lock = threading.Lock()

    def fetch(resource_id: str) -> None:
        etag = _etag(session, resource_id)
        with lock:
            done.append(resource_id)
            if etag:
                found[resource_id] = etag
            progress = ReadProgress(len(done), len(wanted), len(found), session.requests)
        if on_progress is not None:
            on_progress(progress)

    try:
        with Workers(parallelism, "apimsync-etag") as pool:
            pool.map(fetch, wanted)
    except BaseException:
        session.cancel()
        raise
    return {resource_id: found[resource_id] for resource_id in wanted if resource_id in found}


def _etag(session: Session, resource_id: str) -> str | None:
    endpoint = endpoint_of(resource_id)
    entity_tag = getattr(session.operations(endpoint.group), endpoint.entity_tag)

    def head() -> str | None:
        headers: Mapping[str, Any] = entity_tag(
            session.rg,
            session.service,
            *path_names(resource_id),
            **session.options(cls=lambda response, result, headers: headers),
        )
        etag = headers.get("ETag")
        return str(etag) if etag else None

    try:
        return session.call(f"the ETag of '{resource_id}'", head, resource_id)
    except CallFailed as failure:
        if failure.status in (404, 501):
            return None  # gone, or a kind the endpoint does not implement (see LiveState)
        raise


def apply_plan(
    target: Target,
    plan: Plan,
    *,
    parallelism: int = 8,
    secrets: Mapping[str, str] | None = None,
    on_event: Callable[[ApplyEvent], None] | None = None,
    client: Any = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> ApplyReport:
    """Apply ``plan``; see :mod:`apimsync.targets.applying`.

    ``secrets`` maps a secret named value's id to its value. ``on_event`` hears every
    applied, skipped, failed and not attempted change and every retry (from worker
    threads, one at a time). A :class:`TargetProblem` mid-deploy raises
    :class:`ApplyInterrupted`, whose ``report`` says what was done.
    """
    session = Session(target, client, retry)
    return PlanApplier(session, plan, secrets or {}, on_event, parallelism).run()
