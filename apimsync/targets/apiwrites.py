"""How deploy writes APIs: specification imports, schemas and revisions made current.

* An API that carries a specification (``format`` + ``value``, read from an APIOps
  folder) is imported when the plan creates it or changes its operations: one PUT with
  the specification, which the service answers ``202`` and works on. The SDK 5.0
  refuses a ``202`` there, so the request goes through the client's pipeline and the
  import is polled here (each poll retried on its own, only on the endpoint's host).
  The operations the import creates are not written again; their policies follow as
  usual. Other API writes leave the import properties out: there is nothing to import.
* An API schema is written the same way: the service answers its PUT ``202`` too.
* A new revision names its source (``sourceApiId``: the current revision), as the
  service requires.
* A revision the plan makes current (:mod:`apimsync.plan.revisions`) is released, as
  the APIOps publisher does it: a release names the revision and is deleted again. The
  revision that stops being current needs no write of its own.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from apimsync.model import Kind, api_id_without_revision, last_segment
from apimsync.plan.changes import MISSING, Action, Change, Plan
from apimsync.plan.imports import DEFINED_KINDS, api_of, imported_apis
from apimsync.plan.order import identity
from apimsync.plan.revisions import REVISION, makes_current
from apimsync.targets.calls import (
    POLL_INTERVAL,
    BadAnswer,
    CallFailed,
    Session,
    parse_retry_after,
    same_origin,
)

IMPORT_PROPERTIES = ("format", "value", "wsdlSelector", "translateRequiredQueryParameters")
IMPORT_DEADLINE = 600.0
"""Seconds an import may take before deploy gives up waiting for it."""
_ACCEPTED = frozenset({200, 201, 202})
_DONE = frozenset({200, 201, 204})


class ApiWrites:
    """The API writes of one plan that are not plain PUTs."""

    def __init__(self, session: Session, plan: Plan) -> None:
        self.session = session
        self.imported = imported_apis(plan.changes)

    def covers(self, change: Change) -> bool:
        """True for an operation or schema write that the import of its API's
        specification makes."""
        if change.kind not in DEFINED_KINDS or change.action is Action.DELETE:
            return False
        return api_of(change) in self.imported

    def write(
        self,
        change: Change,
        body: dict[str, Any],
        options: dict[str, Any],
        send: Callable[[dict[str, Any]], None],
    ) -> bool:
        """Write an API or API schema change (``send`` is the plain write); False for
        other changes."""
        if change.action is Action.DELETE:
            return False
        if change.kind is Kind.API_SCHEMA:
            what = f"{change.action.value} '{change.resource_id}'"
            self._put_long_running(what, change.resource_id, body, options)
            return True
        if change.kind is not Kind.API:
            return False
        properties = body["properties"]
        properties.pop("isCurrent", None)
        for key in _cleared(change):
            properties.setdefault(key, None)
        if change.action is Action.CREATE and REVISION in change.resource_id:
            base = api_id_without_revision(change.resource_id)
            properties.setdefault("sourceApiId", self.session.target.service_path + base)
        if identity(change.resource_id) in self.imported:
            self._import(change, body, options)
        else:
            for key in IMPORT_PROPERTIES:
                properties.pop(key, None)
            if not _only_current_changes(change):
                send(body)
        if makes_current(change.after) and not makes_current(change.before):
            self._release(change)
        return True

    # -- imports -----------------------------------------------------------------------

    def _import(self, change: Change, body: dict[str, Any], options: dict[str, Any]) -> None:
        properties = body["properties"]
        wsdl = str(properties.get("format", "")).startswith("wsdl")
        if wsdl and properties.get("type") == "soap":
            properties.setdefault("apiType", "soap")  # a SOAP pass-through, not REST to SOAP
        what = f"import the specification of '{change.resource_id}'"
        self._put_long_running(what, change.resource_id, body, options)

    def _put_long_running(
        self, what: str, resource_id: str, body: dict[str, Any], options: dict[str, Any]
    ) -> None:
        """PUT ``body`` and wait until the service is done: an import, or an API schema
        (both answered 202, which the SDK 5.0 refuses for them)."""
        session = self.session
        names = resource_id.strip("/").split("/")
        path = "/".join(
            part if index % 2 == 0 else quote(part, safe="") for index, part in enumerate(names)
        )
        url = f"{session.target.service_path}/{path}"
        headers = {"Content-Type": "application/json"}
        if options.get("if_match"):
            headers["If-Match"] = str(options["if_match"])
        version = str(session.client._config.api_version)

        def put() -> Any:
            request = HttpRequest(
                "PUT", url, params={"api-version": version}, headers=headers, json=body
            )
            response = session.client._send_request(request, **session.options())
            if response.status_code not in _ACCEPTED:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            return response

        response = session.call(what, put, resource_id)
        if response.status_code == 202:
            self._wait(what, resource_id, response)

    def _wait(self, what: str, subject: str, accepted: Any) -> None:
        """Poll a long-running import until it is done (Location or Azure-AsyncOperation)."""
        session = self.session
        link = accepted.headers.get("Azure-AsyncOperation") or accepted.headers.get("Location")
        if not link:
            return
        if not same_origin(link, session.target.endpoint):
            raise BadAnswer(session.target.endpoint, what, "a status link to another host")
        asynchronous = "Azure-AsyncOperation" in accepted.headers
        deadline = time.monotonic() + IMPORT_DEADLINE
        delay = parse_retry_after(accepted.headers.get("Retry-After"))
        while True:
            time.sleep(POLL_INTERVAL if delay is None else delay)
            response = session.call(what, lambda: self._poll(link), subject)
            if _finished(response, asynchronous, what):
                return
            if time.monotonic() > deadline:
                raise CallFailed(what, None, "Timeout", "the import did not finish in time")
            delay = parse_retry_after(response.headers.get("Retry-After"))

    def _poll(self, link: str) -> Any:
        response = self.session.client._send_request(
            HttpRequest("GET", link), **self.session.options()
        )
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response

    # -- releases ----------------------------------------------------------------------

    def _release(self, change: Change) -> None:
        """Make the revision ``change`` writes the current one: a release, then its delete."""
        session = self.session
        api = last_segment(api_id_without_revision(change.resource_id))
        release = f"apimsync-current-{secrets.token_hex(4)}"
        what = f"make '{change.resource_id}' the current revision"
        body = {
            "properties": {
                "apiId": session.target.service_path + change.resource_id,
                "notes": "Made current by apimsync deploy",
            }
        }
        releases = session.operations("api_release")
        session.call(
            what,
            lambda: releases.create_or_update(
                session.rg, session.service, api, release, _stream(body), **session.options()
            ),
            change.resource_id,
        )
        session.call(
            what,
            lambda: releases.delete(
                session.rg, session.service, api, release, "*", **session.options()
            ),
            change.resource_id,
        )


COPIED_TO_REVISIONS = (
    "apiRevisionDescription",
    "apiVersionDescription",
    "description",
    "termsOfServiceUrl",
    "contact",
    "license",
)
"""What a new revision copies from the one it is made from (§4), which it may not have."""


def _cleared(change: Change) -> list[str]:
    """Properties an API write must clear (send as null): the ones an update removes, and
    those a new revision would copy from its source that the files do not give it."""
    if change.action is Action.UPDATE:
        return [
            field.path[1:]
            for field in change.fields
            if field.after is MISSING and field.path.count("/") == 1
        ]
    if change.action is Action.CREATE and REVISION in change.resource_id:
        return [key for key in COPIED_TO_REVISIONS if key not in change.resource.properties]
    return []


def _only_current_changes(change: Change) -> bool:
    """An update whose only difference is which revision is current: the release does it."""
    return (
        change.action is Action.UPDATE
        and bool(change.fields)
        and all(field.path == "/isCurrent" for field in change.fields)
    )


def _finished(response: Any, asynchronous: bool, what: str) -> bool:
    if asynchronous:
        status = str(_json(response).get("status", "")).casefold()
        if status in ("failed", "canceled", "cancelled"):
            error = _json(response).get("error") or {}
            code = str(error.get("code") or "ImportFailed") if isinstance(error, dict) else ""
            detail = str(error.get("message") or status) if isinstance(error, dict) else status
            raise CallFailed(what, None, code, detail)
        return status == "succeeded"
    return int(response.status_code) in _DONE


def _json(response: Any) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _stream(body: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(body).encode("utf-8"))
