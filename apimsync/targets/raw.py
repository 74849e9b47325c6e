"""Requests through the SDK client's own pipeline, answered as raw JSON.

``client._send_request`` (azure-core's documented way to send a request through a
client's pipeline) carries the same credential, per-call options (the request counter,
no azure-core retries, no redirects), transport and size limit as the SDK's methods, but
builds no SDK model: the generated methods deserialise every answer into models that
apimsync would only turn back into JSON, and for a page of a hundred APIs that costs ten
times the request itself. Reads ask for a stream, so azure-core's content decoder does
not parse the body as well: each answer is parsed exactly once, here.

URLs come from service-relative ids (:func:`resource_url`), each name quoted as the SDK
quotes it. An error answer raises as the SDK's methods raise it, so
:meth:`~apimsync.targets.calls.Session.call` retries and classifies it the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core.exceptions import ARMErrorFormat

from apimsync.targets.calls import BadAnswer, Session

API_VERSION = "2024-05-01"
ACCEPT_JSON = {"Accept": "application/json"}


def resource_url(session: Session, resource_id: str, **query: str) -> str:
    """The absolute URL of a service-relative id (or collection, ``/apis/a/operations``),
    each name quoted as the SDK quotes it (``/apis/a;rev=2`` -> ``.../apis/a%3Brev%3D2``)."""
    names = "/".join(quote(part, safe="") for part in resource_id.strip("/").split("/"))
    parameters = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    url = f"{session.target.endpoint}{session.target.service_path}/{names}"
    return f"{url}?api-version={API_VERSION}" + (f"&{parameters}" if parameters else "")


def send(session: Session, request: HttpRequest, *, stream: bool = False) -> HttpResponse:
    """One request through the client's pipeline; an error answer raises
    ``HttpResponseError`` (its body read, so the error code and message are known)."""
    response: HttpResponse = session.client._send_request(
        request, stream=stream, **session.options()
    )
    if response.status_code >= 300:
        response.read()
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response


@dataclass(frozen=True)
class JsonAnswer:
    """A JSON object the instance answered, and the answer's ``ETag`` (None without)."""

    body: dict[str, Any]
    etag: str | None


def get_json(session: Session, url: str, what: str, subject: str = "") -> JsonAnswer:
    """``GET url`` with retries; the answer must be a JSON object (or empty: ``{}``)."""

    def fetch() -> JsonAnswer:
        response = send(session, HttpRequest("GET", url, headers=ACCEPT_JSON), stream=True)
        body = json_object(session, what, response.read())
        etag = response.headers.get("ETag")
        return JsonAnswer(body, str(etag) if etag else None)

    return session.call(what, fetch, subject)


def json_object(session: Session, what: str, data: bytes) -> dict[str, Any]:
    """The JSON object ``data`` holds ({} for an empty body); :class:`BadAnswer` else."""
    try:
        body = json.loads(data) if data.strip() else {}
    except (ValueError, RecursionError):
        raise BadAnswer(session.target.endpoint, what, "the answer is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadAnswer(session.target.endpoint, what, "the answer is not a JSON object")
    return body
