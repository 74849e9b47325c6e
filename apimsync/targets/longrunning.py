"""Long-running writes as the real service answers them, through the client's pipeline.

Named value PUT, API import and schema PUT may answer ``202`` with an empty body and a
``Location`` carrying ``asyncId``/``asyncCode``; a GET on that link answers ``202`` while
the write runs and then the entity with the status ``asyncCode`` names
(real-service-behaviour.md §1.3, [NV20 e2/e3], [OAS20 e2/e3], [SCH20 e6]). Newer
api-versions may answer ``200``/``201`` with the entity at once. The SDK 5.0 methods for
these writes accept only ``200``/``201`` and raise on a ``202``, so apimsync sends them
through the client's own pipeline (the same credential, counters and transport) and
polls itself: each poll is one retried call, stays on the endpoint's origin, and waits
what ``Retry-After`` says (without one, a quarter second at first, then twice as long
each time, up to 5 s).

``DELETE /apis/{id}`` is the same in reverse: the service answers ``200`` with an empty
body (``204`` when it was gone already; §1.3, [API20 e19/e20], [REV20 p@136000]), which
the SDK 5.0's ``begin_delete`` refuses (it takes ``202``/``204`` only), so
:func:`delete_and_wait` sends it the same way and polls a ``202``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.rest import HttpRequest, HttpResponse

from apimsync.targets.calls import (
    BadAnswer,
    CallFailed,
    Session,
    poll_delay,
    same_origin,
)
from apimsync.targets.raw import resource_url, send

LONGEST_WAIT = 600.0
"""Seconds a long-running write may run before apimsync gives up on it."""


def put_and_wait(
    session: Session,
    resource_id: str,
    body: Mapping[str, Any],
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """PUT ``body`` at ``resource_id`` and wait until the service has done it."""
    request = HttpRequest(
        "PUT",
        resource_url(session, resource_id),
        headers={"Content-Type": "application/json", **(headers or {})},
        content=json.dumps(body).encode("utf-8"),
    )
    _send_and_wait(session, request, resource_id, what)


def delete_and_wait(
    session: Session,
    resource_id: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> None:
    """DELETE ``resource_id`` and wait until the service has done it."""
    url = resource_url(session, resource_id, **(query or {}))
    request = HttpRequest("DELETE", url, headers=dict(headers or {}))
    _send_and_wait(session, request, resource_id, what)


def _send_and_wait(session: Session, request: HttpRequest, resource_id: str, what: str) -> None:
    response = session.call(what, _sender(session, request), resource_id)
    if response.status_code == 202:
        _wait(session, response, resource_id, what)


def _wait(session: Session, accepted: HttpResponse, resource_id: str, what: str) -> None:
    """Poll the status link of a ``202`` answer until the write is done."""
    response = accepted
    link = _status_link(session, response, what)
    started = time.monotonic()
    for polls in itertools.count():
        if time.monotonic() - started > LONGEST_WAIT:
            raise CallFailed(what, 202, "StillRunning", f"not done after {LONGEST_WAIT:.0f} s")
        time.sleep(poll_delay(response.headers.get("Retry-After"), polls))
        response = session.call(what, _sender(session, HttpRequest("GET", link)), resource_id)
        if response.status_code == 202:
            link = _status_link(session, response, what) if _has_link(response) else link
            continue
        if not _still_running(response, what):
            return


def _sender(session: Session, request: HttpRequest) -> Callable[[], HttpResponse]:
    return lambda: send(session, request)


def _status_link(session: Session, response: HttpResponse, what: str) -> str:
    link = response.headers.get("Location") or response.headers.get("Azure-AsyncOperation")
    endpoint = session.target.endpoint
    if not link:
        raise BadAnswer(endpoint, what, "a 202 answer without a status link")
    if not same_origin(link, endpoint):
        raise BadAnswer(endpoint, what, "a status link to another host")
    return str(link)


def _has_link(response: HttpResponse) -> bool:
    return bool(response.headers.get("Location") or response.headers.get("Azure-AsyncOperation"))


def _still_running(response: HttpResponse, what: str) -> bool:
    """Whether a ``200`` poll answer says the write still runs: the entity means done; an
    operation-status document (``{"status": ...}``, the ``Azure-AsyncOperation`` kind)
    says so, or raises when the write failed."""
    try:
        body = response.json() if response.text().strip() else None
    except ValueError:
        return False
    if (
        not isinstance(body, dict)
        or "properties" in body
        or not isinstance(body.get("status"), str)
    ):
        return False
    status = body["status"].casefold()
    if status in ("failed", "canceled", "cancelled"):
        error = body.get("error")
        error = error if isinstance(error, dict) else {}
        raise CallFailed(
            what,
            response.status_code,
            str(error.get("code") or body["status"]),
            str(error.get("message") or "the long-running write did not succeed"),
        )
    return status not in ("succeeded", "success")
